//! No false alarms and no hidden findings: what a declared policy does to a check, and which
//! exit code wins when a run has both failures and errors.

use std::collections::BTreeSet;
use std::sync::Arc;

use pkce_harness::defect::Defect;
use pkce_harness::engine::{self, RunOptions};
use pkce_harness::verdict::Verdict;

/// A server that accepts `plain` while its target file declares it allowed: the check still
/// runs and reports the acceptance as `info` saying why, never as silence (a skip).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_policy_documents_a_deviation_and_never_hides_it() {
    let library: Vec<_> = super::library()
        .into_iter()
        .filter(|s| s.id == "rfc7636/7.2-plain-refused")
        .collect();
    assert_eq!(library.len(), 1);
    let server = pkce_harness::server::ReferenceServer::start(pkce_harness::server::ServerConfig {
        defects: BTreeSet::from([Defect::AcceptsPlain]),
        ..Default::default()
    })
    .await
    .expect("starts");
    for (declared, verdict) in [(true, Verdict::Info), (false, Verdict::Fail)] {
        let mut file = server.target_file();
        file.policy.plain_allowed = declared;
        let target = engine::resolve(file, Default::default(), &Default::default())
            .await
            .expect("resolves");
        let report = engine::run(
            &library,
            Arc::new(target),
            &RunOptions::default(),
            &mut |_| {},
        )
        .await;
        let r = &report.results[0];
        assert_eq!(r.verdict, verdict, "declared {declared}: {}", r.reason);
        if declared {
            assert!(r.reason.contains("declares plain allowed"), "{}", r.reason);
        }
    }
    server.stop().await;
}

/// A run with both a failed MUST and a check that could not be judged exits 1: a proven failure
/// is news, and the errors are in the report.
#[test]
fn a_failure_outranks_an_error_in_the_exit_code() {
    let dir = std::env::temp_dir().join(format!("pkce-harness-exit-{}", std::process::id()));
    let scenarios = dir.join("scenarios/mixed");
    std::fs::create_dir_all(&scenarios).expect("dir");
    std::fs::write(
        scenarios.join("fails.yaml"),
        "format: 1\ntitle: wrong verifier\nrequirements: [REQ-50]\ncatches: [accepts-wrong-verifier]\nsteps:\n  - authorize: {}\n  - token:\n      verifier: wrong\n      expect: {status: 400, error: invalid_grant}\n",
    )
    .expect("write");
    std::fs::write(
        scenarios.join("errs.yaml"),
        "format: 1\ntitle: no code to redeem\nrequirements: [REQ-21]\ncatches: [broken-s256]\nsteps:\n  - authorize:\n      response_type: bogus\n      expect: {outcome: refused}\n  - token: {}\n",
    )
    .expect("write");
    // A declared wait longer than the time limit is not a time-out: the limit covers the
    // exchanges, the waits come on top (a 60 s code lifetime can be waited out).
    std::fs::write(
        scenarios.join("waits.yaml"),
        "format: 1\ntitle: waits\nrequirements: [REQ-21]\ncatches: [broken-s256]\nsteps:\n  - authorize: {}\n  - sleep: {seconds: 1.5}\n",
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pkce-harness"))
        .args([
            "run",
            "--scenarios-only",
            &dir.join("scenarios").display().to_string(),
            "--defect",
            "accepts-wrong-verifier",
            "--scenario-timeout",
            "1",
        ])
        .output()
        .expect("runs");
    let shown = String::from_utf8_lossy(&out.stdout);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(shown.contains("FAIL") && shown.contains("ERROR"), "{shown}");
    assert!(shown.contains("flow main got no code to redeem"), "{shown}");
    assert!(!shown.contains("did not finish"), "{shown}");
    assert_eq!(out.status.code(), Some(1), "{shown}");
}

/// Metadata at a place of the server's choosing is found through `metadata_url`; a server that
/// publishes none (RFC 8414 is optional) gets its metadata checks skipped with the reason, not
/// `error`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_where_the_server_puts_it_or_nowhere() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let metadata_checks: Vec<_> = super::library()
        .into_iter()
        .filter(|s| s.id.starts_with("rfc8414/"))
        .collect();
    assert!(metadata_checks.len() >= 4);
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(method("GET"))
        .and(path("/config/oauth.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "issuer": uri,
            "authorization_endpoint": format!("{uri}/authorize"),
            "token_endpoint": format!("{uri}/token"),
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
        })))
        .mount(&server)
        .await;
    let clients = "clients:\n  public: {client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}\n  confidential: {client_id: c, client_secret: s3cr3t-value, auth_method: client_secret_basic, redirect_uri: \"http://127.0.0.1:8765/cb\"}\nlogin: {auto: {}}\n";
    let run = |text: String| {
        let checks = metadata_checks.clone();
        async move {
            let file = pkce_harness::target::parse_target("t.yaml", &text).expect("parses");
            let target = engine::resolve(file, Default::default(), &Default::default())
                .await
                .expect("resolves");
            engine::run(
                &checks,
                Arc::new(target),
                &RunOptions::default(),
                &mut |_| {},
            )
            .await
        }
    };
    let found = run(format!(
        "format: 1\nissuer: \"{uri}\"\nmetadata_url: \"{uri}/config/oauth.json\"\n{clients}"
    ))
    .await;
    for r in &found.results {
        assert_eq!(r.verdict, Verdict::Pass, "{}: {}", r.id, r.reason);
    }
    let none = run(format!(
        "format: 1\nissuer: \"{uri}\"\nendpoints: {{authorization: \"{uri}/authorize\", token: \"{uri}/token\"}}\n{clients}"
    ))
    .await;
    for r in &none.results {
        assert_eq!(r.verdict, Verdict::Skip, "{}: {}", r.id, r.reason);
        assert!(r.reason.contains("publishes no metadata"), "{}", r.reason);
    }
}

