//! Differential fuzzing of a live server (`pkce-harness fuzz`): inputs generated from the
//! grammars and just outside them go to the server in full flows, and each accept or refuse is
//! compared with what the oracle (the reference PKCE implementation, RFC 7636's grammar, the
//! exact redirect-URI rule) says it must be. A disagreement is shrunk against the live server
//! (proptest's value trees) to the smallest input that still shows it, and grouped with the
//! others of its class, so a report says "accepts verifiers shorter than 43 characters" once.
//!
//! Each case is a scenario, run by the engine like any other: the same login, evidence,
//! redaction and control flows (a refusal counts only when the correct flow succeeds), and a
//! finding is written out as the scenario file that shows it (`--emit-scenarios`), for `run`
//! to gate on from then on.

pub mod surfaces;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::defect::Severity;
use crate::engine::{self, ResolvedTarget, RunOptions, Sessions};
use crate::scenario::{Scenario, parse_scenario};
use crate::verdict::{RunReport, ScenarioResult, Verdict};
pub use surfaces::{Decision, Input, Registered, Surface};

/// How a differential run goes.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    /// The surfaces, in order.
    pub surfaces: Vec<Surface>,
    /// Judged cases per surface at most.
    pub budget: usize,
    /// Time per surface at most.
    pub time: Option<Duration>,
    /// Cases per second at most (`--rate`); none: as fast as `--jobs` allows.
    pub rate: Option<f64>,
    /// Server requests one finding's shrinking may take.
    pub shrink_budget: usize,
    /// Each case in a new browser session, with a full login (`--fresh-sessions`), instead of
    /// one a finished case left logged in ([`engine::Sessions`]).
    pub fresh_sessions: bool,
}

/// A disagreement, shrunk.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Where.
    pub surface: Surface,
    /// What differs.
    pub class: String,
    /// The smallest input that shows it.
    pub input: Input,
    /// What the oracle said of it.
    pub decision: Decision,
    /// Cases of this class that disagreed.
    pub cases: usize,
    /// Judged cases on its surface before the first of them: the budget it needed.
    pub first_at: usize,
    /// The scenario that shows it.
    pub scenario: String,
    /// The shrunk case's result against the server.
    pub result: ScenarioResult,
}

/// Progress, after each batch of cases.
#[derive(Debug, Clone)]
pub struct Progress {
    /// The surface.
    pub surface: Surface,
    /// Cases judged so far.
    pub cases: usize,
    /// Findings so far.
    pub findings: usize,
    /// Judged cases per second.
    pub rate: f64,
}

/// A differential run's outcome: the report (one result per finding, one per clean or stopped
/// surface) and the findings.
pub struct Outcome {
    /// For the report sinks and the exit code.
    pub report: RunReport,
    /// The findings.
    pub findings: Vec<Finding>,
}

/// A case run: its verdict and result.
struct Ran {
    result: ScenarioResult,
}

