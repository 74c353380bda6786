//! A server that echoes everything it receives (headers and bodies, in `error_description`, in a
//! plain-text body, in JSON, in the redirect back) against canary secrets of every shape: long,
//! three characters, with `/`, `+`, `=` and a space. At the most verbose level, in every format,
//! no canary appears in any encoding a server may echo it in.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use pkce_harness::engine::{self, RunOptions};
use pkce_harness::redact::encodings;
use pkce_harness::report::{
    Sink, Style, TerminalSink, Verbosity, html_report, json_report, junit_xml, markdown_summary,
};
use pkce_harness::target::parse_target;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const LONG: &str = "S3cr3t/+= Long-Canary-0815";
const SHORT: &str = "q+Z";
const PASSWORD: &str = "Pw/+= 3x!";
const USER: &str = "alice";

/// Everything the request carried, as one text.
fn echo(req: &Request) -> String {
    let mut s = format!("{} {}\n", req.method, req.url);
    for (k, v) in &req.headers {
        s.push_str(&format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes())));
    }
    s.push_str(&String::from_utf8_lossy(&req.body));
    s
}

struct Authorize;
impl Respond for Authorize {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let query = req.url.query().unwrap_or("").replace('"', "&quot;");
        ResponseTemplate::new(200)
            .insert_header("content-type", "text/html")
            .set_body_string(format!(
                "<html><title>Sign in</title><body><pre>{}</pre><form method=post action=/login><input type=hidden name=q value=\"{query}\"><input name=user><input type=password name=pwd><button>go</button></form></body></html>",
                echo(req).replace('<', "&lt;")
            ))
    }
}

struct Login;
impl Respond for Login {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
            .into_owned()
            .collect();
        let get = |k: &str| {
            form.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let q: Vec<(String, String)> = url::form_urlencoded::parse(get("q").as_bytes())
            .into_owned()
            .collect();
        let from_q = |k: &str| {
            q.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let mut back = url::Url::parse(&from_q("redirect_uri")).expect("redirect_uri");
        back.query_pairs_mut()
            .append_pair("code", "echo-code-1")
            .append_pair("state", &from_q("state"))
            .append_pair("pwd", &get("pwd"))
            .append_pair("error_hint", &echo(req));
        ResponseTemplate::new(302).insert_header("location", back.as_str())
    }
}

/// Answers JSON and plain text in turn, each echoing the request.
struct Token(AtomicUsize);
impl Respond for Token {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let text = echo(req);
        if self.0.fetch_add(1, Ordering::Relaxed).is_multiple_of(2) {
            ResponseTemplate::new(400).set_body_json(serde_json::json!({
                "error": "invalid_request",
                "error_description": text,
                "echo": {"headers": text.lines().collect::<Vec<_>>()},
            }))
        } else {
            ResponseTemplate::new(401)
                .insert_header("content-type", "text/plain")
                .insert_header("x-echo", text.lines().last().unwrap_or("").to_owned())
                .set_body_string(text)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_canary_appears_in_any_encoding_in_any_format() {
    let _heavy = super::HEAVY.write().await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/authorize"))
        .respond_with(Authorize)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/login"))
        .respond_with(Login)
        .mount(&server)
        .await;
    Mock::given(path("/token"))
        .respond_with(Token(AtomicUsize::new(0)))
        .mount(&server)
        .await;
    let quote = |s: &str| serde_json::to_string(s).expect("json");
    let target = format!(
        "format: 1\nendpoints:\n  authorization: \"{uri}/authorize\"\n  token: \"{uri}/token\"\n  userinfo: \"{uri}/token\"\nclients:\n  public: {{client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}}\n  confidential: {{client_id: \"conf:1\", client_secret: {long}, auth_method: client_secret_basic, redirect_uri: \"http://127.0.0.1:8765/cb\"}}\n  confidential2: {{client_id: c2, client_secret: {short}, auth_method: client_secret_post, redirect_uri: \"http://127.0.0.1:8765/cb\"}}\nlogin:\n  form:\n    fields: {{user: {USER}, pwd: {pwd}}}\n",
        uri = server.uri(),
        long = quote(LONG),
        short = quote(SHORT),
        pwd = quote(PASSWORD),
    );
    let file = parse_target("echo.yaml", &target).expect("target parses");
    assert!(
        file.warnings().iter().any(|w| w.contains("3 characters")),
        "the short secret is warned about: {:?}",
        file.warnings()
    );
    let resolved = engine::resolve(file, Default::default(), &Default::default())
        .await
        .expect("explicit endpoints");
    let mut terminal = TerminalSink::with_style(
        Vec::new(),
        Style {
            color: true,
            progress: false,
            verbosity: Verbosity::Verbose,
        },
    );
    let report = engine::run(
        &super::library(),
        Arc::new(resolved),
        &RunOptions {
            seed: 3,
            ..RunOptions::default()
        },
        &mut |e| terminal.event(e).expect("in-memory write"),
    )
    .await;
    assert!(report.results.len() > 100);
    let all = [
        String::from_utf8(terminal.into_inner()).expect("utf-8"),
        json_report(&report),
        junit_xml(&report),
        markdown_summary(&report),
        html_report(&report),
    ];
    // The echo worked: requests with each secret reached the server and came back.
    let requests = server.received_requests().await.expect("recorded");
    let sent = |needle: &str| requests.iter().any(|r| echo(r).contains(needle));
    assert!(sent("pwd=Pw%2F%2B%3D+3x%21"), "the password was posted");
    assert!(sent("client_secret=q%2BZ"), "the short secret was posted");
    assert!(
        sent("Authorization: Basic") || sent("authorization: Basic"),
        "Basic was sent"
    );
    let mut canaries: Vec<String> = Vec::new();
    for secret in [LONG, SHORT, PASSWORD] {
        canaries.extend(encodings(secret));
    }
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    for pair in [
        format!("conf:1:{LONG}"),
        format!("{}:{}", enc("conf:1"), enc(LONG)),
    ] {
        for engine in [&STANDARD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            canaries.push(engine.encode(&pair));
        }
    }
    for (i, out) in all.iter().enumerate() {
        for canary in &canaries {
            assert!(
                !out.contains(canary.as_str()),
                "output {i} shows a canary in clear ({} characters, starting {:?})",
                canary.len(),
                canary.chars().take(2).collect::<String>()
            );
        }
    }
}