/// A server that fails under concurrency (500 "database is locked" when two token requests
/// overlap) gets the same verdicts with the default `--jobs` as with one job: a scenario whose
/// server answered an unexpected 5xx runs again at lower concurrency, and the report counts
/// the failures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_do_not_depend_on_concurrency_against_a_server_that_locks() {
    let _heavy = super::HEAVY.write().await;
    let library: Vec<_> = super::library()
        .into_iter()
        .filter(|s| s.id.starts_with("rfc7636/"))
        .collect();
    let server = pkce_harness::server::ReferenceServer::start(pkce_harness::server::ServerConfig {
        busy_under_load: true,
        ..Default::default()
    })
    .await
    .expect("starts");
    let mut verdicts = Vec::new();
    let mut failures = Vec::new();
    for jobs in [8, 1] {
        let target = pkce_harness::selftest::reference_target(&server, &Default::default())
            .await
            .expect("resolves");
        let report = engine::run(
            &library,
            Arc::new(target),
            &RunOptions {
                jobs,
                seed: 11,
                ..RunOptions::default()
            },
            &mut |_| {},
        )
        .await;
        verdicts.push(
            report
                .results
                .iter()
                .map(|r| (r.id.clone(), r.verdict, r.reason.clone()))
                .collect::<Vec<_>>(),
        );
        failures.push(report.server_failures);
    }
    server.stop().await;
    let strip = |v: &Vec<(String, Verdict, String)>| {
        v.iter()
            .map(|(id, verdict, _)| (id.clone(), *verdict))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&verdicts[0]), strip(&verdicts[1]), "{verdicts:#?}");
    assert!(
        verdicts[1]
            .iter()
            .all(|(_, v, _)| *v == Verdict::Pass || *v == Verdict::Skip),
        "{:#?}",
        verdicts[1]
    );
    assert!(failures[0] > 0, "the default concurrency met the lock");
    assert!(
        verdicts[0]
            .iter()
            .any(|(_, _, reason)| reason.contains("the server failed (unexpected 5xx)")),
        "a re-run says so: {:#?}",
        verdicts[0]
    );
    assert_eq!(failures[1], 0, "one job at a time never does");
}

