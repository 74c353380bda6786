//! The engine: runs scenarios against a resolved target and emits [`Event`]s. It knows nothing
//! of terminals or report formats; sinks turn events into output.

mod authorize;
mod client_host;
pub mod context;
mod control;
mod exchange;
pub mod http;
mod id_token;
mod job;
mod judge;
mod login;
pub use login::chromium;
mod options;
mod plain_http;
pub mod preflight;
pub mod race;
mod race_step;
mod redeem;
mod register_step;
mod registration;
mod request;
mod resource;
mod revocation;
mod sessions;
mod steps;
mod time_limit;
mod tls;
mod tls_probe;

use std::sync::Arc;

use tokio::task::JoinSet;

use context::fetch_metadata;
pub use context::{ResolveError, ResolvedTarget};
use http::{HttpClient, Limits, Tls};
use job::{Job, Load, Pending, is_loopback, join_all, run_job, set_cause, skeleton};
pub use options::RunOptions;
pub use sessions::Sessions;

use crate::outcome::{Cause, Fault};
use crate::scenario::Scenario;
use crate::scenario::model::{ClientKind, Profile};
use crate::target::TargetFile;
use crate::verdict::{REPORT_VERSION, RunReport, ScenarioResult, Summary, Verdict};

/// What the engine reports while it runs.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run starts.
    Started {
        /// Results to expect.
        total: usize,
        /// The target.
        target: String,
        /// The seed.
        seed: u64,
        /// The profile.
        profile: Profile,
        /// TLS certificates are not verified.
        insecure: bool,
    },
    /// One result is in.
    Finished(Box<ScenarioResult>),
    /// The run is over.
    Done(Box<RunReport>),
}

/// Fetches metadata (if there is an issuer), registers the clients where the file says
/// `register: true` (RFC 7591), and resolves the endpoints. A run that registered clients ends
/// with [`unregister`].
pub async fn resolve(
    mut file: TargetFile,
    limits: Limits,
    tls: &Tls,
) -> Result<ResolvedTarget, ResolveError> {
    let http = HttpClient::new(limits, tls)?;
    // Where the metadata is: where the file says, else the well-known URLs of the issuer.
    let urls = match (&file.metadata_url, &file.issuer) {
        (Some(u), _) => vec![u.0.clone()],
        (None, Some(issuer)) => context::metadata_urls(&issuer.0),
        (None, None) => Vec::new(),
    };
    let named = file
        .issuer
        .as_ref()
        .map(|i| i.0.clone())
        .or_else(|| file.metadata_url.as_ref().map(|u| u.0.to_string()))
        .unwrap_or_default();
    let (url, meta) = if urls.is_empty() {
        (None, None)
    } else {
        match fetch_metadata(&http, &named, urls).await {
            Ok((u, m)) => (Some(u), Some(m)),
            // RFC 8414 is optional: with both endpoints given, a server without metadata is
            // run, and its metadata checks skip.
            Err(e)
                if file.metadata_url.is_some()
                    || file.endpoints.authorization.is_none()
                    || file.endpoints.token.is_none() =>
            {
                return Err(e);
            }
            Err(_) => (None, None),
        }
    };
    let registered = if file.register {
        registration::register(&http, &mut file, meta.as_ref()).await?
    } else {
        Vec::new()
    };
    let mut target = ResolvedTarget::new(file, url, meta)?;
    target.registered = registered;
    if target.token_addresses.is_empty() {
        target.token_addresses = resolved_addresses(&target.token, limits.request_timeout).await;
    }
    Ok(target)
}

/// Every address `url`'s host resolves to, each once, in the resolver's order; none when it
/// does not resolve within `limit` (a resolver that never answers must not hold the run: the
/// token requests then say what is wrong, and the races over nodes are skipped).
async fn resolved_addresses(url: &url::Url, limit: std::time::Duration) -> Vec<std::net::IpAddr> {
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return Vec::new();
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut seen = Vec::new();
    if let Ok(Ok(addrs)) = tokio::time::timeout(limit, tokio::net::lookup_host((host, port))).await
    {
        for a in addrs {
            if !seen.contains(&a.ip()) {
                seen.push(a.ip());
            }
        }
    }
    seen
}

