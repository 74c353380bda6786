//! The engine against hostile targets: servers that never answer, drip, reset, flood or lie.
//! Where wiremock cannot misbehave at the socket level, a raw loopback TCP server does. Every
//! case ends in bounded time with a verdict whose reason names the request, and never a pass.

use std::future::Future;
use std::time::{Duration, Instant};

use pkce_harness::engine::http::Limits;
use pkce_harness::verdict::Verdict;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::odd_targets::{FLOW, authorize_returns, code_redirect, run_one, run_with};

/// Tight limits so each case ends in well under a second.
const TIGHT: Limits = Limits {
    request_timeout: Duration::from_millis(400),
    max_body: 64 * 1024,
};

/// A loopback server that hands every connection, after the request head has arrived, to
/// `behave`. Returns the token endpoint URL on it.
async fn raw_token_endpoint<F, Fut>(behave: F) -> String
where
    F: Fn(TcpStream) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let behave = behave.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                behave(stream).await;
            });
        }
    });
    format!("http://127.0.0.1:{port}/token")
}

async fn authorize_server() -> MockServer {
    let server = MockServer::start().await;
    authorize_returns(&server, code_redirect()).await;
    server
}

const JSON_HEAD: &str = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n";

#[tokio::test]
async fn a_server_that_never_answers_is_cut_at_the_request_timeout() {
    let server = authorize_server().await;
    let token = raw_token_endpoint(|stream| async move {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        drop(stream);
    })
    .await;
    let started = Instant::now();
    let r = run_with(&server, &token, FLOW, TIGHT).await;
    assert_eq!(r.verdict, Verdict::Error);
    assert_eq!(
        r.reason,
        format!("step 2 (token): POST {token}: no complete response within 0.4 s")
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_body_dripping_one_byte_at_a_time_is_cut_at_the_request_timeout() {
    let server = authorize_server().await;
    let token = raw_token_endpoint(|mut stream| async move {
        let body = br#"{"access_token":"dripped","token_type":"Bearer"}"#;
        let head = format!("{JSON_HEAD}content-length: {}\r\n\r\n", body.len());
        let _ = stream.write_all(head.as_bytes()).await;
        for b in body {
            if stream.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let r = run_with(&server, &token, FLOW, TIGHT).await;
    assert_eq!(r.verdict, Verdict::Error);
    assert_eq!(
        r.reason,
        format!("step 2 (token): POST {token}: no complete response within 0.4 s")
    );
}

#[tokio::test]
async fn a_connection_reset_mid_body_is_an_error_naming_the_request() {
    let server = authorize_server().await;
    let token = raw_token_endpoint(|mut stream| async move {
        let _ = stream
            .write_all(format!("{JSON_HEAD}content-length: 1000\r\n\r\n{{\"access_").as_bytes())
            .await;
        let _ = stream.flush().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        // SO_LINGER 0: closing sends RST instead of FIN.
        let _ = stream.set_zero_linger();
        drop(stream);
    })
    .await;
    let r = run_with(&server, &token, FLOW, TIGHT).await;
    assert_eq!(r.verdict, Verdict::Error);
    assert!(
        r.reason
            .starts_with(&format!("step 2 (token): POST {token}: ")),
        "{}",
        r.reason
    );
}

#[tokio::test]
async fn an_endless_body_is_read_up_to_the_cap_and_judged_as_cut() {
    let server = authorize_server().await;
    let token = raw_token_endpoint(|mut stream| async move {
        // Announces 10 GiB and keeps sending until the harness hangs up.
        let head = format!("{JSON_HEAD}content-length: 10737418240\r\n\r\n");
        let _ = stream.write_all(head.as_bytes()).await;
        let chunk = vec![b'0'; 64 * 1024];
        while stream.write_all(&chunk).await.is_ok() {}
    })
    .await;
    let started = Instant::now();
    let r = run_with(&server, &token, FLOW, TIGHT).await;
    // The harness did not read the answer: it cannot judge it (error), never a finding.
    assert_eq!(r.verdict, Verdict::Error, "{}", r.reason);
    assert!(
        r.reason.starts_with(&format!(
            "step 2 (token): POST {token}: the answer was cut at the 65536-byte cap (--max-body), so it could not be judged"
        )),
        "{}",
        r.reason
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A token response larger than the cap (a 5 MB ID Token): the cut body is `error`, and the
/// access token in the part that came, and the ID Token's start, are masked in the result
/// every report renders.
#[tokio::test]
async fn tokens_in_a_cut_token_response_stay_hidden() {
    let server = authorize_server().await;
    let jwt_start = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsInBhZCI6Ij";
    let token = raw_token_endpoint(move |mut stream| async move {
        let big = "A".repeat(5 * 1024 * 1024);
        let body = format!(
            "{{\"access_token\":\"AT-secret-0123456789\",\"token_type\":\"Bearer\",\"id_token\":\"{jwt_start}{big}\"}}"
        );
        let head = format!("{JSON_HEAD}content-length: {}\r\n\r\n", body.len());
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(body.as_bytes()).await;
    })
    .await;
    let r = run_with(&server, &token, FLOW, TIGHT).await;
    assert_eq!(r.verdict, Verdict::Error, "{}", r.reason);
    let shown = serde_json::to_string(&r).expect("serialises");
    assert!(
        !shown.contains("AT-secret-0123456789"),
        "the access token leaked"
    );
    assert!(
        !shown.contains("eyJhbGciOiJSUzI1NiJ9"),
        "the ID Token leaked"
    );
    assert!(
        shown.contains("Bearer"),
        "what is not secret stays readable"
    );
}

#[tokio::test]
async fn enormous_headers_are_refused_by_the_client_and_reported() {
    let server = authorize_server().await;
    let token = raw_token_endpoint(|mut stream| async move {
        let _ = stream.write_all(JSON_HEAD.as_bytes()).await;
        let line = format!("x-filler: {}\r\n", "a".repeat(8 * 1024));
        for _ in 0..256 {
            if stream.write_all(line.as_bytes()).await.is_err() {
                return;
            }
        }
        let _ = stream.write_all(b"content-length: 2\r\n\r\n{}").await;
    })
    .await;
    let r = run_with(&server, &token, FLOW, TIGHT).await;
    assert_eq!(r.verdict, Verdict::Error);
    assert_eq!(
        r.reason,
        format!(
            "step 2 (token): POST {token}: error sending request: client error (SendRequest): message head is too large"
        )
    );
}

/// The harness sends no `Accept-Encoding` and never inflates: a compressed body is read as the
/// bytes it is, under the cap, so a bomb stays 10 KiB.
#[tokio::test]
async fn a_gzip_bomb_is_not_inflated() {
    let bomb = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/hostile/zeros-10MiB.gz"
    ))
    .expect("bomb fixture");
    let server = authorize_server().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .set_body_raw(bomb, "application/json"),
        )
        .mount(&server)
        .await;
    let r = run_one(&server, &format!("{}/token", server.uri()), FLOW).await;
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(
        r.reason
            .starts_with("step 2 (token): expected a JSON body, got a body that is not UTF-8 (RFC 8259 §8.1), starting \"\\u{1f}"),
        "{}",
        r.reason
    );
}

async fn token_answers(body: ResponseTemplate) -> pkce_harness::verdict::ScenarioResult {
    let server = authorize_server().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(body)
        .mount(&server)
        .await;
    run_one(&server, &format!("{}/token", server.uri()), FLOW).await
}

#[tokio::test]
async fn broken_json_at_the_token_endpoint_fails_with_what_came() {
    // The value of a cut access_token is still a secret: masked.
    let cut = format!(
        "expected a JSON body, got \"{{\\\"access_token\\\":\\\"{}\"",
        pkce_harness::redact::fingerprint("tru")
    );
    let cases: [(&[u8], &str); 5] = [
        (
            b"not json at all",
            "expected a JSON body, got \"not json at all\"",
        ),
        (br#"{"access_token":"tru"#, &cut),
        (
            br#"{"access_token":5,"token_type":"Bearer"}"#,
            "expected JSON field access_token a non-empty string, got 5",
        ),
        (
            br#"["access_token","x"]"#,
            "expected JSON field access_token a non-empty string, it is absent",
        ),
        (
            b"{\"access_token\":\"\xff\xfe\"}",
            "expected a JSON body, got a body that is not UTF-8 (RFC 8259 §8.1)",
        ),
    ];
    for (body, want) in cases {
        let r =
            token_answers(ResponseTemplate::new(200).set_body_raw(body, "application/json")).await;
        let text = String::from_utf8_lossy(body);
        assert_eq!(r.verdict, Verdict::Fail, "{text}: {}", r.reason);
        assert!(
            r.reason.starts_with(&format!("step 2 (token): {want}")),
            "{text}: {}",
            r.reason
        );
    }
}

#[tokio::test]
async fn a_5xx_at_the_token_endpoint_fails_with_the_status() {
    let r = token_answers(ResponseTemplate::new(503).set_body_string("busy")).await;
    assert_eq!(r.verdict, Verdict::Fail);
    // A 5xx that persists through the re-runs (alone, after back-off) is judged, and says so.
    assert_eq!(
        r.reason,
        "step 2 (token): expected HTTP 200, got 503; run 3 times: the server failed (unexpected 5xx) the earlier 2; this is the last run, alone"
    );
}

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed() {
    let server = MockServer::start().await;
    authorize_returns(
        &server,
        ResponseTemplate::new(302).insert_header("Location", "http://elsewhere.invalid/landing"),
    )
    .await;
    let r = run_one(&server, &format!("{}/token", server.uri()), FLOW).await;
    assert_eq!(r.verdict, Verdict::Error);
    assert_eq!(
        r.reason,
        "step 1 (authorize): redirect to http://elsewhere.invalid/landing could not be read: the response has neither a code nor an error parameter"
    );
}

#[tokio::test]
async fn an_unparsable_location_is_an_error_quoting_it() {
    let server = MockServer::start().await;
    authorize_returns(
        &server,
        ResponseTemplate::new(302).insert_header("Location", "http://[::1/cb?code=x"),
    )
    .await;
    let r = run_one(&server, &format!("{}/token", server.uri()), FLOW).await;
    assert_eq!(r.verdict, Verdict::Error);
    // The query (which may carry a code) is not repeated.
    assert_eq!(
        r.reason,
        "step 1 (authorize): Location \"http://[::1/cb?…\" is not a URL: invalid IPv6 address"
    );
}

#[tokio::test]
async fn a_set_cookie_storm_neither_hangs_nor_passes_silently() {
    let server = MockServer::start().await;
    let mut storm = code_redirect();
    for i in 0..2000 {
        storm = storm.append_header("set-cookie", format!("c{i}={}; Path=/", "v".repeat(100)));
    }
    authorize_returns(&server, storm).await;
    let r = run_one(&server, &format!("{}/token", server.uri()), FLOW).await;
    assert_eq!(r.verdict, Verdict::Error);
    assert_eq!(
        r.reason,
        format!(
            "step 1 (authorize): GET {}/authorize: error sending request: client error (SendRequest): message head is too large",
            server.uri()
        )
    );
}

#[tokio::test]
async fn a_failed_tls_handshake_is_an_error_naming_the_request() {
    let server = authorize_server().await;
    // Answers the ClientHello with plain HTTP, as a server on the wrong port would.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await;
            let _ = stream
                .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    let token = format!("https://127.0.0.1:{port}/token");
    let r = run_with(&server, &token, FLOW, TIGHT).await;
    assert_eq!(r.verdict, Verdict::Error);
    assert!(
        r.reason.starts_with(&format!(
            "step 2 (token): POST {token}: error sending request: client error (Connect)"
        )),
        "{}",
        r.reason
    );
    assert!(r.reason.contains("InvalidContentType"), "{}", r.reason);
}

/// A server that answers one request per connection and then drops the connection when the
/// next request arrives on it, without `Connection: close` (so clients pool it). Returns its
/// base URL and a counter of connections accepted.
async fn one_request_per_connection() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let accepted = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut seen = Vec::new();
                // Read one whole request: the head, and the body its Content-Length announces.
                loop {
                    let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if seen.len() >= end + 4 + len {
                        break;
                    }
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let body = "{\"ok\":true}";
                let _ = stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
                // The next request on this connection finds it closed.
                let _ = stream.read(&mut buf).await;
            });
        }
    });
    (format!("http://127.0.0.1:{port}"), accepted)
}