/// A login the driver cannot do (here: the wrong password) does not stop the checks that need
/// none: refusals at the authorization endpoint are still judged, the checks that need a code are
/// `error` saying why, and nothing is a false `fail`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_that_cannot_be_done_leaves_the_other_checks_running() {
    use pkce_harness::engine::preflight::{ProblemKind, preflight};
    use pkce_harness::redact::Secret;
    use pkce_harness::target::{ConfigSecret, LoginConfig};
    let _heavy = super::HEAVY.write().await;
    let server = pkce_harness::server::ReferenceServer::start(Default::default())
        .await
        .expect("starts");
    let mut file = server.target_file();
    if let LoginConfig::Form(form) = &mut file.login {
        form.fields.insert(
            "password".into(),
            ConfigSecret(Secret::new("not-the-password")),
        );
    }
    let target = Arc::new(
        engine::resolve(file, Default::default(), &Default::default())
            .await
            .expect("resolves"),
    );
    let found = preflight(Arc::clone(&target), &RunOptions::default()).await;
    let worst = found
        .checks
        .iter()
        .filter_map(|c| c.problem.as_ref().map(|p| p.kind))
        .max();
    assert_eq!(worst, Some(ProblemKind::Login));
    let report = engine::run(
        &super::library(),
        target,
        &RunOptions {
            login_blocked: Some("the password is refused".into()),
            ..RunOptions::default()
        },
        &mut |_| {},
    )
    .await;
    server.stop().await;
    let count = |v: Verdict| report.results.iter().filter(|r| r.verdict == v).count();
    assert_eq!(
        count(Verdict::Fail),
        0,
        "no false failure: {:#?}",
        report
            .results
            .iter()
            .filter(|r| r.verdict == Verdict::Fail)
            .collect::<Vec<_>>()
    );
    assert!(
        count(Verdict::Pass) >= 10,
        "the checks that need no login ran: {}",
        count(Verdict::Pass)
    );
    let missing = report
        .results
        .iter()
        .find(|r| r.id == "rfc7636/4.4.1-missing-challenge-public")
        .expect("listed");
    assert_eq!(missing.verdict, Verdict::Pass, "{}", missing.reason);
    assert!(report
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Error)
        .all(|r| r.reason.contains("needs a completed login")), "{:#?}", report.results.iter().filter(|r| r.verdict == Verdict::Error && !r.reason.contains("needs a completed login")).map(|r| (&r.id, &r.reason)).collect::<Vec<_>>());
}

/// An authorization endpoint reached later than a pushed request lives (a busy server, a
/// browser slow to start on a busy machine): the request_uri expires before it is used. A refusal of it is then no
/// finding either way: the check that expects a code is `error`, not `fail`, and the one that
/// expects a second use refused is `error`, not a `pass` it never observed. Both name the
/// lifetime and the age.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_request_outlived_by_a_slow_login_is_no_finding() {
    use std::time::Duration;
    let results = run_against(
        pkce_harness::server::ServerConfig {
            request_uri_lifetime: Duration::from_millis(300),
            authorization_delay: Duration::from_millis(1200),
            ..Default::default()
        },
        &[
            "rfc9126/4-pushed-challenge-is-checked",
            "rfc9126/4-request-uri-single-use",
        ],
    )
    .await;
    assert!(results.len() >= 3, "{results:#?}");
    for r in &results {
        assert_eq!(r.verdict, Verdict::Error, "{}: {}", r.id, r.reason);
        assert!(
            r.reason.contains("request_uri was used")
                && r.reason.contains("expires_in")
                && r.reason.contains("took too long"),
            "{}: {}",
            r.id,
            r.reason
        );
    }
}

/// Runs the library scenarios named by `ids` against a reference server set up by `config`.
async fn run_against(
    config: pkce_harness::server::ServerConfig,
    ids: &[&str],
) -> Vec<pkce_harness::verdict::ScenarioResult> {
    run_against_adjusted(config, ids, |_| {}).await
}

