//! What both drivers share: where a login takes place, how it ended, why it could not be
//! driven, and the browser's single step (a GET in the login's browser session, written down
//! without its query, where codes travel).

use url::Url;

use crate::engine::http::{Channel, HttpClient, Request};
use crate::wire::Response;

/// Where one login takes place.
pub(super) struct Stage<'a> {
    /// The harness's server: the browser follows redirects on this origin.
    pub issuer: &'a Url,
    /// Its authorization endpoint: a client's login starts there.
    pub authorization: &'a Url,
    /// The client's registered redirect URI.
    pub redirect_uri: &'a str,
    /// The client's environment.
    pub env: &'a [(&'static str, String)],
    /// Where its program runs.
    pub dir: &'a std::path::Path,
    /// The run's browser, for the `browser` driver (started on first use).
    pub chromium: &'a crate::engine::chromium::Shared,
}

impl Stage<'_> {
    /// Whether `url` is the authorization endpoint (a login starting).
    pub fn is_authorization(&self, url: &Url) -> bool {
        url.origin() == self.authorization.origin() && url.path() == self.authorization.path()
    }
}

/// How a login ended.
#[derive(Debug)]
pub(super) struct Ended {
    /// Whether the client says it accepted the login.
    pub accepted: bool,
    /// What the browser saw, one line per hop.
    pub trail: Vec<String>,
    /// The end of what the client wrote on its standard error, for the reason shown.
    pub stderr: String,
}

/// Why a login could not be driven (the check is `error`).
#[derive(Debug, thiserror::Error)]
pub(super) enum DriverError {
    /// The program could not start.
    #[error("cannot run {program}: {reason}")]
    Spawn { program: String, reason: String },
    /// The web app stopped, or never listened.
    #[error("the app did not come up: {0}")]
    App(String),
    /// A login did not finish in time.
    #[error("the login did not end within {seconds} s ({setting}); it was stopped")]
    Timeout { seconds: u64, setting: &'static str },
    /// Reading or writing a pipe failed.
    #[error("talking to the command: {0}")]
    Pipe(String),
}

/// The most authorization requests of one login the browser makes; a client that starts over
/// more often is looping, and the browser stops there.
pub(super) const MAX_AUTHORIZATIONS: usize = 4;

/// GETs `url` in the browser session `http`, noting it in `trail`; `None` when nothing came
/// back (also noted).
pub(super) async fn get(url: &Url, http: &HttpClient, trail: &mut Vec<String>) -> Option<Response> {
    let shown = crate::wire::without_query(url);
    let mut req = Request::get(url.clone());
    req.channel = Channel::Front;
    match http.send(&req).await {
        Ok(resp) => {
            trail.push(format!("GET {shown} -> {}", resp.status));
            Some(resp)
        }
        Err(e) => {
            trail.push(format!("GET {shown}: {e}"));
            None
        }
    }
}

/// Starts the client's program (`run`: the program and its arguments) in its folder with its
/// environment, standard error piped; `talks` pipes standard input and output too (the
/// `command` driver's protocol), else they are closed. Killed when dropped.
pub(super) fn spawn(
    run: &[String],
    stage: &Stage<'_>,
    talks: bool,
) -> Result<tokio::process::Child, DriverError> {
    use std::process::Stdio;
    let program = run.first().ok_or_else(|| DriverError::Spawn {
        program: String::new(),
        reason: "no program to run".into(),
    })?;
    let io = || if talks { Stdio::piped() } else { Stdio::null() };
    tokio::process::Command::new(program)
        .args(&run[1..])
        .current_dir(stage.dir)
        .envs(stage.env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(io())
        .stdout(io())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| DriverError::Spawn {
            program: program.clone(),
            reason: e.to_string(),
        })
}

/// The most of a program's standard error kept: its end, where a failing program says why.
const KEEP: usize = 600;

/// Reads `from` to its end, keeping the last [`KEEP`] bytes.
pub(super) async fn tail_of(mut from: impl tokio::io::AsyncRead + Unpin) -> Vec<u8> {
    use tokio::io::AsyncReadExt as _;
    let mut kept = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = from.read(&mut buf).await {
        kept.extend_from_slice(&buf[..n]);
        if kept.len() > KEEP {
            kept.drain(..kept.len() - KEEP);
        }
    }
    kept
}
