//! HTTP/2 single-packet: N streams on one connection, each sent but for the last byte of its
//! body; after a settle pause the N final DATA frames are encoded with the gate held and leave
//! in one `write`, so they share one TCP segment (loopback MTU 64 KiB; a few hundred bytes even
//! for N = 200). The spread is the duration of that one call.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use url::Url;

use super::gate::{Gate, GatedIo};
use super::{Burst, Technique};

/// The longest the h2 client may take to encode the final frames once they are queued.
const ENCODE_LIMIT: Duration = Duration::from_secs(1);

/// Sends `count` copies of a form POST to `url` over one HTTP/2 (prior knowledge) connection,
/// their final DATA frames released in one write.
pub async fn burst(
    url: &Url,
    headers: &[(String, String)],
    form: &str,
    count: usize,
    timeout: Duration,
) -> Result<Burst, String> {
    let (host, port) = super::host_port(url)?;
    let Some(split) = form.len().checked_sub(1) else {
        return Err("the race needs a request body to hold back".into());
    };
    let (head, last) = form.as_bytes().split_at(split);
    let socket = Arc::new(super::connect(host, port, timeout).await?);
    let gate = Arc::new(Gate::default());
    let io = GatedIo {
        socket: Arc::clone(&socket),
        gate: Arc::clone(&gate),
    };
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
        for _ in 0..count {
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
            for (k, v) in headers {
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
            streams.push((response, send));
        }
        tokio::time::sleep(super::SETTLE).await;
        gate.hold();
        for (_, send) in &mut streams {
            send.send_data(Bytes::copy_from_slice(last), true)
                .map_err(|e| h2_err("final frame", e))?;
        }
        let deadline = Instant::now() + ENCODE_LIMIT;
        while final_frames(&gate.held()) < count {
            if Instant::now() > deadline {
                return Err(format!(
                    "the HTTP/2 client encoded {} of {count} final frames within {ENCODE_LIMIT:?}",
                    final_frames(&gate.held())
                ));
            }
            tokio::task::yield_now().await;
        }
        let spread = gate.release(&socket)?;
        let mut tasks = tokio::task::JoinSet::new();
        for (i, (response, send)) in streams.into_iter().enumerate() {
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
            spread,
        })
    }
    .await;
    driver.abort();
    result
}

/// How many DATA frames with END_STREAM `bytes` holds (RFC 9113 §4.1: 24-bit length, type,
/// flags, stream id). The gate is shut between frames, so `bytes` starts at a frame header.
fn final_frames(bytes: &[u8]) -> usize {
    let mut count = 0;
    let mut rest = bytes;
    while rest.len() >= 9 {
        let len = usize::from(rest[0]) << 16 | usize::from(rest[1]) << 8 | usize::from(rest[2]);
        if rest[3] == 0x0 && rest[4] & 0x1 != 0 {
            count += 1;
        }
        rest = rest.get(9 + len..).unwrap_or_default();
    }
    count
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_only_data_frames_that_end_a_stream() {
        let data_end = [0, 0, 1, 0x0, 0x1, 0, 0, 0, 1, b'x'];
        let data_more = [0, 0, 1, 0x0, 0x0, 0, 0, 0, 3, b'x'];
        let window_update = [0, 0, 4, 0x8, 0x0, 0, 0, 0, 0, 0, 0, 1, 0];
        let bytes = [&data_end[..], &window_update, &data_more, &data_end].concat();
        assert_eq!(super::final_frames(&bytes), 2);
        assert_eq!(super::final_frames(&bytes[..5]), 0);
    }
}
