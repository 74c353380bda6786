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
            "--scenarios",
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
