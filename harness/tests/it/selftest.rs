//! The kill matrix: every scenario passes against the clean reference server and fails against
//! the defects it lists; every defect is caught. A check that cannot fail is a defect.

use std::sync::Arc;

use pkce_harness::defect::Defect;
use pkce_harness::engine::{self, RunOptions};
use pkce_harness::scenario::model::Profile;
use pkce_harness::selftest::Scope;
use pkce_harness::verdict::Verdict;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_can_fail_and_every_defect_is_caught() {
    let _heavy = super::HEAVY.write().await;
    let library = super::library();
    assert!(
        library.len() >= 60,
        "the library has {} scenarios",
        library.len()
    );
    assert!(Defect::ALL.len() >= 20);
    let opts = RunOptions {
        seed: 7636,
        ..RunOptions::default()
    };
    // Each defect against the scenarios that list it: the gaps are the same as with the whole
    // library (`pkce-harness selftest` without `--listed`), in a fraction of the time.
    let m = pkce_harness::selftest::selftest(&library, &opts, 4, Scope::Listed)
        .await
        .expect("self-test runs");
    assert!(
        m.gaps.is_empty(),
        "kill matrix gaps:\n{}",
        m.gaps.join("\n")
    );
    assert_eq!(m.caught.len(), Defect::ALL.len());
}

/// Under every profile, with client-secret clients and with client-assertion clients: every
/// scenario passes, or is skipped for a reason that holds for that server (a profile's rule, or
/// the other kind of client authentication).
///
/// The thirteen runs go four at a time, each against its own server (they send the same seeded
/// values, which one server would take for replays): most of a run is waiting on the network
/// and on the scenarios that sleep, so side by side they take a fraction of the time, and the
/// verdicts must not depend on the load the others make. Four, not thirteen: the TLS set-ups'
/// handshakes load both cores, and a check whose code outlives its 1.5 s lifetime under that
/// load is an `error` by design (the harness overran it), which this test would report.
///
/// Outside FAPI 2.0 a profile changes only which scenarios skip and the level a finding is
/// judged at (the engine sends the same requests, and a clean server's pass has no level). So
/// `rfc9700` runs the whole library in each set-up, and `rfc6749` and `oauth2.1` only the
/// scenarios they skip otherwise than `rfc9700` does: the rest would be the same flows again
/// (two of each in the library today; the whole library cost this test 90 s more of CI).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clean_server_passes_under_every_profile() {
    let _heavy = super::HEAVY.write().await;
    let library = super::library();
    use pkce_harness::defect::Variant;
    let runs = [
        Variant::Secrets,
        Variant::JwtClients,
        Variant::Fapi2,
        Variant::Mtls,
    ]
    .into_iter()
    .flat_map(|variant| {
        // The FAPI 2.0 profile makes PAR, DPoP and PKCE for every client requirements: only
        // the FAPI set-up meets them; the others are judged under the other profiles.
        Profile::ALL
            .into_iter()
            .filter(move |p| variant == Variant::Fapi2 || *p != Profile::Fapi2)
            .map(move |profile| (variant, profile))
    })
    .map(|(variant, profile)| {
        let library: Vec<_> = library
            .iter()
            .filter(|s| {
                matches!(profile, Profile::Rfc9700 | Profile::Fapi2)
                    || skips_under(s, profile) != skips_under(s, Profile::Rfc9700)
            })
            .cloned()
            .collect();
        async move {
            // Four runs at a time on two cores (a TLS handshake per request in the HTTPS
            // set-ups) take a flow past the usual 1.5 s code lifetime now and then, which the
            // harness rightly calls `error`; this test is about verdicts, not speed, so its
            // codes live 3 s (the target file declares it, and the expiry checks wait it out).
            let (server, target) = super::reference_with(pkce_harness::server::ServerConfig {
                code_lifetime: std::time::Duration::from_secs(3),
                ..pkce_harness::server::ServerConfig::for_variant(variant, Default::default())
            })
            .await;
            let opts = RunOptions {
                profile,
                seed: 1,
                tls: pkce_harness::selftest::trusting(&server, &Default::default()),
                ..RunOptions::default()
            };
            let report = engine::run(&library, Arc::new(target), &opts, &mut |_| {}).await;
            server.stop().await;
            unjustified(variant, profile, &report)
        }
    });
    use futures_util::StreamExt;
    let bad: Vec<String> = futures_util::stream::iter(runs)
        .buffer_unordered(4)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flatten()
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Whether `profile` skips scenario `s` by a rule of its own.
fn skips_under(s: &pkce_harness::scenario::Scenario, profile: Profile) -> bool {
    s.file
        .profiles
        .get(&profile)
        .is_some_and(|o| o.skip.is_some())
}

