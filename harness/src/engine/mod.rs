//! The engine: runs scenarios against a resolved target and emits [`Event`]s. It knows nothing
//! of terminals or report formats; sinks turn events into output.

pub mod context;
pub mod http;
pub mod preflight;
pub mod race;
pub mod steps;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use context::ResolvedTarget;
use context::{Ctx, fetch_metadata};
use http::{HttpClient, Limits, Tls};
use steps::{Halt, Next};

use crate::scenario::Scenario;
use crate::scenario::model::{Capability, ClientKind, Level, Profile, Step, Technique};
use crate::target::{LoginConfig, TargetFile};
use crate::verdict::{REPORT_VERSION, RunReport, ScenarioResult, Summary, Verdict};

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The profile verdicts are judged under.
    pub profile: Profile,
    /// The seed of every random value; printed so a run can be replayed.
    pub seed: u64,
    /// Scenarios run at once.
    pub jobs: usize,
    /// Glob patterns over scenario ids (`*` matches anything); empty runs all.
    pub only: Vec<String>,
    /// Per-request limits.
    pub limits: Limits,
    /// The longest one scenario may take.
    pub scenario_timeout: Duration,
    /// TLS verification.
    pub tls: Tls,
    /// Forces one burst technique on every race step.
    pub race_technique: Option<Technique>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            profile: Profile::default(),
            seed: 0,
            jobs: 8,
            only: Vec::new(),
            limits: Limits::default(),
            scenario_timeout: Duration::from_secs(60),
            tls: Tls::default(),
            race_technique: None,
        }
    }
}

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

/// Fetches metadata (if there is an issuer) and resolves the endpoints.
pub async fn resolve(
    file: TargetFile,
    limits: Limits,
    tls: &Tls,
) -> Result<ResolvedTarget, String> {
    let http = HttpClient::new(limits, tls).map_err(|e| e.to_string())?;
    let (url, meta) = match &file.issuer {
        Some(issuer) => match fetch_metadata(&http, &issuer.0).await {
            Ok((u, m)) => (Some(u), Some(m)),
            Err(e) if file.endpoints.authorization.is_none() || file.endpoints.token.is_none() => {
                return Err(e);
            }
            Err(_) => (None, None),
        },
        None => (None, None),
    };
    ResolvedTarget::new(file, url, meta)
}

/// Whether `id` matches a `*` glob.
pub fn glob(pattern: &str, id: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == id;
    }
    let mut rest = id;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(pos) = rest.find(part) else {
                return false;
            };
            rest = &rest[pos + part.len()..];
        }
    }
    true
}

/// One unit of work: a scenario with one client.
struct Job {
    scenario: Arc<Scenario>,
    client: ClientKind,
    id: String,
}

/// Expands scenarios into jobs (one per client kind) after `--only`.
fn jobs(scenarios: &[Scenario], only: &[String]) -> Vec<Job> {
    let mut out = Vec::new();
    for s in scenarios {
        if !only.is_empty() && !only.iter().any(|p| glob(p, &s.id)) {
            continue;
        }
        let s = Arc::new(s.clone());
        for &client in &s.file.clients {
            let id = if s.file.clients.len() > 1 {
                format!("{}[{}]", s.id, client.as_str())
            } else {
                s.id.clone()
            };
            out.push(Job {
                scenario: Arc::clone(&s),
                client,
                id,
            });
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
    let jobs = jobs(scenarios, &opts.only);
    let transport = transport_finding(&target, opts);
    sink(&Event::Started {
        total: jobs.len() + usize::from(transport.is_some()),
        target: target.name.clone(),
        seed: opts.seed,
        profile: opts.profile,
        insecure: opts.tls.insecure,
    });
    let semaphore = Arc::new(tokio::sync::Semaphore::new(opts.jobs.max(1)));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for job in jobs {
        let (tx, target, opts, semaphore) = (
            tx.clone(),
            Arc::clone(&target),
            opts.clone(),
            Arc::clone(&semaphore),
        );
        tokio::spawn(async move {
            let Ok(_permit) = semaphore.acquire_owned().await else {
                return;
            };
            let result = run_job(&job, target, &opts).await;
            let _ = tx.send(result);
        });
    }
    drop(tx);
    let mut results = Vec::new();
    if let Some(t) = transport {
        sink(&Event::Finished(Box::new(t.clone())));
        results.push(t);
    }
    while let Some(r) = rx.recv().await {
        sink(&Event::Finished(Box::new(r.clone())));
        results.push(r);
    }
    results.sort_by(|a, b| a.id.cmp(&b.id));
    let report = RunReport {
        version: REPORT_VERSION,
        harness: env!("CARGO_PKG_VERSION").to_owned(),
        target: target.name.clone(),
        profile: opts.profile,
        seed: opts.seed,
        insecure: opts.tls.insecure,
        summary: Summary::of(&results),
        results,
    };
    sink(&Event::Done(Box::new(report.clone())));
    report
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
        id: "transport/tls-required".into(),
        title: "The authorization and token endpoints are served over TLS".into(),
        spec: "transport".into(),
        requirements: vec!["REQ-6".into(), "REQ-37".into()],
        level: Level::Must,
        client: ClientKind::Public,
        profile: opts.profile,
        verdict: Verdict::Fail,
        reason: format!("plain HTTP on a non-loopback host: {}", plain.join(", ")),
        guards: Vec::new(),
        evidence: Vec::new(),
        duration_ms: 0,
    })
}

