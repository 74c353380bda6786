//! HTTP/2 single-packet: N streams on one connection, each sent but for the last byte of its
//! body; after a settle pause the N final DATA frames are encoded with the gate held and leave
//! in one `write`, so they share one TCP segment (loopback MTU 64 KiB; a few hundred bytes even
//! for N = 200; over TLS, as records of the same write). There is no spread between them; the
//! burst records the size of the write and how long the call took.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::conn;
use super::model::{Burst, BurstRequest, RaceError, Release, SETTLE, Technique};

/// The longest the h2 client may take to encode the final frames once they are queued.
const ENCODE_LIMIT: Duration = Duration::from_secs(1);

/// Sends `req.count` copies of the form POST over one HTTP/2 connection (ALPN `h2` over TLS,
/// prior knowledge on cleartext), their final DATA frames released in one write.
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
    let peer = || format!("{host}:{port}");
    if forms.iter().any(String::is_empty) {
        return Err(RaceError::EmptyBody);
    }
    // One connection: to the one address given, else wherever the host resolves.
    let node = (addresses.len() == 1).then(|| addresses[0]);
    let mut io = conn::open(url, tls, &[conn::H2], timeout, node).await?;
    if url.scheme() == "https" && !io.alpn_h2 {
        return Err(RaceError::NotH2 { peer: peer() });
    }
    io.scan_h2();
    let (socket, gate, ends) = (
        Arc::clone(&io.socket),
        Arc::clone(&io.gate),
        Arc::clone(&io.stream_ends),
    );
    let h2_err = |what: &'static str, source: h2::Error| RaceError::H2 {
        what,
        peer: peer(),
        source,
    };
    let (client, connection) = tokio::time::timeout(
        timeout,
        h2::client::Builder::new()
            .initial_window_size(1 << 20)
            .handshake::<_, Bytes>(io),
    )
    .await
    .map_err(|_| RaceError::Timeout {
        doing: "HTTP/2 handshake with",
        peer: peer(),
    })?
    .map_err(|e| h2_err("handshake", e))?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let result = async {
        let mut client = client;
        let mut streams = Vec::with_capacity(count);
        for (i, form) in forms.iter().enumerate() {
            let (head, last) = form.as_bytes().split_at(form.len() - 1);
            client = tokio::time::timeout(timeout, client.ready())
                .await
                .map_err(|_| RaceError::TooFewStreams {
                    peer: peer(),
                    count,
                })?
                .map_err(|e| h2_err("stream", e))?;
            let mut req = http::Request::post(url.as_str())
                .header("content-type", "application/x-www-form-urlencoded")
                .header("content-length", form.len())
                .header(
                    "user-agent",
                    concat!("pkce-harness/", env!("CARGO_PKG_VERSION")),
                );
            for (k, v) in headers
                .iter()
                .chain(own_headers.get(i).into_iter().flatten())
            {
                req = req.header(k.to_ascii_lowercase(), v.as_str());
            }
            let req = req.body(())?;
            let (response, mut send) = client
                .send_request(req, false)
                .map_err(|e| h2_err("request", e))?;
            send.send_data(Bytes::copy_from_slice(head), false)
                .map_err(|e| h2_err("request body", e))?;
            streams.push((response, send, last));
        }
        tokio::time::sleep(SETTLE).await;
        gate.hold();
        let before = ends.load(Ordering::SeqCst);
        for (_, send, last) in &mut streams {
            send.send_data(Bytes::copy_from_slice(last), true)
                .map_err(|e| h2_err("final frame", e))?;
        }
        let deadline = Instant::now() + ENCODE_LIMIT;
        // The h2 client encodes the queued frames on its connection task; once it has written
        // them all, the gate below any TLS holds every byte of them.
        while ends.load(Ordering::SeqCst) - before < count {
            if Instant::now() > deadline {
                return Err(RaceError::Encoding {
                    encoded: ends.load(Ordering::SeqCst) - before,
                    count,
                    limit: ENCODE_LIMIT,
                });
            }
            tokio::task::yield_now().await;
        }
        let (bytes, call) = gate.release(&socket)?;
        let mut tasks = tokio::task::JoinSet::new();
        for (i, (response, send, _)) in streams.into_iter().enumerate() {
            tasks.spawn(async move {
                let _send = send;
                let got = tokio::time::timeout(timeout, async {
                    let resp = response.await.ok()?;
                    let status = resp.status().as_u16();
                    let mut body = resp.into_body();
                    let mut buf = Vec::new();
                    while let Some(chunk) = body.data().await {
                        let chunk = chunk.ok()?;
                        let _ = body.flow_control().release_capacity(chunk.len());
                        buf.extend_from_slice(&chunk);
                        if buf.len() > 1 << 16 {
                            break;
                        }
                    }
                    Some((status, buf))
                })
                .await
                .ok()
                .flatten();
                (i, got)
            });
        }
        let mut statuses = vec![None; count];
        let mut successes = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (i, got) = joined?;
            if let Some((status, body)) = got {
                if status == 200 {
                    successes.push(String::from_utf8_lossy(&body).into_owned());
                }
                statuses[i] = Some(status);
            }
        }
        Ok(Burst {
            technique: Technique::H2SinglePacket,
            statuses,
            successes,
            release: Release::OneWrite { bytes, call },
        })
    }
    .await;
    driver.abort();
    result
}
