//! The `command` driver: one login of the client under test. The command prints the
//! authorization URL it would open; the harness, as the user's browser, follows it through its
//! own server (and only there: the server under the harness's control is the one origin it
//! visits) until the server sends it to the client's redirect URI, and hands that URL to the
//! command on its standard input. The exit status is the client's verdict on the login. A
//! client that starts over (prints another authorization URL) is answered again, up to
//! [`MAX_AUTHORIZATIONS`] times in one login: the judges count them (a retry loop).

use std::process::Stdio;
use std::time::Instant;

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::Command;
use url::Url;

use crate::client_file::CommandDriver;
use crate::engine::http::{Channel, HttpClient, Request};

/// Where one login takes place.
pub(super) struct Stage<'a> {
    /// The harness's server: the browser follows redirects on this origin only.
    pub issuer: &'a Url,
    /// Its authorization endpoint: the line the command prints must start with it.
    pub authorization: &'a Url,
    /// The client's registered redirect URI.
    pub redirect_uri: &'a str,
    /// The command's environment.
    pub env: &'a [(&'static str, String)],
    /// Where the command runs.
    pub dir: &'a std::path::Path,
}

/// How a login ended.
#[derive(Debug)]
pub(super) struct Ended {
    /// The exit status (`None`: killed by a signal).
    pub status: Option<i32>,
    /// What the browser saw, one line per hop.
    pub trail: Vec<String>,
    /// The end of the command's standard error, for the reason shown.
    pub stderr: String,
}

/// Why a login could not be driven (the check is `error`).
#[derive(Debug, thiserror::Error)]
pub(super) enum DriverError {
    /// The command could not start.
    #[error("cannot run {program}: {reason}")]
    Spawn { program: String, reason: String },
    /// It did not finish in time.
    #[error(
        "the login did not end within {seconds} s (driver.command.timeout_seconds); the command was stopped"
    )]
    Timeout { seconds: u64 },
    /// Reading or writing its pipes failed.
    #[error("talking to the command: {0}")]
    Pipe(String),
}

/// The most hops the browser follows on the server before it gives up.
const MAX_HOPS: usize = 10;

/// The most authorization URLs of one login the browser opens; a client that prints more is
/// looping, and its further ones get no answer (its standard input closes).
pub(super) const MAX_AUTHORIZATIONS: usize = 4;

pub(super) async fn login(
    cmd: &CommandDriver,
    stage: &Stage<'_>,
    http: &HttpClient,
) -> Result<Ended, DriverError> {
    let started = Instant::now();
    let program = &cmd.run[0];
    let mut child = Command::new(program)
        .args(&cmd.run[1..])
        .current_dir(stage.dir)
        .envs(stage.env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| DriverError::Spawn {
            program: program.clone(),
            reason: e.to_string(),
        })?;
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
            status: status.code(),
            trail,
            stderr: String::from_utf8_lossy(&err).trim().to_owned(),
        })
    };
    match tokio::time::timeout(limit.saturating_sub(started.elapsed()), work).await {
        Ok(ended) => ended,
        Err(_) => Err(DriverError::Timeout {
            seconds: limit.as_secs(),
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
            trail.push(format!("not followed: {url} is not the harness's server"));
            return None;
        }
        let mut req = Request::get(url.clone());
        req.channel = Channel::Front;
        let resp = match http.send(&req).await {
            Ok(r) => r,
            Err(e) => {
                trail.push(format!("GET {}: {e}", url.path()));
                return None;
            }
        };
        trail.push(format!("GET {} -> {}", url.path(), resp.status));
        let location = resp.header("location")?;
        let next = url.join(location).ok()?;
        if next.as_str().starts_with(stage.redirect_uri) {
            trail.push(format!("sent back to {}", stage.redirect_uri));
            return Some(next.to_string());
        }
        url = next;
    }
    trail.push(format!("more than {MAX_HOPS} redirects"));
    None
}

/// The most of a command's standard error kept: its end, where a failing command says why.
const KEEP: usize = 600;

/// Reads `from` to its end, keeping the last [`KEEP`] bytes.
async fn tail_of(mut from: tokio::process::ChildStderr) -> Vec<u8> {
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