/// Deletes the clients [`resolve`] registered (RFC 7592), and says what became of each.
pub async fn unregister(target: &ResolvedTarget, limits: Limits, tls: &Tls) -> Vec<String> {
    if target.registered.is_empty() {
        return Vec::new();
    }
    match HttpClient::new(limits, tls) {
        Ok(http) => registration::unregister(&http, &target.registered, &target.origins).await,
        Err(e) => vec![format!("the registered clients stay registered: {e}")],
    }
}

/// The result ids a run of `scenarios` with `opts` schedules, in order.
pub fn planned(scenarios: &[Scenario], opts: &RunOptions) -> Vec<String> {
    jobs(scenarios, opts).into_iter().map(|j| j.id).collect()
}

/// Every check of `scenarios` (each scenario with each of its clients), selected or not: the
/// scenario and the result id.
pub fn checks(scenarios: &[Scenario]) -> Vec<(&Scenario, String)> {
    scenarios
        .iter()
        .flat_map(|s| {
            s.file
                .clients
                .iter()
                .map(move |&client| (s, result_id(s, client)))
        })
        .collect()
}

/// A check's id: the scenario's, with `[client]` when it runs with several.
fn result_id(s: &Scenario, client: ClientKind) -> String {
    if s.file.clients.len() > 1 {
        format!("{}[{}]", s.id, client.as_str())
    } else {
        s.id.clone()
    }
}

/// Expands scenarios into jobs (one per client kind) and keeps the selected ones
/// (`--only`, `--exclude`).
fn jobs(scenarios: &[Scenario], opts: &RunOptions) -> Vec<Job> {
    let selection = crate::select::Selection::new(&opts.only, &opts.exclude, opts.profile);
    let mut out = Vec::new();
    for s in scenarios {
        let s = Arc::new(s.clone());
        for &client in &s.file.clients {
            let id = result_id(&s, client);
            if selection.includes(&s, &id) {
                out.push(Job {
                    scenario: Arc::clone(&s),
                    client,
                    id,
                });
            }
        }
    }
    out
}

/// Runs every scenario (filtered by `opts.only`) and calls `sink` with each event.
pub async fn run(
    scenarios: &[Scenario],
    target: Arc<ResolvedTarget>,
    opts: &RunOptions,
    sink: &mut (dyn FnMut(&Event) + Send),
) -> RunReport {
    let started = std::time::SystemTime::now();
    let jobs = jobs(scenarios, opts);
    let transport = transport_finding(&target, opts);
    sink(&Event::Started {
        total: jobs.len() + usize::from(transport.is_some()),
        target: target.name.clone(),
        seed: opts.seed,
        profile: opts.profile,
        insecure: opts.tls.insecure,
    });
    let scheduled = jobs.len();
    let load = Load::new(opts.jobs);
    let mut tasks = JoinSet::new();
    let mut pending = Pending::new();
    // One back channel for the whole run (it keeps no cookies); each job gets its own browser.
    let template = HttpClient::new(opts.limits, &opts.tls);
    for job in jobs {
        let before = skeleton(&job, opts);
        let template = template.clone();
        let (target, opts, load) = (Arc::clone(&target), opts.clone(), Arc::clone(&load));
        let step = Arc::new(std::sync::Mutex::new(None));
        let running = Arc::clone(&step);
        let task = tasks.spawn(async move {
            // The semaphore is never closed, so a permit always comes.
            let _permit = Arc::clone(&load.semaphore).acquire_owned().await;
            match template {
                Ok(http) => run_job(&job, target, &opts, &http, &running, &load).await,
                Err(error) => {
                    let mut result = job::skeleton(&job, &opts);
                    let cause = Cause {
                        step: None,
                        halt: Fault::Http { error }.into(),
                    };
                    set_cause(&mut result, cause, str::to_owned);
                    result
                }
            }
        });
        pending.insert(task.id(), (before, step));
    }
    let mut results = Vec::new();
    let had_transport = transport.is_some();
    if let Some(t) = transport {
        sink(&Event::Finished(Box::new(t.clone())));
        results.push(t);
    }
    join_all(tasks, pending, |r| {
        sink(&Event::Finished(Box::new(r.clone())));
        results.push(r);
    })
    .await;
    assert_eq!(
        results.len(),
        scheduled + usize::from(had_transport),
        "every scheduled check yields exactly one result"
    );
    let mut report = report(&target, opts, results, started, false);
    report.server_failures = load.failures();
    sink(&Event::Done(Box::new(report.clone())));
    report
}

