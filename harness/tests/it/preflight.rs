//! Preflight against the reference server: a good target passes for every client; a wrong
//! secret and a wrong password are each reported on the clients they break, with what to change.

use std::sync::Arc;

use pkce_harness::engine::preflight::{ProblemKind, preflight};
use pkce_harness::engine::{self, RunOptions};
use pkce_harness::redact::Secret;
use pkce_harness::scenario::model::ClientKind;
use pkce_harness::server::{ReferenceServer, ServerConfig};
use pkce_harness::target::{ConfigSecret, LoginConfig, TargetFile};

async fn check(
    server: &ReferenceServer,
    edit: impl Fn(&mut TargetFile),
) -> Vec<(ClientKind, Option<String>)> {
    let mut file = server.target_file();
    edit(&mut file);
    let target = engine::resolve(file, Default::default(), &Default::default())
        .await
        .expect("resolves");
    preflight(Arc::new(target), &RunOptions::default())
        .await
        .checks
        .into_iter()
        .map(|c| {
            (
                c.client,
                c.problem.map(|p| format!("{} → {}", p.reason, p.hint)),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_names_the_broken_setting() {
    let server = ReferenceServer::start(ServerConfig::default())
        .await
        .expect("server starts");
    let all = [
        ClientKind::Public,
        ClientKind::Confidential,
        ClientKind::Confidential2,
    ];

    let good = check(&server, |_| {}).await;
    assert_eq!(good, all.map(|c| (c, None)).to_vec());

    let bad_secret = check(&server, |f| {
        f.clients
            .as_mut()
            .expect("clients")
            .confidential
            .client_secret = Some(ConfigSecret(Secret::new("not-the-secret")));
    })
    .await;
    assert_eq!(bad_secret[0], (ClientKind::Public, None));
    let problem = bad_secret[1].1.as_deref().expect("confidential fails");
    assert!(
        problem.contains("got 401")
            && problem.contains("check client_id and auth_method and its credentials"),
        "{problem}"
    );
    assert_eq!(bad_secret[2], (ClientKind::Confidential2, None));

    let bad_password = check(&server, |f| {
        if let LoginConfig::Form(form) = &mut f.login {
            form.fields
                .insert("password".into(), ConfigSecret(Secret::new("wrong")));
        }
    })
    .await;
    for (client, problem) in bad_password {
        let problem = problem.unwrap_or_else(|| panic!("{client:?} cannot log in"));
        assert!(problem.contains("check login.form.fields"), "{problem}");
    }
    server.stop().await;
}

/// Preflight says what the server says: an issuer written otherwise than the metadata spells it
/// is named with the value to write, a client that is not configured is a skip (not "ok"), a
/// refused token request quotes the server's answer, and a login form the `auto` driver cannot
/// fill is named as such.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_quotes_the_server() {
    let server = ReferenceServer::start(ServerConfig::default())
        .await
        .expect("server starts");
    let run = |edit: &dyn Fn(&mut TargetFile)| {
        let mut file = server.target_file();
        edit(&mut file);
        async move {
            let target = engine::resolve(file, Default::default(), &Default::default())
                .await
                .expect("resolves");
            preflight(Arc::new(target), &RunOptions::default()).await
        }
    };
    let slash = run(&|f| {
        let issuer = f.issuer.as_ref().expect("issuer").0.clone();
        f.issuer = Some(pkce_harness::target::ConfigString(format!("{issuer}/")));
        f.clients.as_mut().expect("clients").confidential2 = None;
    })
    .await;
    let issuer = &slash.target[0];
    assert!(
        issuer
            .reason
            .contains("the metadata says issuer \"http://127.0.0.1:")
            && issuer.hint.contains("write the issuer exactly"),
        "{issuer:?}"
    );
    let c2 = slash
        .checks
        .iter()
        .find(|c| c.client == ClientKind::Confidential2)
        .expect("listed");
    assert!(c2.problem.is_none());
    assert!(
        c2.skipped
            .as_deref()
            .is_some_and(|s| s.contains("configures no confidential2")),
        "{c2:?}"
    );

    // The reference server issues refresh tokens to every client: a file that declares none
    // is told the checks it leaves unrun, and the key that runs them.
    let undeclared = run(&|f| {
        f.policy.refresh_tokens_public = false;
        f.policy.refresh_tokens_confidential = false;
    })
    .await;
    let advice: Vec<_> = undeclared
        .target
        .iter()
        .map(|p| (p.kind, p.hint.to_string()))
        .collect();
    let expected: Vec<_> = [
        "policy.refresh_tokens_public",
        "policy.refresh_tokens_confidential",
        "policy.refresh_tokens_confidential",
    ]
    .map(|key| {
        (
            ProblemKind::Advice,
            format!("set {key}: true to run the refresh-token checks with this client; they are skipped now"),
        )
    })
    .to_vec();
    assert_eq!(advice, expected);

    let refused = run(&|f| {
        f.clients
            .as_mut()
            .expect("clients")
            .confidential
            .client_secret = Some(ConfigSecret(Secret::new("not-the-secret")));
    })
    .await;
    let problem = refused.checks[1].problem.as_ref().expect("refused");
    let answer = problem.answer.as_deref().expect("the answer is quoted");
    assert!(
        answer.starts_with("HTTP 401") && answer.contains("invalid_client"),
        "{answer}"
    );

    let auto = run(&|f| f.login = LoginConfig::Auto {}).await;
    let problem = auto.checks[0]
        .problem
        .as_ref()
        .expect("the login form stops it");
    assert!(problem.hint.contains("configure login.form"), "{problem:?}");
    assert!(
        problem.reason.contains("with a login form"),
        "{}",
        problem.reason
    );
    server.stop().await;
}

/// A token endpoint whose answer no setting of the target file could explain (HTML, malformed
/// JSON, JSON of the wrong types, bytes that are not UTF-8, a body past the size cap) is the
/// server's fault (`check` exits 3 with what came), not "fix the target file" (exit 2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_no_setting_explains_are_the_servers_fault() {
    use pkce_harness::engine::preflight::ProblemKind;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let big = format!("{{\"access_token\": \"{}\"}}", "a".repeat(11 * 1024 * 1024));
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "html",
            b"<html><h1>Welcome</h1></html>".to_vec(),
            "text/html",
        ),
        (
            "malformed",
            b"{\"access_token\": ".to_vec(),
            "application/json",
        ),
        (
            "wrong types",
            b"{\"access_token\": 5}".to_vec(),
            "application/json",
        ),
        (
            "not utf-8",
            b"{\"access_token\": \"\xff\"}".to_vec(),
            "application/json",
        ),
        ("past the cap", big.into_bytes(), "application/json"),
    ];
    for (what, body, mime) in cases {
        let server = MockServer::start().await;
        crate::odd_targets::authorize_returns(&server, crate::odd_targets::code_redirect()).await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, mime))
            .mount(&server)
            .await;
        let uri = server.uri();
        let text = format!(
            "format: 1\nendpoints: {{authorization: \"{uri}/authorize\", token: \"{uri}/token\"}}\nclients:\n  public: {{client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}}\n  confidential: {{client_id: c, client_secret: s3cr3t-value-0123, auth_method: client_secret_basic, redirect_uri: \"http://127.0.0.1:8765/cb\"}}\nlogin: {{auto: {{}}}}\n"
        );
        let file = pkce_harness::target::parse_target("t.yaml", &text).expect("parses");
        let target = engine::resolve(file, Default::default(), &Default::default())
            .await
            .expect("resolves");
        let found = preflight(Arc::new(target), &RunOptions::default()).await;
        let problem = found.checks[0].problem.as_ref().expect("the flow fails");
        assert_eq!(
            problem.kind,
            ProblemKind::ServerFault,
            "{what}: {}",
            problem.reason
        );
    }
}