/// Runs each surface against `target`.
pub async fn fuzz(
    target: Arc<ResolvedTarget>,
    run: &RunOptions,
    opts: &FuzzOptions,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Outcome {
    let started = std::time::SystemTime::now();
    let run = &RunOptions {
        sessions: if opts.fresh_sessions {
            Sessions::Fresh
        } else {
            Sessions::kept()
        },
        ..run.clone()
    };
    let reg = Registered {
        public: target.clients.public.redirect_uri.0.clone(),
        confidential: target.clients.confidential.redirect_uri.0.clone(),
        plain_allowed: target.policy.plain_allowed,
    };
    let mut results = Vec::new();
    let mut findings = Vec::new();
    for &surface in &opts.surfaces {
        let (found, summary) = surface_run(&target, run, opts, &reg, surface, progress).await;
        for f in &found {
            results.push(finding_result(f, run.seed));
        }
        results.push(summary);
        findings.extend(found);
    }
    let report = engine::report(&target, run, results, started, false);
    Outcome { report, findings }
}

/// A seed per surface from the run's seed, so each surface replays alone.
fn rng(seed: u64, surface: Surface) -> TestRng {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(seed.to_be_bytes());
    h.update(surface.name().as_bytes());
    let bytes: [u8; 32] = h.finalize().into();
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

async fn surface_run(
    target: &Arc<ResolvedTarget>,
    run: &RunOptions,
    opts: &FuzzOptions,
    reg: &Registered,
    surface: Surface,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> (Vec<Finding>, ScenarioResult) {
    let strategy = surfaces::strategy(surface, reg);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng(run.seed, surface));
    let began = Instant::now();
    let mut judged = 0usize;
    let mut by_class: BTreeMap<String, Finding> = BTreeMap::new();
    let mut stopped: Option<String> = None;
    let batch = run.jobs.max(1);
    while judged < opts.budget && opts.time.is_none_or(|t| began.elapsed() < t) {
        let mut cases = Vec::new();
        let mut scenarios = Vec::new();
        while cases.len() < batch.min(opts.budget - judged) {
            let Ok(tree) = strategy.new_tree(&mut runner) else {
                break;
            };
            let input = tree.current();
            let Some(decision) = surfaces::decide(&input, reg) else {
                continue;
            };
            let id = format!("fuzz/{}/{judged}-{}", surface.name(), cases.len());
            // The generators stay inside what the scenario format can carry (a unit test
            // checks); a case that does not load stops the surface rather than vanish.
            let Some(scenario) = case(surface, &input, decision, &id) else {
                stopped = Some(format!(
                    "a generated case does not load as a scenario: {input:?}"
                ));
                break;
            };
            scenarios.push(scenario);
            cases.push((tree, input, decision));
        }
        if stopped.is_some() {
            break;
        }
        let ran = run_cases(target, run, &scenarios).await;
        let errors = ran
            .iter()
            .filter(|r| r.result.verdict == Verdict::Error)
            .count();
        if errors * 2 > ran.len().max(1) {
            stopped = ran
                .iter()
                .find(|r| r.result.verdict == Verdict::Error)
                .map(|r| {
                    format!(
                        "most of a batch could not be judged, so the server is failing, not disagreeing: {}",
                        r.result.reason
                    )
                });
            break;
        }
        for ((tree, input, decision), ran) in cases.into_iter().zip(ran) {
            judged += 1;
            if ran.result.verdict != Verdict::Fail {
                continue;
            }
            let class = surfaces::class(&input, decision);
            if let Some(f) = by_class.get_mut(&class) {
                f.cases += 1;
                continue;
            }
            let mut f = shrink(
                target, run, opts, reg, surface, tree, input, decision, ran, &class,
            )
            .await;
            f.first_at = judged;
            by_class.insert(class, f);
        }
        if let Some(rate) = opts.rate {
            let due = Duration::from_secs_f64(judged as f64 / rate);
            if let Some(wait) = due.checked_sub(began.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
        progress(&Progress {
            surface,
            cases: judged,
            findings: by_class.len(),
            rate: judged as f64 / began.elapsed().as_secs_f64().max(1e-3),
        });
    }
    let summary = surface_result(surface, judged, by_class.len(), stopped, run.seed);
    (by_class.into_values().collect(), summary)
}

/// The scenario of one case; `None` for an input the format cannot carry (never expected:
/// the generators stay inside what it can, and a unit test checks).
fn case(surface: Surface, input: &Input, decision: Decision, id: &str) -> Option<Scenario> {
    let title = surfaces::class(input, decision);
    let yaml = surfaces::scenario_yaml(surface, input, decision, &title);
    parse_scenario(id, &yaml).ok().map(|file| Scenario {
        id: id.to_owned(),
        path: std::path::PathBuf::from(id),
        file,
    })
}

async fn run_cases(
    target: &Arc<ResolvedTarget>,
    run: &RunOptions,
    scenarios: &[Scenario],
) -> Vec<Ran> {
    let report = engine::run(scenarios, Arc::clone(target), run, &mut |_| {}).await;
    let mut by_id: BTreeMap<String, ScenarioResult> = report
        .results
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    scenarios
        .iter()
        .map(|s| Ran {
            result: by_id.remove(&s.id).unwrap_or_else(|| missing(&s.id)),
        })
        .collect()
}

/// A result the engine did not give (it always does; this keeps the count honest).
fn missing(id: &str) -> ScenarioResult {
    let mut r = blank(id, "a case that gave no result");
    r.verdict = Verdict::Error;
    r.reason = "the engine gave no result for this case".into();
    r
}

/// Shrinks a disagreement against the live server: simpler inputs of the same class while
/// they still disagree, within the shrink budget.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the pieces of one case"
)]
async fn shrink(
    target: &Arc<ResolvedTarget>,
    run: &RunOptions,
    opts: &FuzzOptions,
    reg: &Registered,
    surface: Surface,
    mut tree: Box<dyn ValueTree<Value = Input>>,
    input: Input,
    decision: Decision,
    ran: Ran,
    class: &str,
) -> Finding {
    let mut best = (input, decision, ran.result);
    let mut failed = true;
    let alone = RunOptions {
        jobs: 1,
        ..run.clone()
    };
    for _ in 0..opts.shrink_budget {
        let moved = if failed {
            tree.simplify()
        } else {
            tree.complicate()
        };
        if !moved {
            break;
        }
        let candidate = tree.current();
        let Some(d) = surfaces::decide(&candidate, reg) else {
            failed = false;
            continue;
        };
        failed = false;
        if surfaces::class(&candidate, d) != class {
            continue;
        }
        let Some(s) = case(
            surface,
            &candidate,
            d,
            &format!("fuzz/{}/shrink", surface.name()),
        ) else {
            continue;
        };
        let r = run_cases(target, &alone, std::slice::from_ref(&s)).await;
        if let Some(r) = r.into_iter().next()
            && r.result.verdict == Verdict::Fail
        {
            failed = true;
            best = (candidate, d, r.result);
        }
    }
    let (input, decision, result) = best;
    Finding {
        surface,
        class: class.to_owned(),
        scenario: surfaces::scenario_yaml(surface, &input, decision, class),
        input,
        decision,
        cases: 1,
        first_at: 0,
        result,
    }
}

fn severity(surface: Surface) -> Severity {
    match surface {
        Surface::Redirect => Severity::High,
        _ => Severity::Medium,
    }
}

fn blank(id: &str, title: &str) -> ScenarioResult {
    ScenarioResult {
        title: title.to_owned(),
        spec: "fuzz".into(),
        severity: Severity::Low,
        ..ScenarioResult::new(id, Verdict::Pass, "")
    }
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(80).collect()
}

/// The id a finding is reported and emitted under.
pub fn finding_id(f: &Finding) -> String {
    format!("fuzz/{}/{}", f.surface.name(), slug(&f.class))
}

fn finding_result(f: &Finding, seed: u64) -> ScenarioResult {
    let mut r = blank(
        &finding_id(f),
        &format!("{}: {}", f.surface.name(), f.class),
    );
    r.requirements = f
        .surface
        .requirements()
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    r.severity = severity(f.surface);
    r.verdict = Verdict::Fail;
    r.reason = format!(
        "{} ({} case(s) of this class, seed {seed}); smallest: {}; the server: {}",
        f.class,
        f.cases,
        surfaces::shown(&f.input),
        f.result.reason
    );
    r.evidence.clone_from(&f.result.evidence);
    r.login.clone_from(&f.result.login);
    r
}

fn surface_result(
    surface: Surface,
    judged: usize,
    found: usize,
    stopped: Option<String>,
    seed: u64,
) -> ScenarioResult {
    let mut r = blank(
        &format!("fuzz/{}", surface.name()),
        &format!("{} cases agree with the oracle", surface.name()),
    );
    r.requirements = surface
        .requirements()
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    r.severity = severity(surface);
    match stopped {
        Some(why) => {
            r.verdict = Verdict::Error;
            r.reason = format!("stopped after {judged} judged cases: {why}");
        }
        None if found > 0 => {
            r.verdict = Verdict::Pass;
            r.reason =
                format!("{judged} cases judged (seed {seed}); {found} finding(s), reported apart");
        }
        None => {
            r.reason =
                format!("{judged} cases judged (seed {seed}), every decision as the oracle's");
        }
    }
    r
}
