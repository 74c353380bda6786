//! HTTP/2 single-packet: N streams on one connection, each sent but for the last byte of its
//! body; after a settle pause the N final DATA frames are encoded with the gate held and leave
//! in one `write`, so they share one TCP segment (loopback MTU 64 KiB; a few hundred bytes even
//! for N = 200; over TLS, as records of the same write). There is no spread between them; the
//! burst records the size of the write and how long the call took.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Burst, BurstRequest, Release, Technique, conn};

/// The longest the h2 client may take to encode the final frames once they are queued.
const ENCODE_LIMIT: Duration = Duration::from_secs(1);

/// Sends `req.count` copies of the form POST over one HTTP/2 connection (ALPN `h2` over TLS,
/// prior knowledge on cleartext), their final DATA frames released in one write.
pub async fn burst(req: BurstRequest<'_>) -> Result<Burst, String> {
    let BurstRequest {
        url,
        headers,
        forms,
        own_headers,
        timeout,
        tls,
    } = req;
    let count = forms.len();
    let (host, port) = super::host_port(url)?;
    if forms.iter().any(String::is_empty) {
        return Err("the race needs a request body to hold back".into());
    }
    let mut io = conn::open(url, tls, &[conn::H2], timeout).await?;
    if url.scheme() == "https" && !io.alpn_h2 {
        return Err(format!(
            "{host}:{port} did not choose HTTP/2 (ALPN h2); use the last-byte technique"
        ));
    }
    io.scan_h2();
    let (socket, gate, ends) = (
        Arc::clone(&io.socket),
        Arc::clone(&io.gate),
        Arc::clone(&io.stream_ends),
    );
    let h2_err = |what: &str, e: h2::Error| format!("HTTP/2 {what} with {host}:{port}: {e}");
    let (client, connection) = tokio::time::timeout(
        timeout,
        h2::client::Builder::new()
            .initial_window_size(1 << 20)
            .handshake::<_, Bytes>(io),
    )
    .await
    .map_err(|_| format!("HTTP/2 handshake with {host}:{port} timed out"))?
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
                .map_err(|_| {
                    format!(
                        "{host}:{port} allows fewer than {count} concurrent HTTP/2 streams; lower the race count"
                    )
                })?
                .map_err(|e| h2_err("stream", e))?;
            let mut req = http::Request::post(url.as_str())
                .header("content-type", "application/x-www-form-urlencoded")
                .header("content-length", form.len())
                .header(
                    "user-agent",
                    concat!("pkce-harness/", env!("CARGO_PKG_VERSION")),
                );
            for (k, v) in headers.iter().chain(own_headers.get(i).into_iter().flatten()) {
                req = req.header(k.to_ascii_lowercase(), v.as_str());
            }
            let req = req
                .body(())
                .map_err(|e| format!("building the HTTP/2 request: {e}"))?;
            let (response, mut send) = client
                .send_request(req, false)
                .map_err(|e| h2_err("request", e))?;
            send.send_data(Bytes::copy_from_slice(head), false)
                .map_err(|e| h2_err("request body", e))?;
            streams.push((response, send, last));
        }
        tokio::time::sleep(super::SETTLE).await;
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
                return Err(format!(
                    "the HTTP/2 client encoded {} of {count} final frames within {ENCODE_LIMIT:?}",
                    ends.load(Ordering::SeqCst) - before
                ));
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
            let (i, got) = joined.map_err(|e| e.to_string())?;
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
