//! What a burst is asked to send, what it measured, and why it could not be sent: the types
//! both techniques share, apart from the dispatch between them.

use std::io;
use std::net::IpAddr;
use std::time::Duration;

use url::Url;

use crate::engine::tls::{Tls, TlsError};
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
pub const SETTLE: Duration = Duration::from_millis(50);

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
    /// The addresses the connections go to, round-robin, each a node of the token host (the
    /// name still what TLS verifies and `Host` says); empty: wherever the host resolves.
    pub addresses: &'a [IpAddr],
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

/// Why a burst could not be sent: the race is `error`, never judged, on any of these.
#[derive(Debug, thiserror::Error)]
pub enum RaceError {
    /// The token endpoint is not an HTTP URL.
    #[error("the race step speaks HTTP; {0} is not")]
    NotHttp(Url),
    /// The token endpoint URL has no host.
    #[error("token endpoint URL has no host")]
    NoHost,
    /// The token endpoint URL has no port, and its scheme none by default.
    #[error("token endpoint URL has no port")]
    NoPort,
    /// A connection, handshake or write did not finish within the time limit.
    #[error("{doing} {peer} timed out")]
    Timeout {
        /// "connecting to", "TLS handshake with", "HTTP/2 handshake with".
        doing: &'static str,
        /// `host:port`.
        peer: String,
    },
    /// The socket failed.
    #[error("{doing} {peer}: {source}")]
    Io {
        /// "connecting to", "TLS handshake with", "sending to", "reading from".
        doing: &'static str,
        /// `host:port`.
        peer: String,
        /// What the socket said.
        source: io::Error,
    },
    /// The host is not a name TLS can verify.
    #[error("{host}: not a TLS server name: {source}")]
    ServerName {
        /// The token endpoint's host.
        host: String,
        /// Why not.
        source: tokio_rustls::rustls::pki_types::InvalidDnsNameError,
    },
    /// The TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The server did not choose HTTP/2 though the single-packet technique was asked for.
    #[error("{peer} did not choose HTTP/2 (ALPN h2); use the last-byte technique")]
    NotH2 {
        /// `host:port`.
        peer: String,
    },
    /// The server allows fewer concurrent streams than the burst has requests.
    #[error("{peer} allows fewer than {count} concurrent HTTP/2 streams; lower the race count")]
    TooFewStreams {
        /// `host:port`.
        peer: String,
        /// Requests in the burst.
        count: usize,
    },
    /// An HTTP/2 exchange failed.
    #[error("HTTP/2 {what} with {peer}: {source}")]
    H2 {
        /// "handshake", "stream", "request", "request body", "final frame".
        what: &'static str,
        /// `host:port`.
        peer: String,
        /// What the h2 client said.
        source: h2::Error,
    },
    /// The HTTP/2 request could not be built (a header the server's metadata made invalid).
    #[error("building the HTTP/2 request: {0}")]
    Request(#[from] http::Error),
    /// A form body is empty: there is no final byte to hold back.
    #[error("the race needs a request body to hold back")]
    EmptyBody,
    /// The h2 client did not encode every final frame in time.
    #[error("the HTTP/2 client encoded {encoded} of {count} final frames within {limit:?}")]
    Encoding {
        /// Final frames encoded.
        encoded: usize,
        /// Requests in the burst.
        count: usize,
        /// How long it had.
        limit: Duration,
    },
    /// The kernel took only part of the held bytes in the one write.
    #[error("the socket took {took} of the burst's {held} bytes in one write")]
    PartialWrite {
        /// Bytes written.
        took: usize,
        /// Bytes held.
        held: usize,
    },
    /// The one write failed.
    #[error("releasing the burst: {0}")]
    Release(io::Error),
    /// A task reading one response panicked or was cancelled.
    #[error("a burst task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}
