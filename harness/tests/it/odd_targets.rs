//! The engine against odd target behaviour (wiremock): each gives a verdict whose reason says
//! what came back, never a panic, a hang or a silent pass.

use std::sync::Arc;
use std::time::Duration;

use pkce_harness::engine::http::Limits;
use pkce_harness::engine::{self, RunOptions};
use pkce_harness::scenario::{Scenario, parse_scenario};
use pkce_harness::target::parse_target;
use pkce_harness::verdict::{ScenarioResult, Verdict};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub(crate) const FLOW: &str = "format: 1\ntitle: t\nrequirements: [REQ-21]\ncatches: [broken-s256]\nsteps:\n  - authorize: {}\n  - token: {}\n";

pub(crate) async fn run_one(server: &MockServer, token: &str, scenario: &str) -> ScenarioResult {
    run_with(server, token, scenario, Limits::default()).await
}

pub(crate) async fn run_with(
    server: &MockServer,
    token: &str,
    scenario: &str,
    limits: Limits,
) -> ScenarioResult {
    let target = format!(
        "format: 1\nendpoints:\n  authorization: \"{uri}/authorize\"\n  token: \"{token}\"\nclients:\n  public: {{client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}}\n  confidential: {{client_id: c, client_secret: s3cr3t, auth_method: client_secret_basic, redirect_uri: \"http://127.0.0.1:8765/cb\"}}\nlogin: {{auto: {{}}}}\n",
        uri = server.uri()
    );
    let file = parse_target("odd.yaml", &target).expect("target parses");
    let resolved = engine::resolve(file, Default::default(), &Default::default())
        .await
        .expect("explicit endpoints resolve");
    let scenario = Scenario {
        id: "odd/case".into(),
        path: "odd.yaml".into(),
        file: parse_scenario("odd.yaml", scenario).expect("scenario parses"),
    };
    let report = engine::run(
        &[scenario],
        Arc::new(resolved),
        &RunOptions {
            seed: 1,
            limits,
            scenario_timeout: Duration::from_secs(20),
            ..RunOptions::default()
        },
        &mut |_| {},
    )
    .await;
    report.results.into_iter().next().expect("one result")
}

pub(crate) async fn authorize_returns(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/authorize"))
        .respond_with(response)
        .mount(server)
        .await;
}

pub(crate) fn code_redirect() -> ResponseTemplate {
    ResponseTemplate::new(302)
        .insert_header("Location", "http://127.0.0.1:8765/cb?code=odd-code-value")
}

#[tokio::test]
async fn html_500_at_the_token_endpoint_fails_with_the_status() {
    let server = MockServer::start().await;
    authorize_returns(&server, code_redirect()).await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(500).set_body_string("<html>oops</html>"))
        .mount(&server)
        .await;
    let r = run_one(&server, &format!("{}/token", server.uri()), FLOW).await;
    assert_eq!(r.verdict, Verdict::Fail);
    // A 5xx that persists through the re-runs (alone, after back-off) is judged, and says so.
    assert_eq!(
        r.reason,
        "step 2 (token): expected HTTP 200, got 500; run 3 times: the server failed (unexpected 5xx) the earlier 2; this is the last run, alone"
    );
}

#[tokio::test]
async fn an_html_error_page_where_json_is_due_fails_naming_the_content_type() {
    let server = MockServer::start().await;
    authorize_returns(&server, code_redirect()).await;
    // The wrong verifier is refused with a page; the control flow's correct request after it
    // gets tokens.
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_raw("<h1>Bad</h1>", "text/html"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"access_token":"at-odd","token_type":"Bearer"}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let scenario = FLOW.replace(
        "  - token: {}",
        "  - token:\n      verifier: wrong\n      expect: {status: 400, error: invalid_grant}",
    );
    let r = run_one(&server, &format!("{}/token", server.uri()), &scenario).await;
    // Refused all the same: the page is the refusal's form (RFC 6749 §5.2), not the bypass.
    assert_eq!(r.verdict, Verdict::Warn, "{}", r.reason);
    assert_eq!(r.requirements, ["REQ-43"]);
    assert!(r.reason.contains("in another form: expected a JSON error body with error invalid_grant, got text/html body \"<h1>Bad</h1>\""), "{}", r.reason);
}

#[tokio::test]
async fn a_redirect_without_location_is_a_harness_error() {
    let server = MockServer::start().await;
    authorize_returns(&server, ResponseTemplate::new(302)).await;
    let r = run_one(&server, &format!("{}/token", server.uri()), FLOW).await;
    assert_eq!(r.verdict, Verdict::Error);
    assert!(
        r.reason.contains("answered 302 without a Location header"),
        "{}",
        r.reason
    );
}

