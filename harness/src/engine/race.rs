//! Concurrent redemption of one authorization code (REQ-58, BUG-12): N requests released at
//! the same instant, so a server with a check-then-consume window issues tokens more than once.
//!
//! Technique: HTTP/1.1 last-byte synchronisation. All N connections are opened first (cold
//! connections would put handshakes inside the window), each request is sent but for its final
//! byte, and after a settle pause the final bytes are released in one tight loop. The spread is
//! the time from the first to the last released byte.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

/// The outcome of one burst.
#[derive(Debug, Clone)]
pub struct Burst {
    /// Status of each response (`None`: no response within the time limit).
    pub statuses: Vec<Option<u16>>,
    /// Bodies of the 200 responses (for the tokens they carry).
    pub successes: Vec<String>,
    /// First to last released byte.
    pub spread: Duration,
}

/// Sends `count` copies of a form POST to `url`, released together by last-byte sync.
pub async fn last_byte_burst(
    url: &Url,
    headers: &[(String, String)],
    form: &str,
    count: usize,
    timeout: Duration,
) -> Result<Burst, String> {
    if url.scheme() != "http" {
        return Err(format!(
            "the race step speaks plain HTTP/1.1 only; {} is {}",
            crate::engine::http::without_query(url),
            url.scheme()
        ));
    }
    let host = url.host_str().ok_or("token endpoint URL has no host")?;
    let port = url
        .port_or_known_default()
        .ok_or("token endpoint URL has no port")?;
    let mut target = url.path().to_owned();
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
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
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(form);
    let bytes = request.into_bytes();
    let (head, last) = bytes.split_at(bytes.len() - 1);

    let mut streams = Vec::with_capacity(count);
    for _ in 0..count {
        let s = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
            .await
            .map_err(|_| format!("connecting to {host}:{port} timed out"))?
            .map_err(|e| format!("connecting to {host}:{port}: {e}"))?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        streams.push(s);
    }
    for s in &mut streams {
        s.write_all(head)
            .await
            .map_err(|e| format!("sending to {host}:{port}: {e}"))?;
        s.flush().await.map_err(|e| e.to_string())?;
    }
    // Let every partial request reach the server and be parsed up to the missing byte.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let start = Instant::now();
    let mut end = start;
    for s in &mut streams {
        // One byte into an empty socket buffer: try_write does not wait.
        match s.try_write(last) {
            Ok(1) => {}
            _ => s.write_all(last).await.map_err(|e| e.to_string())?,
        }
        end = Instant::now();
    }
    let spread = end - start;
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
        let (i, _, buf) = joined.map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&buf);
        let status = text.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok());
        if status == Some(200) {
            successes.push(
                text.split_once("\r\n\r\n")
                    .map_or(String::new(), |(_, b)| b.to_owned()),
            );
        }
        statuses[i] = status;
    }
    Ok(Burst {
        statuses,
        successes,
        spread,
    })
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