fn is_loopback_or_localhost(u: &url::Url) -> bool {
    is_loopback(u) || u.host_str() == Some("localhost")
}

/// Why a scenario does not apply to this target, if it does not.
fn inapplicable(
    target: &ResolvedTarget,
    caps: &[Capability],
    client: ClientKind,
) -> Option<String> {
    if target.client(client).is_none() {
        return Some(format!(
            "the target configures no {} client",
            client.as_str()
        ));
    }
    caps.iter().find_map(|cap| {
        let (ok, why) = match cap {
            Capability::SecondConfidentialClient => (target.clients.confidential2.is_some(), "needs clients.confidential2"),
            Capability::LoopbackRedirect => {
                let u = &target.clients.public.redirect_uri.0;
                (is_loopback(u) && u.scheme() == "http", "needs a public client whose redirect URI is an http loopback IP literal (RFC 8252 §7.3)")
            }
            Capability::RefreshTokensPublic => (target.policy.refresh_tokens_public, "the target declares no refresh tokens for public clients (policy.refresh_tokens_public)"),
            Capability::RefreshTokensConfidential => (
                target.policy.refresh_tokens_confidential,
                "the target declares no refresh tokens for confidential clients (policy.refresh_tokens_confidential)",
            ),
            Capability::Userinfo => (target.userinfo.is_some(), "the target has no userinfo endpoint"),
            Capability::Introspection => (target.introspection.is_some(), "the target has no introspection endpoint"),
            Capability::PlainUnsupported => (!target.policy.plain_allowed, "the target declares plain allowed (policy.plain_allowed)"),
            Capability::PlainSupported => (target.policy.plain_allowed, "the target declares plain not allowed (policy.plain_allowed)"),
            Capability::PkceRequiredConfidential => (target.policy.pkce_required_confidential, "the target declares PKCE optional for confidential clients"),
            Capability::PkceOptionalConfidential => (!target.policy.pkce_required_confidential, "the target declares PKCE required for confidential clients"),
            Capability::FormLogin => (matches!(target.login, LoginConfig::Form(_)), "needs the form login driver, to see the login pages"),
            Capability::SeveralRedirectUris => (
                target.client(client).is_some_and(|c| c.several_redirect_uris),
                "the client does not declare several_redirect_uris",
            ),
            Capability::NonLoopbackRedirect => (
                target.client(client).is_some_and(|c| !is_loopback(&c.redirect_uri.0)),
                "the client's redirect URI is a loopback address",
            ),
            Capability::ShortCodeLifetime => (
                target.policy.code_lifetime_seconds <= 60.0,
                "the declared code lifetime (policy.code_lifetime_seconds) is over 60 s; declare the real lifetime, or run this check alone with a longer scenario timeout",
            ),
            Capability::IssParameter => (target.announces_iss(), "the metadata does not announce authorization_response_iss_parameter_supported"),
        };
        (!ok).then(|| why.to_owned())
    })
}

