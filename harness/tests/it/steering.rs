//! The server under test cannot steer the harness: metadata, login pages, form actions and
//! values a login step extracts that point at a second loopback origin. That second origin is
//! a listener of the test's own that counts every connection; in every case it counts none,
//! and the run says which origin it refused and which setting would allow it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use pkce_harness::engine::{self, RunOptions};
use pkce_harness::target::parse_target;
use pkce_harness::verdict::Verdict;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A second origin that counts the connections it gets (and answers each with an empty 200).
pub(crate) async fn counting_origin() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let origin = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    (origin, count)
}

const CLIENTS: &str = "clients:\n  public: {client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}\n  confidential: {client_id: c, client_secret: s3cr3t-value-0123, auth_method: client_secret_basic, redirect_uri: \"http://127.0.0.1:8765/cb\"}\n";

/// Metadata at the server's issuer that puts `field` at `elsewhere`, the rest at home.
async fn metadata_server(field: &str, elsewhere: &str) -> MockServer {
    let server = MockServer::start().await;
    let uri = server.uri();
    let mut doc = serde_json::json!({
        "issuer": uri,
        "authorization_endpoint": format!("{uri}/authorize"),
        "token_endpoint": format!("{uri}/token"),
        "jwks_uri": format!("{uri}/jwks"),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    });
    doc[field] = serde_json::Value::String(format!("{elsewhere}/{field}"));
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(doc))
        .mount(&server)
        .await;
    server
}

/// Metadata that moves the authorization endpoint (where the login password goes) or the JWK
/// Set elsewhere stops the run before anything is sent, naming the field, the origin and the
/// setting that would allow it; with that origin trusted, it resolves.
#[tokio::test]
async fn metadata_cannot_move_the_login_or_the_keys_to_another_origin() {
    let (elsewhere, count) = counting_origin().await;
    for field in ["authorization_endpoint", "jwks_uri", "token_endpoint"] {
        let server = metadata_server(field, &elsewhere).await;
        let text = |trusted: &str| {
            format!(
                "format: 1\nissuer: \"{}\"\n{trusted}{CLIENTS}login:\n  form:\n    fields: {{username: alice, password: wonderland-pass}}\n",
                server.uri()
            )
        };
        let file = parse_target("t.yaml", &text("")).expect("parses");
        let e = engine::resolve(file, Default::default(), &Default::default())
            .await
            .expect_err("refused");
        let shown = e.to_string();
        assert!(
            shown.contains(field)
                && shown.contains(&elsewhere)
                && shown.contains("trusted_origins"),
            "{shown}"
        );
        let file = parse_target(
            "t.yaml",
            &text(&format!("trusted_origins: [\"{elsewhere}\"]\n")),
        )
        .expect("parses");
        engine::resolve(file, Default::default(), &Default::default())
            .await
            .expect("a trusted origin resolves");
    }
    assert_eq!(
        count.load(Ordering::SeqCst),
        0,
        "nothing reached the other origin"
    );
}

/// Runs `FLOW` against an authorization endpoint that answers with `page`, with `login`.
async fn login_against(
    page: ResponseTemplate,
    login: &str,
) -> pkce_harness::verdict::ScenarioResult {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/authorize"))
        .respond_with(page)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/app"))
        .respond_with(html("<html><title>App</title><script>start()</script></html>"))
        .mount(&server)
        .await;
    let uri = server.uri();
    let text = format!(
        "format: 1\nendpoints: {{authorization: \"{uri}/authorize\", token: \"{uri}/token\"}}\n{CLIENTS}{login}"
    );
    let file = parse_target("t.yaml", &text).expect("parses");
    let target = engine::resolve(file, Default::default(), &Default::default())
        .await
        .expect("resolves");
    let scenario = pkce_harness::scenario::Scenario {
        id: "steer/case".into(),
        path: "steer.yaml".into(),
        file: pkce_harness::scenario::parse_scenario("steer.yaml", crate::odd_targets::FLOW)
            .expect("parses"),
    };
    let report = engine::run(
        &[scenario],
        Arc::new(target),
        &RunOptions::default(),
        &mut |_| {},
    )
    .await;
    report.results.into_iter().next().expect("one result")
}

fn html(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/html")
        .set_body_string(body)
}

/// A login form whose action is another origin: the form driver does not post the password
/// there. The check is an `error` naming the origin, never a verdict on the other origin's answer.
#[tokio::test]
async fn the_form_driver_posts_no_password_to_another_origin() {
    let (elsewhere, count) = counting_origin().await;
    let page = html(&format!(
        "<html><title>Sign in</title><form method=post action=\"{elsewhere}/login\"><input name=username><input type=password name=password><button>Sign in</button></form></html>"
    ));
    let r = login_against(
        page,
        "login:\n  form:\n    fields: {username: alice, password: wonderland-pass}\n",
    )
    .await;
    assert_eq!(r.verdict, Verdict::Error, "{}", r.reason);
    assert!(
        r.reason.contains("not sent")
            && r.reason.contains(&elsewhere)
            && r.reason.contains("trusted_origins"),
        "{}",
        r.reason
    );
    assert!(!format!("{:?}", r.evidence).contains("wonderland-pass"));
    assert_eq!(
        count.load(Ordering::SeqCst),
        0,
        "nothing reached the other origin"
    );
}

/// A scripted login whose API URL and resume URL come from the server's page: absolute,
/// protocol-relative and backslashed values that point at another origin are not followed with
/// the password or the extracted ticket.
#[tokio::test]
async fn login_steps_follow_no_server_chosen_url_to_another_origin() {
    let (elsewhere, count) = counting_origin().await;
    let host = elsewhere.trim_start_matches("http:");
    let resume = "login:\n  steps:\n    - resume: {url: \"{{query:return_to}}\"}\n";
    for (query, login) in [
        (
            format!("api={elsewhere}/session"),
            "login:\n  steps:\n    - request:\n        method: POST\n        url: \"{{query:api}}\"\n        json: {username: alice, password: wonderland-pass}\n    - resume: {url: /authorize}\n",
        ),
        (format!("return_to={host}/continue"), resume),
        (
            format!("return_to=/\\{}/continue", host.trim_start_matches('/')),
            resume,
        ),
        (format!("return_to={elsewhere}/continue"), resume),
    ] {
        let page = ResponseTemplate::new(302).insert_header("location", format!("/app?{query}"));
        let r = login_against(page, login).await;
        assert_eq!(r.verdict, Verdict::Error, "{query}: {}", r.reason);
        assert!(
            !format!("{:?}", r.evidence).contains("wonderland-pass"),
            "{query}"
        );
    }
    assert_eq!(
        count.load(Ordering::SeqCst),
        0,
        "nothing reached the other origin"
    );
}
