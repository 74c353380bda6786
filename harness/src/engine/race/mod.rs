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
mod model;
mod response;
mod single_packet;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub use model::{Burst, BurstRequest, RaceError, Release, Technique, note, tally};

/// Sends the burst's form POSTs with `technique`, or the best one the target
/// speaks when `None`.
pub async fn burst(
    technique: Option<Technique>,
    req: BurstRequest<'_>,
) -> Result<Burst, RaceError> {
    if !matches!(req.url.scheme(), "http" | "https") {
        return Err(RaceError::NotHttp(req.url.clone()));
    }
    let technique = match technique {
        // One connection holds every stream of a single-packet burst, so it reaches one node:
        // a burst spread over several takes a connection per request.
        _ if req.addresses.len() > 1 => Technique::LastByte,
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
        let probe = conn::open(
            req.url,
            req.tls,
            &[conn::H2, conn::HTTP11],
            req.timeout,
            None,
        );
        return probe.await.is_ok_and(|c| c.alpn_h2);
    }
    match conn::host_port(req.url) {
        Ok((host, port)) => speaks_h2c(host, port, req.timeout).await,
        Err(_) => false,
    }
}

/// Whether the server answers the HTTP/2 prior-knowledge preface with a SETTINGS frame (RFC
/// 9113 §3.3). An HTTP/1.1-only server answers 400 or hangs up; either way, no.
async fn speaks_h2c(host: &str, port: u16, timeout: Duration) -> bool {
    let probe = async {
        let mut s = conn::connect(host, port, timeout).await.ok()?;
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
