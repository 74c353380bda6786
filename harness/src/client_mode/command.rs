//! The `command` driver: one login of the client under test. The command prints the
//! authorization URL it would open; the harness, as the user's browser, follows it through its
//! own server (and only there: the server under the harness's control is the one origin it
//! visits) until the server sends it to the client's redirect URI, and hands that URL to the
//! command on its standard input. The exit status is the client's verdict on the login. A
//! client that starts over (prints another authorization URL) is answered again, up to
//! [`MAX_AUTHORIZATIONS`] times in one login: the judges count them (a retry loop).

use std::time::Instant;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
use url::Url;

use super::browser::{DriverError, Ended, MAX_AUTHORIZATIONS, Stage, get, spawn, tail_of};
use crate::client_file::CommandDriver;
use crate::engine::http::HttpClient;

/// The most hops the browser follows on the server before it gives up.
const MAX_HOPS: usize = 10;

pub(super) async fn login(
    cmd: &CommandDriver,
    stage: &Stage<'_>,
    http: &HttpClient,
) -> Result<Ended, DriverError> {
    let started = Instant::now();
    let mut child = spawn(&cmd.run, stage, true)?;
    let pipe = |what: &str| DriverError::Pipe(format!("no {what}"));
    let mut stdin = child.stdin.take().ok_or_else(|| pipe("standard input"))?;
    let stdout = child.stdout.take().ok_or_else(|| pipe("standard output"))?;
    let stderr = child.stderr.take().ok_or_else(|| pipe("standard error"))?;
    // Read beside standard output, so a command that writes much there never blocks on a full
    // pipe; only the end is kept.
    let stderr = tokio::spawn(tail_of(stderr));
    let limit = cmd.timeout();
    let work = async {
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let mut trail = Vec::new();
        let start = stage.authorization.as_str();
        let mut opened = 0;
        while let Some(line) = lines
            .next_line()
            .await
            .map_err(|e| DriverError::Pipe(e.to_string()))?
        {
            let line = line.trim();
            if !line.starts_with(start) {
                continue;
            }
            opened += 1;
            let Some(url) = browse(line, stage, http, &mut trail).await else {
                break;
            };
            // A client that has gone away is not a fault of the harness: its exit says why.
            if stdin
                .write_all(format!("{url}\n").as_bytes())
                .await
                .is_err()
                || opened == MAX_AUTHORIZATIONS
            {
                break;
            }
        }
        // Standard input closes: a command still waiting learns no redirect will come.
        drop(stdin);
        // The rest of standard output is drained, so a chatty command never blocks on it.
        while lines.next_line().await.ok().flatten().is_some() {}
        let status = child
            .wait()
            .await
            .map_err(|e| DriverError::Pipe(e.to_string()))?;
        let err = stderr.await.unwrap_or_default();
        Ok(Ended {
            accepted: status.code() == Some(0),
            trail,
            stderr: String::from_utf8_lossy(&err).trim().to_owned(),
        })
    };
    match tokio::time::timeout(limit.saturating_sub(started.elapsed()), work).await {
        Ok(ended) => ended,
        Err(_) => Err(DriverError::Timeout {
            seconds: limit.as_secs(),
            setting: "driver.command.timeout_seconds",
        }),
    }
}

/// The browser: opens `start` and follows the server's redirects on its own origin until one
/// goes to the client's redirect URI, which it returns. A page, or a redirect anywhere else,
/// ends the walk with none (the client gets no redirect).
async fn browse(
    start: &str,
    stage: &Stage<'_>,
    http: &HttpClient,
    trail: &mut Vec<String>,
) -> Option<String> {
    let mut url = Url::parse(start).ok()?;
    for _ in 0..MAX_HOPS {
        if url.origin() != stage.issuer.origin() {
            let shown = crate::wire::without_query(&url);
            trail.push(format!("not followed: {shown} is not the harness's server"));
            return None;
        }
        let resp = get(&url, http, trail).await?;
        let next = url.join(resp.header("location")?).ok()?;
        if next.as_str().starts_with(stage.redirect_uri) {
            trail.push(format!("sent back to {}", stage.redirect_uri));
            return Some(next.to_string());
        }
        url = next;
    }
    trail.push(format!("more than {MAX_HOPS} redirects"));
    None
}