fn is_loopback(u: &url::Url) -> bool {
    matches!(u.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(u.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
}

async fn run_job(job: &Job, target: Arc<ResolvedTarget>, opts: &RunOptions) -> ScenarioResult {
    let started = Instant::now();
    let file = &job.scenario.file;
    let over = file.profiles.get(&opts.profile);
    let level = over.and_then(|o| o.level).unwrap_or(file.level);
    let mut result = ScenarioResult {
        id: job.id.clone(),
        title: file.title.clone(),
        spec: job.scenario.id.split('/').next().unwrap_or("").to_owned(),
        requirements: file.requirements.iter().map(ToString::to_string).collect(),
        level,
        client: job.client,
        profile: opts.profile,
        verdict: Verdict::Pass,
        reason: String::new(),
        guards: file
            .requirements
            .iter()
            .filter(|r| r.as_str().starts_with("BUG-"))
            .map(ToString::to_string)
            .chain(file.notes.cves.iter().cloned())
            .collect(),
        evidence: Vec::new(),
        duration_ms: 0,
    };
    let skip = over
        .and_then(|o| o.skip.clone())
        .map(|why| format!("not under profile {}: {why}", opts.profile.as_str()))
        .or_else(|| inapplicable(&target, &file.requires, job.client));
    if let Some(why) = skip {
        result.verdict = Verdict::Skip;
        result.reason = why;
        return result;
    }
    let http = match HttpClient::new(opts.limits, &opts.tls) {
        Ok(h) => h,
        Err(e) => {
            result.verdict = Verdict::Error;
            result.reason = e.to_string();
            return result;
        }
    };
    let mut ctx = Ctx::new(target, http, job.client, opts.seed, &job.id);
    ctx.race_technique = opts.race_technique;
    let outcome =
        tokio::time::timeout(opts.scenario_timeout, run_steps(&mut ctx, &file.steps)).await;
    let (verdict, reason) = match outcome {
        Err(_) => (
            Verdict::Error,
            format!(
                "scenario did not finish within {} s",
                opts.scenario_timeout.as_secs()
            ),
        ),
        Ok(Ok(reason)) => (
            Verdict::Pass,
            if reason.is_empty() {
                ctx.notes.join("; ")
            } else {
                reason
            },
        ),
        Ok(Err((step, Halt::Unmet(m)))) => (Verdict::unmet(level), format!("step {step}: {m}")),
        Ok(Err((step, Halt::Error(m)))) => (Verdict::Error, format!("step {step}: {m}")),
    };
    result.verdict = verdict;
    result.reason = ctx.redact(&reason);
    result.evidence = std::mem::take(&mut ctx.evidence);
    result.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if level == Level::May && verdict == Verdict::Pass && result.reason.is_empty() {
        result.reason = "optional behaviour present".into();
    }
    result
}

async fn run_steps(ctx: &mut Ctx, steps: &[Step]) -> Result<String, (String, Halt)> {
    for (i, step) in steps.iter().enumerate() {
        let label = format!("{} ({})", i + 1, step_name(step));
        ctx.step = label.clone();
        match steps::run(ctx, step).await {
            Ok(Next::Continue) => {}
            Ok(Next::Pass(reason)) => return Ok(reason),
            Err(h) => return Err((label, h)),
        }
    }
    Ok(String::new())
}

fn step_name(step: &Step) -> &'static str {
    match step {
        Step::Discovery(_) => "discovery",
        Step::Authorize(_) => "authorize",
        Step::Token(_) => "token",
        Step::Refresh(_) => "refresh",
        Step::Userinfo(_) => "userinfo",
        Step::Introspect(_) => "introspect",
        Step::Sleep(_) => "sleep",
        Step::Probe(_) => "probe",
        Step::Codes(_) => "codes",
        Step::Race(_) => "race",
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob("rfc7636/*", "rfc7636/4.6-x"));
        assert!(glob("*replay*", "rfc6749/10.5-code-replay"));
        assert!(!glob("rfc7636/*", "rfc6749/x"));
        assert!(glob("a", "a") && !glob("a", "ab"));
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