/// The report of a run against `target` with `results` (sorted here); `interrupted` when the run
/// was stopped before every check finished.
pub fn report(
    target: &ResolvedTarget,
    opts: &RunOptions,
    mut results: Vec<ScenarioResult>,
    started: std::time::SystemTime,
    interrupted: bool,
) -> RunReport {
    results.sort_by(|a, b| a.id.cmp(&b.id));
    let elapsed = started.elapsed().unwrap_or_default();
    RunReport {
        version: REPORT_VERSION,
        harness: env!("CARGO_PKG_VERSION").to_owned(),
        target: target.name.clone(),
        issuer: target
            .issuer
            .clone()
            .unwrap_or_else(|| target.authorization.origin().ascii_serialization()),
        started: crate::verdict::rfc3339(started),
        duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        baseline: None,
        fail_on: None,
        target_file: None,
        target_lines: Default::default(),
        profile: opts.profile,
        seed: opts.seed,
        insecure: opts.tls.insecure,
        interrupted,
        server_failures: 0,
        summary: Summary::of(&results),
        results,
    }
}

/// RFC 6749 §3.1 and §3.2 (REQ-6, REQ-37): TLS is required at the authorization and token
/// endpoints. Plain HTTP is accepted on loopback addresses only (test set-ups such as this
/// project's own); anywhere else it is a finding, never silently accepted.
fn transport_finding(target: &ResolvedTarget, opts: &RunOptions) -> Option<ScenarioResult> {
    let plain: Vec<String> = [
        ("authorization endpoint", &target.authorization),
        ("token endpoint", &target.token),
    ]
    .into_iter()
    .filter(|(_, u)| u.scheme() == "http" && !is_loopback_or_localhost(u))
    .map(|(what, u)| format!("{what} {}", http::without_query(u)))
    .collect();
    if plain.is_empty() {
        return None;
    }
    Some(ScenarioResult {
        title: "The authorization and token endpoints are served over TLS".into(),
        spec: "transport".into(),
        requirements: vec!["REQ-6".into(), "REQ-37".into()],
        profile: opts.profile,
        severity: crate::defect::Severity::High,
        ..ScenarioResult::new(
            "transport/tls-required",
            Verdict::Fail,
            &format!("plain HTTP on a non-loopback host: {}", plain.join(", ")),
        )
    })
}

fn is_loopback_or_localhost(u: &url::Url) -> bool {
    is_loopback(u) || u.host_str() == Some("localhost")
}

#[cfg(test)]
mod tests {
    use super::job::Running;
    use super::*;
    use crate::outcome::StepRef;

