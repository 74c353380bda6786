//! Concurrent redemption of one authorization code (REQ-58, BUG-12): N requests released at
//! the same instant, so a server with a check-then-consume window issues tokens more than once.
//!
//! Two techniques. `single_packet` (HTTP/2): N streams on one connection, their final DATA
//! frames held and written in one `write`, so they arrive in one TCP segment and the server
//! reads them together; chosen automatically when the target speaks HTTP/2 (ALPN `h2` over TLS,
//! the prior-knowledge preface on cleartext). `last_byte` (HTTP/1.1): N connections, each
//! request's final byte released in a tight loop; the fallback for HTTP/1.1-only servers. Both
//! work over TLS, verified as every other request is.

pub(crate) mod conn;
mod gate;
mod last_byte;
mod single_packet;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

use crate::engine::http::Tls;
pub use crate::scenario::model::Technique;

/// The outcome of one burst.
#[derive(Debug, Clone)]
pub struct Burst {
    /// How it was sent.
    pub technique: Technique,
    /// Status of each response (`None`: no response within the time limit).
    pub statuses: Vec<Option<u16>>,
    /// Bodies of the 200 responses (for the tokens they carry).
    pub successes: Vec<String>,
    /// How the final bytes left.
    pub release: Release,
}

impl Burst {
    /// The successful responses' bodies that are JSON.
    pub fn json_bodies(&self) -> Vec<serde_json::Value> {
        self.successes
            .iter()
            .filter_map(|b| serde_json::from_str(b).ok())
            .collect()
    }

    /// The status the burst's evidence shows: 200 when any request succeeded, else the lowest.
    pub fn shown_status(&self) -> Option<u16> {
        if self.successes.is_empty() {
            self.statuses.iter().flatten().copied().min()
        } else {
            Some(200)
        }
    }

    /// One line for the evidence: how the burst left and what came back.
    pub fn summary(&self, trial: usize, count: usize) -> String {
        let bodies = self.json_bodies();
        let distinct: std::collections::BTreeSet<&str> = bodies
            .iter()
            .filter_map(|v| v.get("access_token").and_then(|t| t.as_str()))
            .collect();
        format!(
            "trial {trial}: {count} requests released by {} {}: {} ({} distinct access tokens)",
            self.technique.as_str(),
            self.release.describe(),
            tally(&self.statuses),
            distinct.len()
        )
    }
}

/// The measurements of a race step, kept in the verdict's reason whatever it is.
pub fn note(
    per_trial: &[usize],
    trials: usize,
    count: usize,
    technique: Option<Technique>,
    spreads_us: &mut [u128],
) -> String {
    spreads_us.sort_unstable();
    let release = match technique {
        Some(Technique::H2SinglePacket) => "each burst in one write, no send spread".to_owned(),
        _ => format!(
            "send spread median {} µs, max {} µs",
            spreads_us.get(spreads_us.len() / 2).copied().unwrap_or(0),
            spreads_us.last().copied().unwrap_or(0)
        ),
    };
    format!(
        "race: {} of up to {trials} trial(s) x {count} requests, technique {}, successes per trial {per_trial:?}, {release}",
        per_trial.len(),
        technique.map_or("none", Technique::as_str),
    )
}

/// How a burst's final bytes left the harness.
#[derive(Debug, Clone, Copy)]
pub enum Release {
    /// One write per connection in a tight loop; `spread` is first to last write.
    Loop {
        /// First to last released final byte.
        spread: Duration,
    },
    /// Every final frame in one write: no spread between them by construction.
    OneWrite {
        /// Bytes in the write.
        bytes: usize,
        /// How long the call took (on loopback it includes the kernel delivering the segment,
        /// and waking an idle receiver).
        call: Duration,
    },
}

impl Release {
    /// First to last released final byte.
    pub fn spread(self) -> Duration {
        match self {
            Self::Loop { spread } => spread,
            Self::OneWrite { .. } => Duration::ZERO,
        }
    }

