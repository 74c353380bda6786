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

/// The reference server forgets: records expire with age and no table outgrows its capacity, so
/// a long-running `serve-reference` does not grow with every run it serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_server_keeps_bounded_state() {
    use pkce_harness::server::{ReferenceServer, Retention, ServerConfig};
    let _heavy = super::HEAVY.write().await;
    let library = super::library();
    let run = |server: &ReferenceServer| {
        let file = server.target_file();
        let library = library.clone();
        async move {
            let target = engine::resolve(file, Default::default(), &Default::default())
                .await
                .expect("resolves");
            engine::run(
                &library,
                Arc::new(target),
                &RunOptions::default(),
                &mut |_| {},
            )
            .await
        }
    };
    // By count: ten tables (requests, sessions, codes, tokens, refresh tokens, verifiers,
    // arrivals, client assertions, pushed requests, DPoP proofs) of at most 40 records each,
    // however many runs.
    let small = ReferenceServer::start(ServerConfig {
        retention: Retention {
            retention: std::time::Duration::from_secs(600),
            capacity: 40,
        },
        ..ServerConfig::default()
    })
    .await
    .expect("starts");
    for _ in 0..2 {
        run(&small).await;
        assert!(small.records() <= 10 * 40, "{} records", small.records());
    }
    small.stop().await;
    // By age: see the unit tests of the server's tables (`server::state`).
}

mod arbitrary_steps {
    use super::*;
    use proptest::prelude::*;

    /// A YAML string for any text (JSON strings are YAML 1.2 double-quoted scalars).
    fn q(s: &str) -> String {
        serde_json::to_string(s).expect("json")
    }

    fn challenge() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("derived".to_owned()),
            Just("omit".to_owned()),
            Just("empty".to_owned()),
            Just("padded".to_owned()),
            Just("standard-alphabet".to_owned()),
            Just("duplicated".to_owned()),
            (0usize..=4096).prop_map(|n| format!("{{length: {n}}}")),
            any::<String>().prop_map(|s| format!("{{literal: {}}}", q(&s.replace('{', "")))),
        ]
    }

    fn authorize() -> impl Strategy<Value = String> {
        (
            challenge(),
            proptest::option::of(any::<String>()),
            prop_oneof![Just("~".to_owned()), Just("S256".to_owned()), Just("plain".to_owned()), "[a-zA-Z0-9]{0,6}"],
            prop_oneof![Just("random".to_owned()), Just("omit".to_owned()), (0usize..=4096).prop_map(|n| format!("{{length: {n}}}"))],
            prop_oneof![Just("registered".to_owned()), Just("omit".to_owned()), Just("{mutate: path-case}".to_owned()), Just("{mutate: fragment}".to_owned())],
            proptest::collection::btree_map("[a-z_]{1,12}", any::<String>(), 0..3),
        )
            .prop_map(|(challenge, verifier, method, state, redirect, set)| {
                let verifier = verifier
                    .map(|v| format!(", verifier: {}", q(&v.replace('{', ""))))
                    .unwrap_or_default();
                let set: Vec<String> = set
                    .into_iter()
                    .map(|(k, v)| format!("{k}: {}", q(&v.replace('{', ""))))
                    .collect();
                format!(
                    "  - authorize:\n      pkce: {{challenge: {challenge}, method: {method}{verifier}}}\n      state: {state}\n      redirect_uri: {redirect}\n      params: {{set: {{{}}}, repeat: [state]}}\n      expect: {{outcome: refused, refusal_passes: refused}}\n",
                    set.join(", ")
                )
            })
    }

    fn token() -> impl Strategy<Value = String> {
        (
            prop_oneof![Just("flow"), Just("omit"), Just("garbled")],
            prop_oneof![Just("flow".to_owned()), Just("omit".to_owned()), Just("empty".to_owned()), Just("wrong".to_owned()), Just("reversed".to_owned()), Just("challenge".to_owned()), any::<String>().prop_map(|s| format!("{{literal: {}}}", q(&s.replace('{', ""))))],
            prop_oneof![Just("default"), Just("basic"), Just("post"), Just("omit"), Just("both"), Just("wrong-secret"), Just("query"), Just("client-id-only")],
            prop_oneof![Just("POST"), Just("GET"), Just("PUT")],
        )
            .prop_map(|(code, verifier, auth, method)| {
                format!(
                    "  - token:\n      code: {code}\n      verifier: {verifier}\n      auth: {auth}\n      http_method: {method}\n      expect: {{}}\n"
                )
            })
    }

    /// Any step specification that loads runs through the engine's request building against
    /// the reference server to exactly one result per client, never a harness fault.
    #[test]
    fn any_step_that_loads_runs_to_a_result() {
        use proptest::test_runner::{Config, TestRunner};
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("rt");
        let (server, target) = rt.block_on(crate::reference(BTreeSet::new()));
        let target = Arc::new(target);
        let loaded = std::cell::Cell::new(0);
        let mut runner = TestRunner::new(Config {
            cases: 40,
            failure_persistence: None,
            ..Config::default()
        });
        let outcome = runner.run(&(authorize(), token()), |(a, t)| {
            let text = format!(
                "format: 1\ntitle: arbitrary\nrequirements: [REQ-21]\nclients: [public, confidential]\nsteps:\n{a}{t}"
            );
            let Ok(file) = parse_scenario("arbitrary.yaml", &text) else {
                return Ok(());
            };
            loaded.set(loaded.get() + 1);
            let scenario = Scenario {
                id: "arbitrary/case".into(),
                path: "arbitrary.yaml".into(),
                file,
            };
            let report = rt.block_on(engine::run(
                &[scenario],
                Arc::clone(&target),
                &RunOptions::default(),
                &mut |_| {},
            ));
            prop_assert_eq!(report.results.len(), 2);
            for r in &report.results {
                prop_assert!(!r.reason.contains("harness fault"), "{}", r.reason);
            }
            Ok(())
        });
        rt.block_on(server.stop());
        outcome.expect("every loaded case yields one result per client");
        assert!(
            loaded.get() >= 20,
            "only {} of 40 generated cases loaded",
            loaded.get()
        );
    }
}