/// [`run_against`], the resolved target changed by `adjust` first (an endpoint taken away).
async fn run_against_adjusted(
    config: pkce_harness::server::ServerConfig,
    ids: &[&str],
    adjust: impl FnOnce(&mut engine::ResolvedTarget),
) -> Vec<pkce_harness::verdict::ScenarioResult> {
    let library: Vec<_> = super::library()
        .into_iter()
        .filter(|s| ids.contains(&s.id.as_str()))
        .collect();
    assert_eq!(library.len(), ids.len(), "every id is in the library");
    let server = pkce_harness::server::ReferenceServer::start(config)
        .await
        .expect("starts");
    let mut target = engine::resolve(
        server.target_file(),
        Default::default(),
        &Default::default(),
    )
    .await
    .expect("resolves");
    adjust(&mut target);
    let report = engine::run(
        &library,
        Arc::new(target),
        &RunOptions::default(),
        &mut |_| {},
    )
    .await;
    server.stop().await;
    report.results
}

/// A server that refuses the PKCE attacks with an error page instead of an error redirect let
/// nothing through: each such check is a low `warn` of the form (RFC 6749 §4.1.2.1, REQ-94),
/// quoting what the page says, never the high MUST failure of the bypass; `--fail-on high`
/// passes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_in_another_form_is_a_low_finding_of_its_form_not_the_bypass() {
    let ids = [
        "rfc7636/4.4.1-missing-challenge-public",
        "rfc7636/4.4.1-unknown-method-s512",
        "rfc7636/4.4.1-method-is-case-sensitive",
        "rfc7636/7.2-plain-refused",
        "rfc6749/3.1-empty-challenge-is-missing",
    ];
    let results = run_against(
        pkce_harness::server::ServerConfig {
            defects: BTreeSet::from([Defect::RefusalPages]),
            ..Default::default()
        },
        &ids,
    )
    .await;
    for r in &results {
        assert_eq!(r.verdict, Verdict::Warn, "{}: {}", r.id, r.reason);
        assert_eq!(r.layer, pkce_harness::verdict::Layer::Form, "{}", r.id);
        assert_eq!(r.severity, pkce_harness::defect::Severity::Low, "{}", r.id);
        assert_eq!(r.requirements, ["REQ-94"], "{}", r.id);
        assert!(
            r.reason.contains("refused as expected") && r.reason.contains("got a page (HTTP 400"),
            "{}: {}",
            r.id,
            r.reason
        );
        // The page's own words, not only its title.
        assert!(
            r.reason.contains(": \"invalid_request: "),
            "{}: {}",
            r.id,
            r.reason
        );
        let json = serde_json::to_value(r).expect("serialises");
        assert_eq!(json["layer"], "form", "{}", r.id);
    }
    // The same checks against the clean server: a pass, and no layer in the JSON.
    let clean = run_against(Default::default(), &ids).await;
    for r in &clean {
        assert_eq!(r.verdict, Verdict::Pass, "{}: {}", r.id, r.reason);
        let json = serde_json::to_value(r).expect("serialises");
        assert!(json.get("layer").is_none(), "{}", r.id);
    }
}

/// A server that answers a redirect URI it does not match with an error sent to the client's
/// registered one sent nothing where the request said: each redirect-URI check is a low `warn`
/// of the form (RFC 6749 §4.1.2.1, REQ-26), not the high failure of an open redirector; the
/// error sent to the URI the request named is that failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_sent_to_the_registered_uri_is_the_form_not_the_open_redirect() {
    let ids = [
        "rfc9700/4.1.3-redirect-uri-path-suffix",
        "rfc9700/4.1.3-redirect-uri-other-host",
        "rfc9700/4.1.3-redirect-uri-extra-query",
        "rfc9700/4.1.3-redirect-uri-scheme-swap",
    ];
    let with = |defect| pkce_harness::server::ServerConfig {
        defects: BTreeSet::from([defect]),
        ..Default::default()
    };
    let results = run_against(with(Defect::RedirectErrorsToRegistered), &ids).await;
    assert!(!results.is_empty());
    for r in &results {
        assert_eq!(r.verdict, Verdict::Warn, "{}: {}", r.id, r.reason);
        assert_eq!(r.layer, pkce_harness::verdict::Layer::Form, "{}", r.id);
        assert_eq!(r.severity, pkce_harness::defect::Severity::Low, "{}", r.id);
        assert_eq!(r.requirements, ["REQ-26"], "{}", r.id);
        assert!(
            r.reason.contains("expected an error page")
                && r.reason.contains("error=invalid_request"),
            "{}: {}",
            r.id,
            r.reason
        );
    }
    let open = run_against(with(Defect::RedirectsToUnregistered), &ids).await;
    for r in &open {
        assert_eq!(r.verdict, Verdict::Fail, "{}: {}", r.id, r.reason);
        assert_eq!(r.severity, pkce_harness::defect::Severity::High, "{}", r.id);
    }
}

