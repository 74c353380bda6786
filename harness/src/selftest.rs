//! The kill matrix: every scenario against the clean reference server (it must pass) and against
//! each defect (each defect must be caught, and each scenario must fail against the defects it
//! lists in `catches`). A scenario that no defect can make fail is a check that cannot fail.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::defect::{Defect, Variant};
use crate::engine::{self, RunOptions};
use crate::scenario::Scenario;
use crate::server::{ReferenceServer, ServerConfig};
use crate::verdict::{RunReport, Verdict};

/// The outcome of a self-test.
#[derive(Debug)]
pub struct KillMatrix {
    /// The run against the clean server.
    pub clean: RunReport,
    /// Per defect, the result ids that did not pass (fail, warn or info), and those in error
    /// with their reason.
    pub caught: BTreeMap<Defect, (BTreeSet<String>, BTreeMap<String, String>)>,
    /// Everything wrong, one line each; empty means the library is proven.
    pub gaps: Vec<String>,
}

async fn run_against(
    defects: BTreeSet<Defect>,
    variant: Variant,
    scenarios: &[Scenario],
    opts: &RunOptions,
) -> Result<RunReport, String> {
    let server = ReferenceServer::start(ServerConfig::for_variant(variant, defects))
        .await
        .map_err(|e| format!("reference server: {e}"))?;
    let target = reference_target(&server, opts)
        .await
        .map_err(|e| format!("reference server: {e}"))?;
    // The FAPI 2.0 set-up is judged under its profile, which turns its features into
    // requirements.
    let opts = RunOptions {
        profile: if variant == Variant::Fapi2 {
            crate::scenario::model::Profile::Fapi2
        } else {
            opts.profile
        },
        tls: trusting(&server, &opts.tls),
        ..opts.clone()
    };
    let report = engine::run(scenarios, Arc::new(target), &opts, &mut |_| {}).await;
    server.stop().await;
    Ok(report)
}

/// The running reference server as a target, resolved with `opts`' limits and TLS: what the
/// kill matrix, the benches and the tests run against. (Here, not in `server`: the server never
/// imports the engine.)
pub async fn reference_target(
    server: &ReferenceServer,
    opts: &RunOptions,
) -> Result<engine::ResolvedTarget, engine::ResolveError> {
    engine::resolve(
        server.target_file(),
        opts.limits,
        &trusting(server, &opts.tls),
    )
    .await
}

/// `tls`, trusting the reference server's test CA when it serves HTTPS.
pub fn trusting(server: &ReferenceServer, tls: &engine::http::Tls) -> engine::http::Tls {
    let mut tls = tls.clone();
    if server.is_tls() {
        tls.ca_certs
            .push(crate::server::TEST_CA_PEM.as_bytes().to_vec());
    }
    tls
}

/// Which scenarios each defect server is run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The whole library: `caught` then also shows what a defect breaks beyond the scenarios
    /// that list it.
    Whole,
    /// Only the scenarios that list the defect in `catches`: the same gaps (each scenario
    /// fails against what it lists; a defect no scenario lists is caught by none), in a
    /// fraction of the time.
    Listed,
}

/// Runs the matrix; `parallel` defect servers run at once.
pub async fn selftest(
    scenarios: &[Scenario],
    opts: &RunOptions,
    parallel: usize,
    scope: Scope,
) -> Result<KillMatrix, String> {
    // The clean server in each set-up: client secrets, client assertions, PAR required. The
    // whole library must hold in each; a check another set-up skips runs in one of them.
    let mut cleans = Vec::new();
    for variant in [
        Variant::Secrets,
        Variant::JwtClients,
        Variant::Fapi2,
        Variant::Mtls,
    ] {
        cleans.push((
            variant,
            run_against(BTreeSet::new(), variant, scenarios, opts).await?,
        ));
    }
    let mut gaps = Vec::new();
    for (variant, run) in &cleans {
        for r in &run.results {
            if !matches!(r.verdict, Verdict::Pass | Verdict::Skip) {
                gaps.push(format!(
                    "clean server ({variant:?}): {} is {}: {}",
                    r.id,
                    r.verdict.as_str(),
                    r.reason
                ));
            }
        }
    }
    let clean = cleans.swap_remove(0).1;
    for r in clean.results.iter().filter(|r| r.verdict == Verdict::Skip) {
        let runs_somewhere = cleans.iter().any(|(_, run)| {
            run.results
                .iter()
                .any(|j| j.id == r.id && j.verdict != Verdict::Skip)
        });
        if !runs_somewhere {
            gaps.push(format!(
                "{} is skipped on every clean server, so nothing shows it passes: {}",
                r.id, r.reason
            ));
        }
    }
    let semaphore = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for &d in Defect::ALL {
        let scen: Vec<Scenario> = scenarios
            .iter()
            .filter(|s| scope == Scope::Whole || s.file.catches.contains(&d))
            .cloned()
            .collect();
        let (sem, opts) = (Arc::clone(&semaphore), opts.clone());
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            (
                d,
                run_against(BTreeSet::from([d]), d.variant(), &scen, &opts).await,
            )
        });
    }
    let mut caught = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (d, report) = joined.map_err(|e| e.to_string())?;
        let report = report?;
        let hits: BTreeSet<String> = report
            .results
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Warn | Verdict::Info))
            .map(|r| r.id.clone())
            .collect();
        let errors: BTreeMap<String, String> = report
            .results
            .iter()
            .filter(|r| r.verdict == Verdict::Error)
            .map(|r| (r.id.clone(), r.reason.clone()))
            .collect();
        caught.insert(d, (hits, errors));
    }
    for (d, (hits, _)) in &caught {
        if hits.is_empty() {
            gaps.push(format!("defect {d} is caught by no scenario"));
        }
    }
    for s in scenarios {
        if s.file.catches.is_empty() {
            gaps.push(format!(
                "{}: lists no defect in catches (a check that cannot fail)",
                s.id
            ));
        }
        for d in &s.file.catches {
            let (hits, errors) = &caught[d];
            let ids = result_ids(s);
            for id in ids {
                if !hits.contains(&id) {
                    let why = errors
                        .get(&id)
                        .map_or("it passed".to_owned(), |e| format!("error: {id}: {e}"));
                    gaps.push(format!(
                        "{id}: lists {d} in catches but does not fail against it ({why})"
                    ));
                }
            }
        }
    }
    Ok(KillMatrix {
        clean,
        caught,
        gaps,
    })
}

/// The result ids a scenario produces (one per client kind).
fn result_ids(s: &Scenario) -> Vec<String> {
    if s.file.clients.len() > 1 {
        s.file
            .clients
            .iter()
            .map(|c| format!("{}[{}]", s.id, c.as_str()))
            .collect()
    } else {
        vec![s.id.clone()]
    }
}
