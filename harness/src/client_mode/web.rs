//! The `http` driver: a web app under test. Its program is started once per harness server,
//! with the client's environment, and stopped after that server's logins; each login is the
//! harness's browser opening the app's login URL and following redirects between the app and
//! the harness's server (those origins only) until a page ends it. The app accepted the login
//! if that page is a 2xx one showing the success text. A browser sent to the authorization
//! endpoint more than [`MAX_AUTHORIZATIONS`] times in one login stops there: the app is
//! looping, and the judges count the requests.

use std::time::{Duration, Instant};

use tokio::process::Child;
use tokio::task::JoinHandle;
use url::Url;

use super::browser::{DriverError, Ended, MAX_AUTHORIZATIONS, Stage, get, spawn, tail_of};
use crate::client_file::{HttpDriver, Served};
use crate::engine::http::HttpClient;

/// The most hops of one login: a few on each side, and a looping app's rounds up to the cap.
const MAX_HOPS: usize = 6 * MAX_AUTHORIZATIONS;

/// The web app, running.
pub(super) struct App {
    child: Child,
    stderr: JoinHandle<Vec<u8>>,
}

impl App {
    /// Starts the app and waits until its URL's address takes connections.
    pub async fn start(web: &dyn Served, stage: &Stage<'_>) -> Result<Self, DriverError> {
        let mut child = spawn(web.run(), stage, false)?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| DriverError::Pipe("no standard error".into()))?;
        let mut app = Self {
            child,
            stderr: tokio::spawn(tail_of(stderr)),
        };
        let url = Url::parse(web.url()).map_err(|e| DriverError::App(e.to_string()))?;
        let addr = url
            .socket_addrs(|| None)
            .ok()
            .and_then(|a| a.into_iter().next())
            .ok_or_else(|| DriverError::App(format!("{} has no address", web.url())))?;
        let started = Instant::now();
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Ok(app);
            }
            if let Ok(Some(status)) = app.child.try_wait() {
                let said = app.stop().await;
                return Err(DriverError::App(format!(
                    "it exited ({status}) before listening on {addr}: {said}"
                )));
            }
            if started.elapsed() > web.start_limit() {
                let said = app.stop().await;
                return Err(DriverError::App(format!(
                    "nothing listened on {addr} within {} s (start_seconds): {said}",
                    web.start_limit().as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the app; returns the end of what it wrote on its standard error.
    pub async fn stop(mut self) -> String {
        // Killed and reaped, so its port is free for the next scenario's app.
        let _ = self.child.kill().await;
        let err = self.stderr.await.unwrap_or_default();
        String::from_utf8_lossy(&err).trim().to_owned()
    }
}

/// One login: the browser from the app's login URL to the page that ends it.
pub(super) async fn login(
    web: &HttpDriver,
    stage: &Stage<'_>,
    http: &HttpClient,
) -> Result<Ended, DriverError> {
    let walk = walk(web, stage, http);
    tokio::time::timeout(web.timeout(), walk)
        .await
        .map_err(|_| DriverError::Timeout {
            seconds: web.timeout().as_secs(),
            setting: "driver.http.timeout_seconds",
        })
}

async fn walk(web: &HttpDriver, stage: &Stage<'_>, http: &HttpClient) -> Ended {
    let mut trail = Vec::new();
    let refused = |trail| Ended {
        accepted: false,
        trail,
        stderr: String::new(),
    };
    let Ok(mut url) = Url::parse(&web.login_url) else {
        return refused(trail);
    };
    let app = url.origin();
    let back = Url::parse(stage.redirect_uri).map(|u| u.origin()).ok();
    let mut opened = 0;
    for _ in 0..MAX_HOPS {
        let origin = url.origin();
        if origin != app && origin != stage.issuer.origin() && Some(&origin) != back.as_ref() {
            let shown = crate::wire::without_query(&url);
            trail.push(format!(
                "not followed: {shown} is neither the app nor the harness's server"
            ));
            return refused(trail);
        }
        if stage.is_authorization(&url) {
            opened += 1;
            if opened > MAX_AUTHORIZATIONS {
                trail.push(format!(
                    "stopped: sent to the authorization endpoint a {opened}th time in one login"
                ));
                return refused(trail);
            }
        }
        let Some(resp) = get(&url, http, &mut trail).await else {
            return refused(trail);
        };
        if resp.is_redirect() {
            match resp.header("location").and_then(|l| url.join(l).ok()) {
                Some(next) => url = next,
                None => return refused(trail),
            }
            continue;
        }
        let shows = web
            .success_text
            .as_deref()
            .is_none_or(|t| resp.body.contains(t));
        let accepted = (200..300).contains(&resp.status) && shows;
        trail.push(format!(
            "the app's page says the login was {}",
            if accepted { "accepted" } else { "refused" }
        ));
        return Ended {
            accepted,
            trail,
            stderr: String::new(),
        };
    }
    trail.push(format!("more than {MAX_HOPS} redirects"));
    refused(trail)
}
