//! Every scheduled check yields exactly one result: scenario files that once panicked the
//! engine (and vanished from the report while the run exited 0) now run to a verdict, and
//! numbers that once panicked the command line are refused with their range.

use std::collections::BTreeSet;
use std::sync::Arc;

use pkce_harness::engine::{self, RunOptions};
use pkce_harness::scenario::{Scenario, parse_scenario};
use pkce_harness::verdict::Verdict;

fn scenario(id: &str, steps: &str) -> Scenario {
    let text = format!(
        "format: 1\ntitle: {id}\nrequirements: [REQ-53]\nclients: [public, confidential]\nsteps:\n{steps}"
    );
    Scenario {
        id: format!("edge/{id}"),
        path: format!("{id}.yaml").into(),
        file: parse_scenario(id, &text).expect("the file loads, as validate says"),
    }
}

/// A one-character `plain` verifier with a standard-alphabet challenge sliced the challenge at
/// byte 2; a duplicated challenge ending in a non-ASCII character sliced inside it.
#[tokio::test(flavor = "multi_thread")]
async fn scenarios_that_panicked_the_engine_now_yield_one_verdict_each() {
    let (server, target) = super::reference(BTreeSet::new()).await;
    let scenarios = [
        scenario(
            "one-char-plain-standard-alphabet",
            "  - authorize:\n      pkce: {verifier: \"a\", method: plain, challenge: standard-alphabet}\n      expect: {outcome: refused}\n",
        ),
        scenario(
            "duplicated-non-ascii",
            "  - authorize:\n      pkce: {verifier: \"abcé\", method: plain, challenge: duplicated}\n      expect: {outcome: refused}\n",
        ),
        scenario(
            "state-of-the-longest-length",
            "  - authorize:\n      state: {length: 4096}\n  - token: {}\n",
        ),
    ];
    let report = engine::run(
        &scenarios,
        Arc::new(target),
        &RunOptions::default(),
        &mut |_| {},
    )
    .await;
    server.stop().await;
    assert_eq!(report.results.len(), 6, "{:#?}", report.results);
    for r in &report.results {
        assert!(
            !r.reason.contains("harness fault"),
            "{}: {}",
            r.id,
            r.reason
        );
        assert_eq!(r.verdict, Verdict::Pass, "{}: {}", r.id, r.reason);
    }
}

fn harness(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pkce-harness"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("runs")
}

#[test]
fn flags_out_of_range_are_usage_errors_not_panics() {
    for (args, says) in [
        (
            &["run", "--request-timeout", "1e20"][..],
            "--request-timeout must be a number of seconds above 0 and at most 86400",
        ),
        (
            &["run", "--scenario-timeout", "1e20"][..],
            "--scenario-timeout must be a number of seconds above 0",
        ),
        (
            &["run", "--scenario-timeout", "nan"][..],
            "--scenario-timeout must be",
        ),
        (
            &["run", "--request-timeout=-1"][..],
            "--request-timeout must be",
        ),
        (&["run", "--jobs", "0"][..], "0 is not in 1..=256"),
        (
            &["run", "--max-body", "0"][..],
            "0 is not in 1..=1073741824",
        ),
    ] {
        let out = harness(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// A FIFO named like a scenario is refused by name instead of hanging the run, a symlink loop is
/// entered once, and a file reached through two paths is one scenario.
#[test]
fn the_scenario_folder_is_read_bounded() {
    let dir = std::env::temp_dir().join(format!("pkce-harness-folder-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("spec")).expect("temp folder");
    std::fs::write(
        dir.join("spec/one.yaml"),
        "format: 1\ntitle: t\nrequirements: [REQ-50]\nsteps:\n  - authorize: {}\n",
    )
    .expect("write");
    std::os::unix::fs::symlink(&dir, dir.join("spec/loop")).expect("symlink");
    std::os::unix::fs::symlink(dir.join("spec/one.yaml"), dir.join("alias.yaml")).expect("symlink");
    let made = std::process::Command::new("mkfifo")
        .arg(dir.join("spec/pipe.yaml"))
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let errors = pkce_harness::scenario::load_dir(&dir).expect_err("the FIFO is refused");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]
            .to_string()
            .contains("pipe.yaml: not a regular file"),
        "{}",
        errors[0]
    );
    std::fs::remove_file(dir.join("spec/pipe.yaml")).expect("rm fifo");
    let loaded = pkce_harness::scenario::load_dir(&dir).expect("loads");
    assert_eq!(
        loaded.len(),
        1,
        "{:?}",
        loaded.iter().map(|s| &s.id).collect::<Vec<_>>()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