/// Against that server, every request succeeds, every time: GETs retried once on a new
/// connection when the pooled one turns out closed, POSTs (token requests: a resent code
/// redemption would be a replay) each on a connection of their own and never resent.
#[tokio::test]
async fn a_server_closing_idle_connections_never_changes_an_answer() {
    use pkce_harness::engine::http::{HttpClient, Request};
    use std::sync::atomic::Ordering;
    let (base, accepted) = one_request_per_connection().await;
    let http = HttpClient::new(Limits::default(), &Default::default()).expect("client");
    let url = url::Url::parse(&format!("{base}/x")).expect("url");
    for i in 0..10 {
        let got = http.send(&Request::get(url.clone())).await;
        assert!(
            got.as_ref().is_ok_and(|r| r.status == 200),
            "GET {i}: {got:?}"
        );
        let post = Request::post_form(url.clone(), "grant_type=authorization_code&code=c".into());
        let got = http.send(&post).await;
        assert!(
            got.as_ref().is_ok_and(|r| r.status == 200),
            "POST {i}: {got:?}"
        );
    }
    // Each POST had a connection of its own; no request was sent twice.
    assert!(accepted.load(Ordering::SeqCst) >= 10);
}

/// `error=server_error` (or `temporarily_unavailable`) in the redirect is the server failing,
/// as a 5xx is: the scenario runs again alone, and when the failure persists the check is an
/// `error`, never a finding about what the scenario asks.
#[tokio::test]
async fn a_server_error_redirect_is_a_server_fault() {
    for error in ["server_error", "temporarily_unavailable"] {
        let server = MockServer::start().await;
        authorize_returns(
            &server,
            ResponseTemplate::new(302).insert_header(
                "Location",
                format!("http://127.0.0.1:8765/cb?error={error}").as_str(),
            ),
        )
        .await;
        let scenario = "format: 1\ntitle: t\nrequirements: [REQ-50]\ncatches: [accepts-wrong-verifier]\nsteps:\n  - authorize:\n      pkce: {method: plain}\n      expect: {outcome: error-redirect, error: invalid_request}\n";
        let r = run_one(&server, &format!("{}/token", server.uri()), scenario).await;
        assert_eq!(r.verdict, Verdict::Error, "{error}: {}", r.reason);
        assert!(
            r.reason.contains(&format!("error={error}")) && r.reason.contains("run 3 times"),
            "{error}: {}",
            r.reason
        );
    }
}