    /// A job that panics is an `error` naming the step it was in, and its secret-looking quote is
    /// dropped; a job that never reports is an `error` too.
    #[tokio::test]
    async fn every_job_yields_one_result_even_when_it_panics() {
        let scenario = crate::scenario::Scenario {
            id: "x/panics".into(),
            path: "x.yaml".into(),
            file: crate::scenario::parse_scenario(
                "x.yaml",
                "format: 1\ntitle: t\nrequirements: [REQ-50]\nsteps:\n  - authorize: {}\n",
            )
            .expect("valid"),
        };
        let jobs = jobs(&[scenario], &RunOptions::default());
        let job = jobs.into_iter().next().expect("one job");
        let opts = RunOptions::default();
        let mut tasks = JoinSet::new();
        let mut pending = Pending::new();
        let running: Running = Arc::new(std::sync::Mutex::new(Some(StepRef {
            index: 1,
            kind: "authorize".into(),
        })));
        let handle = tasks.spawn(async {
            let s: &str = "verifier-é";
            let cut = s.len() - 1;
            let _ = &s[..cut];
            unreachable!("the slice panics")
        });
        pending.insert(handle.id(), (skeleton(&job, &opts), Arc::clone(&running)));
        let mut never = JoinSet::new();
        let done = skeleton(&job, &opts);
        let orphan = never.spawn(async move { done });
        pending.insert(orphan.id(), (skeleton(&job, &opts), running));
        let mut results = Vec::new();
        join_all(tasks, pending, |r| results.push(r)).await;
        never.shutdown().await;
        assert_eq!(results.len(), 2);
        for r in &results {
            assert_eq!(r.verdict, Verdict::Error);
            assert!(
                r.reason.starts_with("step 1 (authorize): harness fault: "),
                "{}",
                r.reason
            );
            assert!(!r.reason.contains("verifier-"), "{}", r.reason);
        }
    }
}

#[cfg(test)]
mod transport_tests {
    use super::*;
    use crate::target::parse_target;

    fn target(authorization: &str) -> ResolvedTarget {
        let text = format!(
            "format: 1\nendpoints: {{authorization: \"{authorization}\", token: \"https://as.example/token\"}}\nclients:\n  public: {{client_id: p, redirect_uri: \"http://127.0.0.1:1/cb\"}}\n  confidential: {{client_id: c, client_secret: s, auth_method: client_secret_basic, redirect_uri: \"http://127.0.0.1:1/cb\"}}\nlogin: {{auto: {{}}}}\n"
        );
        ResolvedTarget::new(parse_target("t.yaml", &text).expect("valid"), None, None)
            .expect("resolves")
    }

    #[test]
    fn plain_http_is_a_finding_except_on_loopback() {
        let opts = RunOptions::default();
        let finding =
            transport_finding(&target("http://as.example/authorize"), &opts).expect("a finding");
        assert_eq!(finding.verdict, Verdict::Fail);
        assert_eq!(finding.requirements, vec!["REQ-6", "REQ-37"]);
        assert!(
            finding
                .reason
                .contains("authorization endpoint http://as.example/authorize"),
            "{}",
            finding.reason
        );
        assert!(transport_finding(&target("https://as.example/authorize"), &opts).is_none());
        assert!(transport_finding(&target("http://127.0.0.1:8080/authorize"), &opts).is_none());
        assert!(transport_finding(&target("http://localhost:8080/authorize"), &opts).is_none());
    }
}

#[cfg(test)]
mod resolve_tests {
    use std::time::Duration;

    /// An IP literal is its own address; a name gives each of its addresses once (the limit
    /// itself, against a resolver that never answers, is `tokio::time::timeout`'s).
    #[tokio::test]
    async fn token_addresses_are_each_address_once() {
        let limit = Duration::from_secs(5);
        let literal = url::Url::parse("http://127.0.0.1:8080/t").expect("URL");
        assert_eq!(
            super::resolved_addresses(&literal, limit).await,
            vec![std::net::IpAddr::from([127, 0, 0, 1])]
        );
        let name = url::Url::parse("http://localhost:8080/t").expect("URL");
        let found = super::resolved_addresses(&name, limit).await;
        assert!(found.iter().any(|a| a.is_loopback()), "{found:?}");
        let unique: std::collections::BTreeSet<_> = found.iter().collect();
        assert_eq!(unique.len(), found.len(), "{found:?}");
    }
}
