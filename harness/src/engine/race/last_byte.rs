//! HTTP/1.1 last-byte synchronisation. All N connections are opened first (cold connections
//! would put handshakes inside the window), each request is sent but for its final byte, and
//! after a settle pause the final bytes are released in one tight loop. The spread is the time
//! from the first to the last released byte.

use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::model::{Burst, BurstRequest, RaceError, Release, SETTLE, Technique};
use super::{conn, response};

/// Sends `req.count` copies of the form POST, released together by last-byte sync.
pub async fn burst(req: BurstRequest<'_>) -> Result<Burst, RaceError> {
    let BurstRequest {
        url,
        headers,
        forms,
        own_headers,
        timeout,
        tls,
        addresses,
    } = req;
    let count = forms.len();
    let (host, port) = conn::host_port(url)?;
    let sending = |source| RaceError::Io {
        doing: "sending to",
        peer: format!("{host}:{port}"),
        source,
    };
    let mut target = url.path().to_owned();
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
    let head_of = |form: &str, own: Option<&Vec<(String, String)>>| {
        let mut request = format!(
            "POST {target} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: pkce-harness/{}\r\n",
            url.host_str()
                .map(|h| match url.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_owned(),
                })
                .unwrap_or_default(),
            form.len(),
            env!("CARGO_PKG_VERSION")
        );
        for (k, v) in headers.iter().chain(own.into_iter().flatten()) {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(form);
        request.into_bytes()
    };
    let requests: Vec<Vec<u8>> = forms
        .iter()
        .enumerate()
        .map(|(i, f)| head_of(f, own_headers.get(i)))
        .collect();

    let mut streams = Vec::with_capacity(count);
    for i in 0..count {
        let node = (!addresses.is_empty()).then(|| addresses[i % addresses.len()]);
        streams.push(conn::open(url, tls, &[conn::HTTP11], timeout, node).await?);
    }
    for (s, bytes) in streams.iter_mut().zip(&requests) {
        let head = &bytes[..bytes.len() - 1];
        s.write_all(head).await.map_err(sending)?;
        s.flush().await.map_err(sending)?;
    }
    // Let every partial request reach the server and be parsed up to the missing byte.
    tokio::time::sleep(SETTLE).await;
    let start = Instant::now();
    let mut end = start;
    for (s, bytes) in streams.iter_mut().zip(&requests) {
        let last = &bytes[bytes.len() - 1..];
        // One byte (one TLS record) into an empty socket buffer: ready at the first poll.
        s.write_all(last).await.map_err(sending)?;
        s.flush().await.map_err(sending)?;
        end = Instant::now();
    }
    let release = Release::Loop {
        spread: end - start,
    };
    let mut tasks = tokio::task::JoinSet::new();
    for (i, mut s) in streams.into_iter().enumerate() {
        tasks.spawn(async move {
            let mut buf = Vec::new();
            let read = tokio::time::timeout(timeout, async {
                let mut chunk = [0u8; 8192];
                loop {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            buf.extend_from_slice(&chunk[..n]);
                            if buf.len() > 1 << 16 {
                                break;
                            }
                        }
                    }
                }
            })
            .await;
            (i, read.is_ok(), buf)
        });
    }
    let mut statuses = vec![None; count];
    let mut successes = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (i, _, buf) = joined?;
        let answer = response::read(&buf);
        if let Some(a) = answer.as_ref().filter(|a| a.status == 200) {
            successes.push(a.body.clone());
        }
        statuses[i] = answer.map(|a| a.status);
    }
    Ok(Burst {
        technique: Technique::LastByte,
        statuses,
        successes,
        release,
    })
}
