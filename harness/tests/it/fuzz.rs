//! `pkce-harness fuzz` against the reference server: each defect of the fuzzed surfaces is
//! found without a scenario naming it, the clean server yields no finding, and a finding's
//! emitted scenario fails against the server it came from and passes against the clean one.

use std::collections::BTreeSet;
use std::sync::Arc;

use pkce_harness::defect::Defect;
use pkce_harness::differential::{FuzzOptions, Surface, fuzz};
use pkce_harness::engine::{self, RunOptions};
use pkce_harness::verdict::Verdict;

fn options(surface: Surface, budget: usize) -> FuzzOptions {
    FuzzOptions {
        surfaces: vec![surface],
        budget,
        time: None,
        rate: None,
        shrink_budget: 60,
        fresh_sessions: false,
    }
}

fn run_options() -> RunOptions {
    RunOptions {
        seed: 7636,
        ..RunOptions::default()
    }
}

/// Fuzzes `surface` of the reference server with `defect` switched on (budget 200: three times
/// the most any of them needs at this seed, 66, as the README lists) and
/// asserts a finding whose class names `class`; prints the cases it took.
async fn finds(defect: Defect, surface: Surface, class: &str) {
    let _heavy = super::HEAVY.write().await;
    let (server, target) = super::reference(BTreeSet::from([defect])).await;
    let out = fuzz(
        Arc::new(target),
        &run_options(),
        &options(surface, 200),
        &mut |_| {},
    )
    .await;
    server.stop().await;
    let found = out
        .findings
        .iter()
        .find(|f| f.class.contains(class))
        .unwrap_or_else(|| {
            let seen: Vec<&str> = out.findings.iter().map(|f| f.class.as_str()).collect();
            panic!(
                "{} not found on {surface:?} ({class}); findings: {seen:?}",
                defect.name()
            )
        });
    eprintln!(
        "{}: found by {} after {} judged cases; smallest {:?}",
        defect.name(),
        surface.name(),
        found.first_at + 1,
        found.input
    );
    assert_eq!(out.report.exit_status(), 1);
}

/// One test per defect of the fuzzed surfaces: found without a scenario naming it.
macro_rules! found_without_a_scenario {
    ($($test:ident: $defect:ident on $surface:ident, $class:literal;)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                finds(Defect::$defect, Surface::$surface, $class).await;
            }
        )*
    };
}

found_without_a_scenario! {
    no_verifier_abnf: NoVerifierAbnf on Verifier, "accepts verifiers shorter than 43";
    no_challenge_abnf: NoChallengeAbnf on Challenge, "accepts S256 challenges";
    accepts_unknown_method: AcceptsUnknownMethod on Challenge, "code_challenge_method";
    method_absent_accepted: MethodAbsentAccepted on Challenge, "absent or empty code_challenge_method";
    accepts_plain: AcceptsPlain on Challenge, "plain";
    prefix_redirect_match: PrefixRedirectMatch on Redirect, "PathSuffix";
    case_insensitive_redirect: CaseInsensitiveRedirect on Redirect, "UpperPath";
    userinfo_redirect: UserinfoRedirect on Redirect, "Userinfo";
    loopback_host_confusion: LoopbackHostConfusion on Redirect, "Localhost";
    loopback_port_strict: LoopbackPortStrict on Redirect, "refuses the public client's redirect URI (Port)";
    redirects_to_unregistered: RedirectsToUnregistered on Redirect, "accepts the confidential client's redirect URI";
    fragment_redirect_accepted: FragmentRedirectAccepted on Redirect, "Fragment";
    state_truncated: StateTruncated on State, "does not echo a long state exactly";
}

/// The fuzzer's cases start in sessions earlier cases left logged in: one case at a time, only
/// the first logs in (the consent a public client is asked every time still comes, and every
/// case passes). With new sessions every case logs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_sessions_log_in_once() {
    use pkce_harness::engine::Sessions;
    use pkce_harness::scenario::{Scenario, parse_scenario};
    let (server, target) = super::reference(BTreeSet::new()).await;
    let target = Arc::new(target);
    let yaml = "format: 1\ntitle: a flow\nrequirements: [REQ-54]\nlevel: must\nsteps:\n  - authorize: {}\n  - token:\n      expect: {status: 200}\n";
    let cases: Vec<Scenario> = (0..4)
        .map(|i| Scenario {
            id: format!("case-{i}"),
            path: format!("case-{i}").into(),
            file: parse_scenario("case.yaml", yaml).expect("loads"),
        })
        .collect();
    for (sessions, logins) in [(Sessions::kept(), 1), (Sessions::Fresh, 4)] {
        let opts = RunOptions {
            jobs: 1,
            sessions: sessions.clone(),
            ..run_options()
        };
        let report = engine::run(&cases, Arc::clone(&target), &opts, &mut |_| {}).await;
        for r in &report.results {
            assert_eq!(
                r.verdict,
                Verdict::Pass,
                "{sessions:?} {}: {}",
                r.id,
                r.reason
            );
        }
        let logged_in = report
            .results
            .iter()
            .filter(|r| {
                r.login
                    .iter()
                    .any(|l| l.starts_with("submit form") && l.contains("password"))
            })
            .count();
        assert_eq!(logged_in, logins, "{sessions:?}");
    }
    server.stop().await;
}