/// RFC 7636 §4.3 makes an absent method plain. A server that takes it as S256 instead issues a
/// code, and its token endpoint refuses the challenge sent as a plain verifier: plain is never
/// accepted, so the check passes; a server that takes it as plain redeems the code with the
/// challenge and fails the check. The property is judged where it is defined, at the token
/// endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absent_method_is_judged_by_what_the_token_endpoint_accepts() {
    let id = "rfc7636/4.3-method-absent-means-plain";
    let as_s256 = run_against(
        pkce_harness::server::ServerConfig {
            absent_method_s256: true,
            ..Default::default()
        },
        &[id],
    )
    .await;
    assert_eq!(as_s256[0].verdict, Verdict::Pass, "{}", as_s256[0].reason);
    let as_plain = run_against(
        pkce_harness::server::ServerConfig {
            defects: BTreeSet::from([Defect::MethodAbsentAccepted]),
            ..Default::default()
        },
        &[id],
    )
    .await;
    assert_eq!(as_plain[0].verdict, Verdict::Fail, "{}", as_plain[0].reason);
    assert!(
        as_plain[0].reason.contains("step 2 (token)") && as_plain[0].reason.contains("got 200"),
        "{}",
        as_plain[0].reason
    );
}

/// `state` in an error response is provoked with an unknown method; a server that accepts the
/// method sends no error response, so the check has nothing to judge: a skip saying so, never a
/// failure of REQ-12, which was not observed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provocation_that_does_not_provoke_is_a_skip_not_a_finding() {
    let results = run_against(
        pkce_harness::server::ServerConfig {
            defects: BTreeSet::from([Defect::AcceptsUnknownMethod]),
            ..Default::default()
        },
        &["rfc6749/4.1.2.1-state-in-error-response"],
    )
    .await;
    let r = &results[0];
    assert_eq!(r.verdict, Verdict::Skip, "{}", r.reason);
    assert!(
        r.reason.contains("was not refused") && r.reason.contains("with a code"),
        "{}",
        r.reason
    );
}

/// After a replayed code the server revokes the tokens, and its userinfo answers 500 for a
/// revoked token. That 500 is no finding of non-revocation: where the target has
/// introspection, it answers (`active: false`, a pass saying so); where it has none, the check
/// cannot be judged (`error`, the server failed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_that_fails_on_revoked_tokens_is_asked_through_introspection() {
    let config = || pkce_harness::server::ServerConfig {
        revoked_userinfo_fails: true,
        ..Default::default()
    };
    let id = ["rfc6749/10.5-replay-revokes-access-token"];
    let asked = run_against_adjusted(config(), &id, |t| assert!(t.introspection.is_some())).await;
    let r = &asked[0];
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.reason);
    assert!(
        r.reason
            .contains("the resource answered HTTP 500, so introspection was asked")
            && r.reason.contains("is not active"),
        "{}",
        r.reason
    );
    let unasked = run_against_adjusted(config(), &id, |t| t.introspection = None).await;
    let r = &unasked[0];
    assert_eq!(r.verdict, Verdict::Error, "{}", r.reason);
    assert!(
        r.reason.contains("the server failed: HTTP 500"),
        "{}",
        r.reason
    );
}