    /// "within 104 µs", "in one write of 230 bytes (the call took 12 µs)".
    pub fn describe(self) -> String {
        match self {
            Self::Loop { spread } => format!("within {} µs", spread.as_micros()),
            Self::OneWrite { bytes, call } => format!(
                "in one write of {bytes} bytes (the call took {} µs)",
                call.as_micros()
            ),
        }
    }
}

/// Pause between sending all but the final bytes and releasing them, so every partial request
/// has reached the server and been parsed up to what is missing.
const SETTLE: Duration = Duration::from_millis(50);

/// One burst: what to send, where, and how TLS is verified.
#[derive(Debug, Clone, Copy)]
pub struct BurstRequest<'a> {
    /// The token endpoint.
    pub url: &'a Url,
    /// Extra headers (client authentication).
    pub headers: &'a [(String, String)],
    /// The form bodies, one per request of the burst: identical but for what must be fresh
    /// per request (a client assertion's `jti`, RFC 7523 §3).
    pub forms: &'a [String],
    /// Headers of each request beside `headers`, one list per form (a DPoP proof, fresh per
    /// request: RFC 9449 §11.1); empty lists when none.
    pub own_headers: &'a [Vec<(String, String)>],
    /// Per connection and per response.
    pub timeout: Duration,
    /// TLS verification, as for every other request.
    pub tls: &'a Tls,
}

/// Sends the burst's form POSTs with `technique`, or the best one the target
/// speaks when `None`.
pub async fn burst(technique: Option<Technique>, req: BurstRequest<'_>) -> Result<Burst, String> {
    if !matches!(req.url.scheme(), "http" | "https") {
        return Err(format!("the race step speaks HTTP; {} is not", req.url));
    }
    let technique = match technique {
        Some(t) => t,
        None if speaks_h2(&req).await => Technique::H2SinglePacket,
        None => Technique::LastByte,
    };
    match technique {
        Technique::LastByte => last_byte::burst(req).await,
        Technique::H2SinglePacket => single_packet::burst(req).await,
    }
}

/// Whether the target speaks HTTP/2: ALPN over TLS, the prior-knowledge preface on cleartext.
async fn speaks_h2(req: &BurstRequest<'_>) -> bool {
    if req.url.scheme() == "https" {
        let probe = conn::open(req.url, req.tls, &[conn::H2, conn::HTTP11], req.timeout);
        return probe.await.is_ok_and(|c| c.alpn_h2);
    }
    match host_port(req.url) {
        Ok((host, port)) => speaks_h2c(host, port, req.timeout).await,
        Err(_) => false,
    }
}

/// Whether the server answers the HTTP/2 prior-knowledge preface with a SETTINGS frame (RFC
/// 9113 §3.3). An HTTP/1.1-only server answers 400 or hangs up; either way, no.
async fn speaks_h2c(host: &str, port: u16, timeout: Duration) -> bool {
    let probe = async {
        let mut s = connect(host, port, timeout).await.ok()?;
        s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
            .await
            .ok()?;
        let mut head = [0u8; 9];
        s.read_exact(&mut head).await.ok()?;
        Some(head[3] == 0x4 && head[5..9] == [0, 0, 0, 0])
    };
    tokio::time::timeout(timeout.min(Duration::from_secs(2)), probe)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

fn host_port(url: &Url) -> Result<(&str, u16), String> {
    let host = url.host_str().ok_or("token endpoint URL has no host")?;
    let port = url
        .port_or_known_default()
        .ok_or("token endpoint URL has no port")?;
    Ok((host, port))
}

/// A warm connection with Nagle off, so a small write leaves at once.
async fn connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, String> {
    let s = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
        .await
        .map_err(|_| format!("connecting to {host}:{port} timed out"))?
        .map_err(|e| format!("connecting to {host}:{port}: {e}"))?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(s)
}

/// "200×1, 400×19" for a burst.
pub fn tally(statuses: &[Option<u16>]) -> String {
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for s in statuses {
        *counts
            .entry(s.map_or("none".to_owned(), |s| s.to_string()))
            .or_default() += 1;
    }
    counts
        .iter()
        .map(|(k, v)| format!("{k}×{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