/// The clean server: every decision is the oracle's on every surface.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clean_server_yields_no_finding() {
    let _heavy = super::HEAVY.write().await;
    let (server, target) = super::reference(BTreeSet::new()).await;
    let opts = FuzzOptions {
        surfaces: Surface::ALL.to_vec(),
        ..options(Surface::Verifier, 600)
    };
    let out = fuzz(Arc::new(target), &run_options(), &opts, &mut |_| {}).await;
    server.stop().await;
    let seen: Vec<&str> = out.findings.iter().map(|f| f.class.as_str()).collect();
    assert!(out.findings.is_empty(), "{seen:?}");
    assert!(
        out.report
            .results
            .iter()
            .all(|r| r.verdict == Verdict::Pass)
    );
    assert_eq!(out.report.exit_status(), 0);
}

/// A server that takes a challenge without method as S256 (not plain, as RFC 7636 §4.3 says)
/// issues codes for those cases, but its token endpoint never redeems one with the challenge as
/// a plain verifier: the oracle judges the method where it is defined, so no finding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absent_method_taken_as_s256_is_no_finding() {
    let _heavy = super::HEAVY.write().await;
    let (server, target) = super::reference_with(pkce_harness::server::ServerConfig {
        absent_method_s256: true,
        ..Default::default()
    })
    .await;
    let out = fuzz(
        Arc::new(target),
        &run_options(),
        &options(Surface::Challenge, 300),
        &mut |_| {},
    )
    .await;
    server.stop().await;
    let seen: Vec<&str> = out.findings.iter().map(|f| f.class.as_str()).collect();
    assert!(out.findings.is_empty(), "{seen:?}");
}

/// A finding written out as a scenario is a regression check: it fails against the server it
/// came from and passes against the clean reference server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emitted_scenario_fails_where_found_and_passes_on_the_clean_server() {
    let _heavy = super::HEAVY.write().await;
    let (server, target) = super::reference(BTreeSet::from([Defect::NoVerifierAbnf])).await;
    let target = Arc::new(target);
    let out = fuzz(
        Arc::clone(&target),
        &run_options(),
        &options(Surface::Verifier, 200),
        &mut |_| {},
    )
    .await;
    let finding = out.findings.first().expect("a finding");
    let scenario = pkce_harness::scenario::Scenario {
        id: "fuzz/emitted".into(),
        path: "fuzz/emitted.yaml".into(),
        file: pkce_harness::scenario::parse_scenario("emitted.yaml", &finding.scenario)
            .expect("the emitted scenario loads"),
    };
    let against = |t| async {
        let r = engine::run(
            std::slice::from_ref(&scenario),
            t,
            &run_options(),
            &mut |_| {},
        )
        .await;
        r.results[0].verdict
    };
    assert_eq!(against(Arc::clone(&target)).await, Verdict::Fail);
    server.stop().await;
    let (clean, clean_target) = super::reference(BTreeSet::new()).await;
    assert_eq!(against(Arc::new(clean_target)).await, Verdict::Pass);
    clean.stop().await;
}

/// A server that fails every case stops each surface after one batch, with the reason, and
/// the run exits 3: noise is not reported as findings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_server_stops_the_surface_with_the_reason() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port")
        .port();
    let text = format!(
        "format: 1\nendpoints: {{authorization: \"http://127.0.0.1:{closed}/authorize\", token: \"http://127.0.0.1:{closed}/token\"}}\nclients:\n  public: {{client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}}\n  confidential: {{client_id: c, client_secret: s3cret-s3cret, auth_method: client_secret_basic, redirect_uri: \"https://client.example/cb\"}}\nlogin: {{auto: {{}}}}\n"
    );
    let file = pkce_harness::target::parse_target("t.yaml", &text).expect("loads");
    let target = engine::resolve(file, Default::default(), &Default::default())
        .await
        .expect("resolves without discovery");
    let opts = FuzzOptions {
        surfaces: vec![Surface::Verifier, Surface::State],
        ..options(Surface::Verifier, 1000)
    };
    let out = fuzz(Arc::new(target), &run_options(), &opts, &mut |_| {}).await;
    assert!(out.findings.is_empty());
    assert_eq!(out.report.results.len(), 2);
    for r in &out.report.results {
        assert_eq!(r.verdict, Verdict::Error, "{}", r.reason);
        assert!(
            r.reason
                .starts_with("stopped after 0 judged cases: most of a batch could not be judged"),
            "{}",
            r.reason
        );
    }
    assert_eq!(out.report.exit_status(), 3);
}