/// A server that refuses a replayed code with 403 `access_denied` (RFC 6749 §5.2 asks for 400
/// `invalid_grant`) issued nothing: the replay checks are a low form finding (REQ-43), and the
/// check of revocation goes on past that refusal to judge what it is about: a pass of the
/// property when the tokens are revoked (so the form is the finding), its own `warn` at REQ-59
/// when they are not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_refused_in_another_form_still_reaches_the_revocation_it_checks() {
    let ids = [
        "rfc6749/10.5-code-replay",
        "oidc-core/3.1.3.2-replayed-code-gives-no-id-token",
        "rfc6749/10.5-replay-revokes-access-token",
    ];
    let forbidden = pkce_harness::server::ServerConfig {
        replay_forbidden: true,
        ..Default::default()
    };
    let results = run_against(forbidden.clone(), &ids).await;
    assert!(results.len() >= ids.len());
    for r in &results {
        assert_eq!(r.verdict, Verdict::Warn, "{}: {}", r.id, r.reason);
        assert_eq!(r.layer, pkce_harness::verdict::Layer::Form, "{}", r.id);
        assert_eq!(r.requirements, ["REQ-43"], "{}", r.id);
        assert!(r.reason.contains("got 403"), "{}: {}", r.id, r.reason);
    }
    let kept = run_against(
        pkce_harness::server::ServerConfig {
            defects: BTreeSet::from([Defect::NoRevokeOnReplay]),
            ..forbidden
        },
        &["rfc6749/10.5-replay-revokes-access-token"],
    )
    .await;
    let r = &kept[0];
    assert_eq!(r.verdict, Verdict::Warn, "{}", r.reason);
    assert_eq!(
        r.layer,
        pkce_harness::verdict::Layer::Property,
        "{}",
        r.reason
    );
    assert_eq!(r.requirements, ["REQ-59", "BUG-22"], "{}", r.reason);
    assert!(r.reason.contains("step 5 (userinfo)"), "{}", r.reason);
}

/// A server that requires `nonce` in the code flow (OpenID Connect Core §3.1.2.1 makes it
/// optional) is found under the requirement observed, REQ-97; the check of what a nonce-less ID
/// Token carries (REQ-71) never got an ID Token, so it is a skip saying why, not a failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_nonce_is_reported_as_what_was_observed() {
    let results = run_against(
        pkce_harness::server::ServerConfig {
            defects: BTreeSet::from([Defect::NonceRequired]),
            ..Default::default()
        },
        &[
            "oidc-core/2-no-nonce-when-none-sent",
            "oidc-core/3.1.2.1-nonce-optional-in-code-flow",
        ],
    )
    .await;
    let by_id = |id: &str| {
        results
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("{id} ran"))
    };
    let unreached = by_id("oidc-core/2-no-nonce-when-none-sent");
    assert_eq!(unreached.verdict, Verdict::Skip, "{}", unreached.reason);
    assert!(
        unreached.reason.contains("the server requires nonce")
            && unreached.reason.contains("nonce is required"),
        "{}",
        unreached.reason
    );
    let found = by_id("oidc-core/3.1.2.1-nonce-optional-in-code-flow");
    assert_eq!(found.verdict, Verdict::Warn, "{}", found.reason);
    assert_eq!(found.requirements, ["REQ-97"]);
}

/// A server whose revocation endpoint answers 200 and revokes nothing gives no proof that a
/// token survived an attempt by another client, or that an unauthenticated request was rightly
/// refused: both checks are `error`, saying the server revokes nothing, never `pass`. Only the
/// check of revocation itself fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_revokes_nothing_proves_no_revocation_refusal() {
    let ids = [
        "rfc7009/2.1-revoked-refresh-token-refused",
        "rfc7009/2.1-token-of-another-client-not-revoked",
        "rfc7009/2.1-revocation-requires-client-authentication",
    ];
    let results = run_against(
        pkce_harness::server::ServerConfig {
            defects: BTreeSet::from([Defect::RevocationIgnored]),
            ..Default::default()
        },
        &ids,
    )
    .await;
    let verdict = |id: &str| {
        let r = results.iter().find(|r| r.id == id).expect("ran");
        (r.verdict, r.reason.clone())
    };
    assert_eq!(verdict(ids[0]).0, Verdict::Fail, "{}", verdict(ids[0]).1);
    for id in &ids[1..] {
        let (v, reason) = verdict(id);
        assert_eq!(v, Verdict::Error, "{id}: {reason}");
        assert!(
            reason.contains("the server revokes nothing"),
            "{id}: {reason}"
        );
    }
}