#[tokio::test]
async fn a_redirect_loop_is_cut_and_reported() {
    let server = MockServer::start().await;
    let loop_to = format!("{}/authorize?again=1", server.uri());
    authorize_returns(
        &server,
        ResponseTemplate::new(302).insert_header("Location", loop_to.as_str()),
    )
    .await;
    let r = run_one(&server, &format!("{}/token", server.uri()), FLOW).await;
    assert_eq!(r.verdict, Verdict::Error);
    assert!(
        r.reason
            .contains("did not reach the client within 8 requests"),
        "{}",
        r.reason
    );
}

#[tokio::test]
async fn a_page_instead_of_a_redirect_fails_with_its_title() {
    let server = MockServer::start().await;
    authorize_returns(
        &server,
        ResponseTemplate::new(200).set_body_string("<html><title>Oops</title>nothing here</html>"),
    )
    .await;
    let r = run_one(&server, &format!("{}/token", server.uri()), FLOW).await;
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(
        r.reason.contains("got a page (HTTP 200, \"Oops\")"),
        "{}",
        r.reason
    );
}

#[tokio::test]
async fn a_refused_connection_is_an_error_naming_the_request() {
    let server = MockServer::start().await;
    authorize_returns(&server, code_redirect()).await;
    // Port 9 (discard) on loopback: nothing listens there on a test machine.
    let r = run_one(&server, "http://127.0.0.1:9/token", FLOW).await;
    assert_eq!(r.verdict, Verdict::Error);
    assert!(
        r.reason.contains("POST http://127.0.0.1:9/token"),
        "{}",
        r.reason
    );
    assert!(!r.reason.contains("s3cr3t"));
}

/// A discovery document that moves the token endpoint to another origin gets no credential:
/// resolving the target stops with what to change (exit 2 from `check`), and nothing is sent
/// there; naming the origin in `trusted_origins` (or the endpoint itself) allows it.
#[tokio::test]
async fn metadata_cannot_send_credentials_to_another_origin() {
    let issuer = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "issuer": issuer.uri(),
            "authorization_endpoint": format!("{}/authorize", issuer.uri()),
            "token_endpoint": format!("{}/token", elsewhere.uri()),
            "response_types_supported": ["code"],
        })))
        .mount(&issuer)
        .await;
    let target = |extra: &str| {
        format!(
            "format: 1\nissuer: \"{}\"\nclients:\n  public: {{client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}}\n  confidential: {{client_id: c, client_secret: s3cr3t, auth_method: client_secret_basic, redirect_uri: \"http://127.0.0.1:8765/cb\"}}\nlogin: {{auto: {{}}}}\n{extra}",
            issuer.uri()
        )
    };
    let refused = engine::resolve(
        parse_target("t.yaml", &target("")).expect("parses"),
        Default::default(),
        &Default::default(),
    )
    .await
    .expect_err("another origin is refused");
    let shown = refused.to_string();
    assert!(
        shown.contains("puts token_endpoint at") && shown.contains("trusted_origins"),
        "{shown}"
    );
    let dir = std::env::temp_dir().join(format!("pkce-harness-origin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("t.yaml");
    std::fs::write(&file, target("")).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pkce-harness"))
        .args(["check", "--target", &file.display().to_string()])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        elsewhere
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "no request, so no credential, went to the other origin"
    );
    let allowed = engine::resolve(
        parse_target(
            "t.yaml",
            &target(&format!("trusted_origins: [\"{}\"]\n", elsewhere.uri())),
        )
        .expect("parses"),
        Default::default(),
        &Default::default(),
    )
    .await
    .expect("a trusted origin is allowed");
    assert_eq!(allowed.token.as_str(), format!("{}/token", elsewhere.uri()));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `register: true` against metadata whose registration endpoint is on another origin: resolving
/// stops before any registration is sent, so the initial access token goes nowhere; and a
/// registration answer without a client_id is an error naming the client and the RFC.
#[tokio::test]
async fn registration_goes_only_where_the_file_allows_and_needs_a_client_id() {
    let issuer = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    let metadata = |registration: String| {
        serde_json::json!({
            "issuer": issuer.uri(),
            "authorization_endpoint": format!("{}/authorize", issuer.uri()),
            "token_endpoint": format!("{}/token", issuer.uri()),
            "registration_endpoint": registration,
        })
    };
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(metadata(format!("{}/register", elsewhere.uri()))),
        )
        .up_to_n_times(1)
        .mount(&issuer)
        .await;
    let text = format!(
        "format: 1\nissuer: \"{}\"\nregister: true\nregistration: {{initial_access_token: iat-secret-value-42}}\nlogin: {{auto: {{}}}}\n",
        issuer.uri()
    );
    let tls = pkce_harness::engine::http::Tls::default();
    let resolve = || {
        engine::resolve(
            parse_target("t.yaml", &text).expect("parses"),
            Default::default(),
            &tls,
        )
    };
    let refused = resolve().await.expect_err("another origin is refused");
    assert!(
        refused.to_string().contains("registration_endpoint"),
        "{refused}"
    );
    assert!(
        elsewhere
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "nothing, so no initial access token, went to the other origin"
    );

    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(metadata(format!("{}/register", issuer.uri()))),
        )
        .mount(&issuer)
        .await;
    Mock::given(method("POST"))
        .and(path("/register"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(serde_json::json!({"client_name": "x"})),
        )
        .up_to_n_times(1)
        .mount(&issuer)
        .await;
    let no_id = resolve()
        .await
        .expect_err("a registration without client_id is an error");
    let shown = no_id.to_string();
    assert!(
        shown.contains("registering the public client")
            && shown.contains("no client_id (RFC 7591 §3.2.1)"),
        "{shown}"
    );
    let sent = issuer.received_requests().await.unwrap_or_default();
    let registration = sent
        .iter()
        .find(|r| r.url.path() == "/register")
        .expect("a registration was sent");
    assert_eq!(
        registration
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer iat-secret-value-42"),
        "the initial access token is a bearer token (RFC 7591 §3)"
    );

    // A registration whose management URI the server puts on another origin: the clients are
    // registered, and at the end left registered, saying why; their token goes nowhere else.
    Mock::given(method("POST"))
        .and(path("/register"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "client_id": "dyn-1",
            "client_secret": "dyn-secret-value-0001",
            "registration_client_uri": format!("{}/register/dyn-1", elsewhere.uri()),
            "registration_access_token": "rat-value-000001",
        })))
        .mount(&issuer)
        .await;
    let target = resolve().await.expect("registered");
    assert_eq!(target.registered.len(), 3);
    let notes = engine::unregister(&target, Default::default(), &tls).await;
    assert!(
        notes.len() == 3
            && notes
                .iter()
                .all(|n| n.contains("stays registered") && n.contains("does not name")),
        "{notes:?}"
    );
    assert!(
        elsewhere
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "the registration access token went to no other origin"
    );
}