/// What a run of the clean server in set-up `variant` under `profile` should not have: a
/// verdict other than pass or skip, or a skip for a reason the set-up does not explain.
fn unjustified(
    variant: pkce_harness::defect::Variant,
    profile: Profile,
    report: &pkce_harness::verdict::RunReport,
) -> Vec<String> {
    use pkce_harness::defect::Variant;
    // What this set-up lacks by design: the other kind of client authentication (and with
    // secrets, a key to sign request objects), a PAR requirement, HTTPS, or tokens short-lived
    // enough to wait out.
    let lacks: &[&str] = match variant {
        Variant::Secrets => super::SECRETS_SET_UP_LACKS,
        Variant::JwtClients => &[
            "the client has no client_secret",
            "the server does not say it takes unsigned request objects",
            "the client authenticates without a TLS client certificate",
            "the server does not require pushed authorization requests",
            "the target declares PKCE optional for confidential clients",
            "the server gave no DPoP nonce",
            "no endpoint of the target uses HTTPS",
            "the access token lives 3600 s",
        ],
        Variant::Fapi2 => &[
            "the client has no client_secret",
            "the server does not say it takes unsigned request objects",
            "the server does not say it fetches request objects by reference",
            "the client authenticates without a TLS client certificate",
            "the target declares PKCE required for confidential clients",
            "a server-managed nonce stand for",
            "refused at the PAR endpoint with a direct error response",
            "made out to the issuer alone",
            "the access token is opaque",
            "the access token lives 3600 s",
        ],
        Variant::Mtls => &[
            "the client has no client_secret",
            "the client authenticates without a JWT assertion",
            "the client has no key to sign a request object with",
            "the server does not require pushed authorization requests",
            "the target declares PKCE optional for confidential clients",
            "the server gave no DPoP nonce",
            "the access token is opaque",
        ],
    };
    // Where the specifications disagree and the set-up follows the other one: the FAPI 2.0
    // set-up signs with PS256, ES256 and EdDSA only (§5.4.1), so judged as an OpenID Provider
    // under another profile it lacks the RS256 OpenID Connect Discovery §3 requires of one.
    let follows_other_spec: &[&str] = match (variant, profile) {
        (Variant::Fapi2, p) if p != Profile::Fapi2 => &[
            "oidc-discovery/3-rs256-offered-for-id-tokens",
            "oidc-registration/2-id-token-rs256-honoured",
        ],
        _ => &[],
    };
    let under = format!("under {} ({variant:?})", profile.as_str());
    report
        .results
        .iter()
        .filter_map(|r| match r.verdict {
            Verdict::Pass => None,
            Verdict::Fail if follows_other_spec.contains(&r.id.as_str()) => None,
            Verdict::Skip
                if r.reason.starts_with("not under profile")
                    || lacks.iter().any(|l| r.reason.contains(l)) =>
            {
                None
            }
            Verdict::Skip => Some(format!("{under}: unjustified skip {}: {}", r.id, r.reason)),
            v => Some(format!("{under}: {} {}: {}", v.as_str(), r.id, r.reason)),
        })
        .collect()
}

#[test]
fn the_coverage_table_in_scenarios_readme_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/README.md");
    let text = std::fs::read_to_string(&path).expect("scenarios/README.md");
    let clients = pkce_harness::scenario::built_in_client().expect("client scenarios load");
    let fresh = pkce_harness::coverage::refresh(&text, &super::library(), &clients)
        .expect("coverage markers present");
    assert!(
        fresh == text,
        "scenarios/README.md is stale: run `cargo run -- list --coverage --write scenarios/README.md`"
    );
}