/// A race whose bursts the server mostly failed (5xx) shows nothing about single use: `error`
/// with the count, never the `pass` a burst with one success would otherwise give.
#[tokio::test]
async fn a_race_the_server_mostly_failed_is_an_error_with_the_count() {
    let server = authorize_server().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"access_token": "race-at-1", "token_type": "Bearer"}),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(500).set_body_string("database is locked"))
        .mount(&server)
        .await;
    let scenario = "format: 1\ntitle: t\nrequirements: [REQ-58]\ncatches: [reusable-code]\nsteps:\n  - race: {count: 5, trials: 2}\n";
    let r = run_one(&server, &format!("{}/token", server.uri()), scenario).await;
    assert_eq!(r.verdict, Verdict::Error, "{}", r.reason);
    assert!(
        r.reason.contains("most requests of the bursts failed")
            && r.reason.contains("the server failed 9 of the 10 requests"),
        "{}",
        r.reason
    );
}

/// A control flow that gets no answer in time is a timeout, worded as one: not "the server
/// refuses even the correct request".
#[tokio::test]
async fn a_control_that_times_out_is_not_called_a_refusal() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/authorize"))
        .respond_with(
            ResponseTemplate::new(400).set_body_string("<html><h1>Bad request</h1></html>"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/authorize"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3600)))
        .mount(&server)
        .await;
    let scenario = "format: 1\ntitle: t\nrequirements: [REQ-20]\ncatches: [accepts-plain]\nsteps:\n  - authorize:\n      pkce: {method: plain}\n      expect: {outcome: refused}\n";
    let r = run_with(&server, &format!("{}/token", server.uri()), scenario, TIGHT).await;
    assert_eq!(r.verdict, Verdict::Error, "{}", r.reason);
    assert!(
        r.reason.contains("no complete response within 0.4 s"),
        "{}",
        r.reason
    );
    assert!(!r.reason.contains("refuses"), "{}", r.reason);
}