/// What the CLI says about target files that reach an odd server: a redirect without
/// `Location` during preflight is the server's fault (exit 3, not "fix the target file"), and a
/// password in the issuer's userinfo never appears in any message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_blames_the_server_for_its_faults_and_hides_userinfo() {
    let server = MockServer::start().await;
    authorize_returns(&server, ResponseTemplate::new(302)).await;
    let dir = std::env::temp_dir().join(format!("pkce-harness-blame-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("t.yaml");
    std::fs::write(
        &file,
        format!(
            "format: 1\nendpoints: {{authorization: \"{uri}/authorize\", token: \"{uri}/token\"}}\nclients:\n  public: {{client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}}\n  confidential: {{client_id: c, client_secret: s3cr3t-value, auth_method: client_secret_basic, redirect_uri: \"http://127.0.0.1:8765/cb\"}}\nlogin: {{auto: {{}}}}\n",
            uri = server.uri()
        ),
    )
    .expect("write");
    let harness = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pkce-harness"))
            .args(args)
            .output()
            .expect("runs")
    };
    let path = file.display().to_string();
    let out = harness(&["check", "--target", &path]);
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(
        said.contains("without a Location header") && said.contains("server's fault"),
        "{said}"
    );

    std::fs::write(
        &file,
        "format: 1\nissuer: \"http://user:Us3rinfo-Pa55@127.0.0.1:9/\"\nclients:\n  public: {client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}\n  confidential: {client_id: c, client_secret: s3cr3t-value, auth_method: client_secret_basic, redirect_uri: \"http://127.0.0.1:8765/cb\"}\nlogin: {auto: {}}\n",
    )
    .expect("write");
    for args in [
        vec!["check", "--target", &path],
        vec!["run", "--target", &path],
    ] {
        let out = harness(&args);
        let said = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {said}");
        assert!(!said.contains("Us3rinfo-Pa55"), "{args:?}: {said}");
        assert!(said.contains("unreachable"), "{args:?}: {said}");
    }
    let out = harness(&["validate", "--target", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/dev/zero: not a regular file"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The browser's cookies stay in the browser: a server that refuses back-channel calls carrying
/// a session cookie ("not supposed to be called by authenticated users") completes the normal
/// flow, because the token request, like a real client's, carries none.
#[tokio::test]
async fn the_token_request_never_carries_the_browsers_cookies() {
    let server = MockServer::start().await;
    authorize_returns(
        &server,
        code_redirect().insert_header("set-cookie", "sid=browser-session; Path=/; HttpOnly"),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(wiremock::matchers::header_exists("cookie"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": "invalid_request",
            "error_description": "this endpoint is not supposed to be called by authenticated users"
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"access_token": "at-1", "token_type": "Bearer"})),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let result = run_one(&server, &format!("{}/token", server.uri()), FLOW).await;
    assert_eq!(result.verdict, Verdict::Pass, "{}", result.reason);
    let cookie_sent = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .any(|r| r.url.path() == "/token" && r.headers.contains_key("cookie"));
    assert!(!cookie_sent, "a token request carried the browser's cookie");
}