/// The same seed gives the same verdicts, run after run: a flaky scenario is a bug. Eight runs
/// (there were twenty: each costs a whole library run, and CI runs this test on every commit,
/// so the runs add up across commits rather than inside one). The two scenarios that only sleep
/// are left out to keep the test fast; they have no randomness.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_runs_with_one_seed_give_identical_verdicts() {
    let _heavy = super::HEAVY.write().await;
    let library: Vec<_> = super::library()
        .into_iter()
        .filter(|s| !s.id.ends_with("code-expires") && !s.id.ends_with("after-delay"))
        .collect();
    let opts = RunOptions {
        seed: 20_260_125,
        ..RunOptions::default()
    };
    // Side by side, each against its own server (the runs send the same seeded values, which
    // one server would take for replays): the waits overlap, and the verdicts must not depend
    // on the load the other runs make.
    let runs = (0..8).map(|_| async {
        let (server, target) = super::reference(Default::default()).await;
        let report = engine::run(&library, Arc::new(target), &opts, &mut |_| {}).await;
        server.stop().await;
        report
    });
    let mut first: Option<Vec<(String, Verdict, Vec<String>)>> = None;
    for report in futures_util::future::join_all(runs).await {
        // Verdicts, and the requests the harness sent (its seeded values: verifiers, states;
        // not the nonce, unique across runs by design (`Ctx::unique_value`), nor a request_uri
        // or an ID Token sent back as id_token_hint, which the server makes, nor a DPoP key's
        // thumbprint: keys come from ring, which takes no seeded source).
        let seen: Vec<(String, Verdict, Vec<String>)> = report
            .results
            .iter()
            .map(|r| {
                (
                    r.id.clone(),
                    r.verdict,
                    r.evidence
                        .iter()
                        .filter(|e| e.url.contains("/authorize?"))
                        .map(|e| {
                            e.url
                                .split("127.0.0.1:")
                                .nth(1)
                                .unwrap_or("")
                                .split_once('/')
                                .map_or(String::new(), |(_, p)| p.to_owned())
                                .split('&')
                                .filter(|kv| {
                                    // Values the server makes (a pushed request's URI, a
                                    // registered client's id), a flow's own key, or a request
                                    // object (it carries the time it was made).
                                    ![
                                        "nonce=",
                                        "request=",
                                        "request_uri=",
                                        "dpop_jkt=",
                                        "id_token_hint=",
                                        "client_id=dyn-",
                                    ]
                                    .iter()
                                    .any(|p| {
                                        // The first pair follows the path's `?`.
                                        kv.split_once('?').map_or(*kv, |(_, q)| q).starts_with(p)
                                    })
                                })
                                .collect::<Vec<_>>()
                                .join("&")
                        })
                        .collect(),
                )
            })
            .collect();
        match &first {
            None => first = Some(seen),
            Some(f) => assert_eq!(f, &seen, "a run with the same seed differs"),
        }
    }
}

/// Both burst techniques catch the race window and stay quiet on the clean server; with no
/// technique forced, the reference server (which speaks HTTP/2 with prior knowledge) gets the
/// single-packet burst.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_burst_techniques_catch_the_race_and_auto_picks_http2() {
    use pkce_harness::scenario::model::Technique;
    let _heavy = super::HEAVY.write().await;
    let race: Vec<_> = super::library()
        .into_iter()
        .filter(|s| s.id == "rfc6749/10.5-concurrent-code-replay")
        .collect();
    assert_eq!(race.len(), 1);
    for (technique, shown) in [
        (Some(Technique::LastByte), "technique last-byte"),
        (
            Some(Technique::H2SinglePacket),
            "technique h2-single-packet",
        ),
        (None, "technique h2-single-packet"),
    ] {
        for defects in [
            std::collections::BTreeSet::new(),
            std::collections::BTreeSet::from([Defect::CodeRaceWindow]),
        ] {
            let racy = !defects.is_empty();
            let (server, target) = super::reference(defects).await;
            let opts = RunOptions {
                seed: 58,
                race_technique: technique,
                ..RunOptions::default()
            };
            let report = engine::run(&race, Arc::new(target), &opts, &mut |_| {}).await;
            server.stop().await;
            for r in &report.results {
                let want = if racy { Verdict::Fail } else { Verdict::Pass };
                assert_eq!(r.verdict, want, "{technique:?} racy={racy}: {}", r.reason);
                assert!(r.reason.contains(shown), "{technique:?}: {}", r.reason);
            }
        }
    }
}
