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
    mount_app(&server).await;
    login_at(&server, page, login, crate::odd_targets::FLOW).await
}

/// A script application's page at `/app` (where the authorization endpoint sends the login).
async fn mount_app(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/app"))
        .respond_with(html(
            "<html><title>App</title><script>start()</script></html>",
        ))
        .mount(server)
        .await;
}

/// A scripted login that posts the password to the URL the server's page gives as `api`.
const API_LOGIN: &str = "login:\n  steps:\n    - request:\n        method: POST\n        url: \"{{query:api}}\"\n        json: {username: alice, password: wonderland-pass}\n    - resume: {url: /authorize}\n";

/// The target file for `server`'s `/authorize` and `/token` with `login`, resolved.
async fn target_at(server: &MockServer, login: &str) -> engine::ResolvedTarget {
    let uri = server.uri();
    let text = format!(
        "format: 1\nendpoints: {{authorization: \"{uri}/authorize\", token: \"{uri}/token\"}}\n{CLIENTS}{login}"
    );
    let file = parse_target("t.yaml", &text).expect("parses");
    engine::resolve(file, Default::default(), &Default::default())
        .await
        .expect("resolves")
}

/// Runs `scenario` against `server`, whose authorization endpoint answers with `page`.
async fn login_at(
    server: &MockServer,
    page: ResponseTemplate,
    login: &str,
    scenario: &str,
) -> pkce_harness::verdict::ScenarioResult {
    let mut results = login_runs(server, page, login, scenario, 1).await;
    results.remove(0)
}

/// Runs `copies` of `scenario` one after the other in one run (one browser).
async fn login_runs(
    server: &MockServer,
    page: ResponseTemplate,
    login: &str,
    scenario: &str,
    copies: usize,
) -> Vec<pkce_harness::verdict::ScenarioResult> {
    Mock::given(method("GET"))
        .and(path("/authorize"))
        .respond_with(page)
        .mount(server)
        .await;
    let target = target_at(server, login).await;
    let file = pkce_harness::scenario::parse_scenario("steer.yaml", scenario).expect("parses");
    let scenarios: Vec<_> = (0..copies)
        .map(|i| pkce_harness::scenario::Scenario {
            id: format!("steer/case-{i}"),
            path: "steer.yaml".into(),
            file: file.clone(),
        })
        .collect();
    let opts = RunOptions {
        jobs: 1,
        ..RunOptions::default()
    };
    let report = engine::run(&scenarios, Arc::new(target), &opts, &mut |_| {}).await;
    assert_eq!(report.results.len(), copies);
    report.results
}

fn html(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "text/html")
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

/// `check` on such a login says what to change (trusted_origins), not "all good", and sends
/// nothing to the other origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_the_origin_a_login_would_have_reached() {
    let (elsewhere, count) = counting_origin().await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/authorize"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("/app?api={elsewhere}/session").as_str()),
        )
        .mount(&server)
        .await;
    mount_app(&server).await;
    let target = target_at(&server, API_LOGIN).await;
    let found =
        pkce_harness::engine::preflight::preflight(Arc::new(target), &RunOptions::default()).await;
    let problem = found.checks[0]
        .problem
        .as_ref()
        .expect("the flow does not complete");
    assert!(problem.hint.contains("trusted_origins"), "{}", problem.hint);
    assert!(problem.reason.contains(&elsewhere), "{}", problem.reason);
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
        (format!("api={elsewhere}/session"), API_LOGIN),
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

/// A browser login page on the server's origin that loads a stylesheet, an image and a script
/// from a second origin (as production pages load a CDN's), opens a thousand popups and an
/// alert: the browser driver still logs in, answers the other origin's requests itself
/// (blocked, named in the trail) and lets none of them out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_loads_nothing_from_another_origin_and_opens_no_popup() {
    if !crate::logins::chromium_here() {
        return;
    }
    let (elsewhere, count) = counting_origin().await;
    let page = html(&format!(
        "<html><head><title>Sign in</title><link rel=stylesheet href=\"{elsewhere}/style.css\"></head><body><img src=\"{elsewhere}/logo.png\"><script src=\"{elsewhere}/lib.js\"></script><script>for (let i = 0; i < 1000; i++) window.open('{elsewhere}/popup' + i); alert('hello');</script><form method=post action=/login><input name=username><input type=password name=password><button>Sign in</button></form></body></html>"
    ));
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/login"))
        .respond_with(ResponseTemplate::new(303).insert_header(
            "location",
            "http://127.0.0.1:8765/cb?code=a-code-from-the-server",
        ))
        .mount(&server)
        .await;
    let r = login_at(
        &server,
        page,
        "login:\n  browser: {username: alice, password: wonderland-pass, timeout_seconds: 20}\n",
        "format: 1\ntitle: t\nrequirements: [REQ-21]\ncatches: [broken-s256]\nsteps:\n  - authorize: {}\n",
    )
    .await;
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{:#?}", r.reason, r.login);
    assert!(
        r.login
            .iter()
            .any(|l| l.contains("blocked") && l.contains(&elsewhere)),
        "{:#?}",
        r.login
    );
    assert_eq!(
        count.load(Ordering::SeqCst),
        0,
        "nothing reached the other origin"
    );
}

/// Pages that never answer, keep the renderer busy or loop on dialogs: `timeout_seconds` is a
/// hard deadline for the login whatever the page does; the check is an `error` saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_page_cannot_hold_the_browser_past_its_timeout() {
    if !crate::logins::chromium_here() {
        return;
    }
    let timeout = 3;
    let login = format!(
        "login:\n  browser: {{username: alice, password: wonderland-pass, timeout_seconds: {timeout}}}\n"
    );
    let scenario = "format: 1\ntitle: t\nrequirements: [REQ-21]\ncatches: [broken-s256]\nsteps:\n  - authorize: {}\n";
    for (what, page) in [
        (
            "never answers",
            html("<html></html>").set_delay(std::time::Duration::from_secs(3600)),
        ),
        (
            "busy renderer",
            html("<html><script>for (;;) {}</script></html>"),
        ),
        (
            "dialog loop",
            html("<html><script>setInterval(() => { alert(1); confirm(2); }, 1)</script></html>"),
        ),
    ] {
        let server = MockServer::start().await;
        // Two logins in one run: the first also starts Chromium, the second is the login alone.
        let results = login_runs(&server, page, &login, scenario, 2).await;
        for r in &results {
            assert_eq!(r.verdict, Verdict::Error, "{what}: {}", r.reason);
            assert!(r.reason.contains("timeout_seconds"), "{what}: {}", r.reason);
        }
        let took = results
            .iter()
            .map(|r| r.duration_ms)
            .min()
            .unwrap_or_default();
        eprintln!("{what}: the login ended after {took} ms (timeout {timeout} s)");
        // The timeout, 2 s of bounded clean-up, and a little for the job around it.
        assert!(took < (timeout + 3) * 1000, "{what}: {took} ms");
    }
}
