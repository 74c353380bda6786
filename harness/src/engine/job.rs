//! One job (a scenario with one client) from start to result: whether it applies, its tries
//! (again, alone, after a server failure), its time limit, and how a panic or a vanished job
//! still becomes a result.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::context::{Ctx, ResolvedTarget};
use super::http::HttpClient;
use super::judge::Next;
use super::options::RunOptions;
use super::steps;
use crate::outcome::{Cause, Fault, Halt, StepRef, Unmet};
use crate::scenario::Scenario;
use crate::scenario::model::{
    AuthOutcome, Capability, ClientKind, FormGrading, Level, Profile, RequirementId, Step,
};
use crate::target::{AssertionAudience, LoginConfig};
use crate::verdict::{Layer, ScenarioResult, Verdict};

/// One unit of work: a scenario with one client.
pub(super) struct Job {
    pub scenario: Arc<Scenario>,
    pub client: ClientKind,
    pub id: String,
}

/// FAPI 2.0 Security Profile (final), authorization server: codes live at most 60 seconds.
pub const FAPI2_CODE_LIFETIME: f64 = 60.0;

/// How long a code lives under `profile`: the declared lifetime, capped at 60 s under fapi2, so
/// the expiry checks measure the cap whatever the target declares.
pub(super) fn code_lifetime(target: &ResolvedTarget, profile: Profile) -> f64 {
    let declared = target.policy.code_lifetime_seconds;
    if profile == Profile::Fapi2 {
        declared.min(FAPI2_CODE_LIFETIME)
    } else {
        declared
    }
}

/// How long a scenario's `sleep` steps wait in all (each at most ten minutes, the code lifetime
/// at most an hour: both checked at load).
pub(super) fn declared_wait(steps: &[Step], code_lifetime: f64) -> Duration {
    let seconds: f64 = steps
        .iter()
        .filter_map(|s| match s {
            Step::Sleep(s) => Some(
                steps::sleep_seconds(s, code_lifetime)
                    + if s.past_request_uri_lifetime {
                        steps::MAX_REQUEST_URI_WAIT + 0.5
                    } else {
                        0.0
                    }
                    + if s.past_access_token_lifetime.is_some() {
                        steps::MAX_ACCESS_TOKEN_WAIT + 1.0
                    } else {
                        0.0
                    },
            ),
            _ => None,
        })
        .sum();
    Duration::try_from_secs_f64(seconds).unwrap_or(Duration::ZERO)
}

/// The policy the target declares against what a scenario checks, if it does: the check still
/// runs, and an unmet expectation is reported as `info` with this reason. A declared policy may
/// document a deviation; it never hides one.
pub(super) fn declared(
    target: &ResolvedTarget,
    caps: &[Capability],
    profile: Profile,
) -> Option<&'static str> {
    // FAPI 2.0 leaves no room for either: a declaration documents nothing there.
    if profile == Profile::Fapi2 {
        return None;
    }
    caps.iter().find_map(|cap| match cap {
        Capability::PlainUnsupported if target.policy.plain_allowed => Some(
            "the target declares plain allowed (policy.plain_allowed); RFC 9700 §2.1.1 and OAuth 2.1 §4.1.1 say a server should not accept it",
        ),
        _ => None,
    })
}

/// Why a scenario does not apply to this target, if it does not.
/// A redirect URI mutation that leaves this target's registered URI as it is (path-case on a
/// path without letters) would send the registered URI and fail a correct server for accepting
/// it: such a scenario does not apply, and says why.
fn idle_mutation(target: &ResolvedTarget, steps: &[Step], client: ClientKind) -> Option<String> {
    use crate::scenario::model::RedirectSpec;
    steps.iter().find_map(|step| {
        let (spec, kind) = match step {
            Step::Authorize(a) => (&a.redirect_uri, a.client.unwrap_or(client)),
            Step::Token(t) => (&t.redirect_uri, t.client.unwrap_or(client)),
            _ => return None,
        };
        let RedirectSpec::Mutate(m) = spec else {
            return None;
        };
        let registered = &target.client(kind)?.redirect_uri.0;
        (super::request::mutate_redirect(registered, *m) == registered.as_str()).then(|| {
            format!("the redirect URI mutation {m:?} leaves this client's redirect URI {registered} unchanged, so it tests nothing here")
        })
    })
}

pub(super) fn inapplicable(
    target: &ResolvedTarget,
    caps: &[Capability],
    client: ClientKind,
    profile: Profile,
) -> Option<String> {
    if target.client(client).is_none() {
        return Some(format!(
            "the target configures no {} client",
            client.as_str()
        ));
    }
    // FAPI 2.0 Security Profile: PAR is required (§5.3.2.2), tokens are sender-constrained
    // (DPoP, or an mTLS client's certificate), and the authorization response carries iss
    // (RFC 9207).
    // Under it these are requirements to check, not features the server may lack.
    let fapi2 = profile == Profile::Fapi2;
    caps.iter().find_map(|cap| {
        let (ok, why) = match cap {
            Capability::Par | Capability::ParRequired | Capability::Dpop
                if fapi2 =>
            {
                (true, "")
            }
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
            Capability::Revocation => (target.revocation.is_some(), "the target has no revocation endpoint (endpoints.revocation, or revocation_endpoint in its metadata)"),
            Capability::TokenStatus => (
                target.userinfo.is_some() || target.introspection.is_some(),
                "the target has neither a userinfo endpoint nor an introspection endpoint: nothing can tell whether a token still works",
            ),
            // A declared policy lowers these to `info` (see `declared`); it never silences them.
            Capability::PlainUnsupported => (true, ""),
            Capability::PkceRequiredConfidential => (
                target.policy.pkce_required_confidential || fapi2,
                "the target declares PKCE optional for confidential clients (policy.pkce_required_confidential), as RFC 9700 §2.1.1 allows; fapi2 requires it",
            ),
            Capability::PlainSupported => (target.policy.plain_allowed, "the target declares plain not allowed (policy.plain_allowed)"),

            Capability::PkceOptionalConfidential => (!target.policy.pkce_required_confidential, "the target declares PKCE required for confidential clients"),
            Capability::FormLogin => (
                matches!(target.login, LoginConfig::Form(_) | LoginConfig::Browser(_)),
                "needs a login driver that goes through the login pages (form or browser), to see them",
            ),
            Capability::EndpointAudience => (
                target.assertion_audience != Some(AssertionAudience::Issuer),
                "the target declares its client assertions made out to the issuer alone (assertion_audience: issuer), as FAPI 2.0 asks, not to an endpoint URL",
            ),
            Capability::SessionLogin => (
                matches!(target.login, LoginConfig::Form(_) | LoginConfig::Browser(_)),
                "needs a login driver that signs in only when the server asks (form or browser): the steps driver replays its login every time, so a reused login cannot be told from a new one",
            ),
            Capability::SeveralRedirectUris => (
                target.client(client).is_some_and(|c| c.several_redirect_uris),
                "the client does not declare several_redirect_uris",
            ),
            Capability::SeveralScopes => (
                target.scope.as_deref().is_some_and(|s| s.split(' ').filter(|w| !w.is_empty()).count() > 1),
                "the target's scope has one value: give scope: two or more (such as openid profile) to run this check",
            ),
            Capability::NonLoopbackRedirect => (
                target.client(client).is_some_and(|c| !is_loopback(&c.redirect_uri.0)),
                "the client's redirect URI is a loopback address",
            ),
            // Under fapi2 the wait is capped at the profile's 60 s (see `code_lifetime`).
            Capability::ShortCodeLifetime => (
                target.policy.code_lifetime_seconds <= FAPI2_CODE_LIFETIME || fapi2,
                "the declared code lifetime (policy.code_lifetime_seconds) is over 60 s: waiting it out would hold the run that long",
            ),
            // Judged at the response (see `Ctx::iss_required`): a present iss always is.
            Capability::IssParameter => (true, ""),
            Capability::Openid => (
                target.openid,
                "not an OpenID flow: the metadata is no OpenID Provider's (no id_token_signing_alg_values_supported) and the target does not set openid.enabled",
            ),
            Capability::JwtClientAuth => (
                target.client(client).is_some_and(|c| c.uses_assertion()),
                "the client authenticates without a JWT assertion (auth_method private_key_jwt or client_secret_jwt)",
            ),
            Capability::Par => (
                target.par.is_some(),
                "the server has no pushed authorization request endpoint (metadata pushed_authorization_request_endpoint, or endpoints.par)",
            ),
            Capability::ParRequired => (
                target.par_required,
                "the server does not require pushed authorization requests (metadata require_pushed_authorization_requests, or par: required)",
            ),
            Capability::Dpop => (
                target.dpop
                    || target
                        .metadata
                        .as_ref()
                        .and_then(|m| m.get("dpop_signing_alg_values_supported"))
                        .is_some(),
                "the server takes no DPoP proofs (metadata dpop_signing_alg_values_supported), and the target does not set dpop",
            ),
            Capability::RequestObject => match target.client(client) {
                Some(c) if c.signing_key.is_none() => (
                    false,
                    "the client has no key to sign a request object with (auth_method private_key_jwt or client_secret_jwt)",
                ),
                _ => (
                    target.request_object || target.metadata_says("request_parameter_supported"),
                    "the server takes no request objects (metadata request_parameter_supported), and the target does not set request_object",
                ),
            },
            Capability::SignedRequestObject => (
                fapi2 || unsigned_request_objects_refused(target),
                "the server may take unsigned request objects: its metadata lists none among request_object_signing_alg_values_supported, or lists no algorithms and does not say require_signed_request_object",
            ),
            Capability::Mtls => (
                target.client(client).is_some_and(|c| c.tls_identity.is_some()),
                "the client authenticates without a TLS client certificate (auth_method tls_client_auth or self_signed_tls_client_auth)",
            ),
            Capability::NotMtls => (
                target.client(client).is_none_or(|c| c.tls_identity.is_none()),
                "the client presents a TLS client certificate, which binds its tokens (RFC 8705 §3; FAPI 2.0 takes it as their sender constraint, like DPoP): its checks are rfc8705/'s",
            ),
            Capability::Registration => (
                target.registration.is_some(),
                "the server registers no clients dynamically (no registration_endpoint in its metadata)",
            ),
            Capability::TokenNodes => (
                target.token_addresses.len() > 1,
                "the token endpoint's host has one address (the target file lists no token_addresses and it resolves to one): a race spread over a cluster's nodes needs several",
            ),
            Capability::PushedRedirectRegistered => (
                !target.policy.pushed_redirect_uris_unregistered
                    || target
                        .client(client)
                        .is_some_and(|c| c.auth_method == crate::target::AuthMethod::None),
                "the target declares that a client that authenticates may push a redirect URI it did not register (policy.pushed_redirect_uris_unregistered, RFC 9126 §2.4): the public client's push judges the rule",
            ),
            Capability::Jwks => (
                target.jwks_uri().is_some(),
                "the server publishes no JWK Set (no jwks_uri in its metadata)",
            ),
            Capability::ClientHost => (
                target.client_host.is_some(),
                "the target file has no client_host: the server cannot fetch what a client hosts (a jwks_uri, a sector_identifier_uri, a request_uri) from the harness",
            ),
            Capability::RequestUri => (
                target.metadata_says("request_uri_parameter_supported") && !target.par_required,
                "the server does not say it fetches request objects by reference (metadata request_uri_parameter_supported is not true), or it requires pushed requests, whose objects travel in the push",
            ),
            Capability::UnsignedRequestObject => (
                unsigned_request_objects_listed(target),
                "the server does not say it takes unsigned request objects (none is not among its request_object_signing_alg_values_supported)",
            ),
            Capability::Pairwise => (
                target
                    .metadata
                    .as_ref()
                    .and_then(|m| m.get("subject_types_supported"))
                    .and_then(serde_json::Value::as_array)
                    .is_some_and(|t| t.iter().any(|t| t == "pairwise")),
                "the server issues no pairwise subjects (metadata subject_types_supported does not list pairwise), so it need not read a sector_identifier_uri",
            ),
            Capability::RsaKey => (
                target
                    .client(client)
                    .and_then(|c| c.signing_key.as_ref())
                    .is_some_and(|k| k.is_rsa()),
                "the client's signing key is not an RSA key (FAPI 2.0's RS256 rule concerns RSA clients)",
            ),
            Capability::ClaimsParameter => (
                target.metadata_says("claims_parameter_supported"),
                "the server does not support the claims parameter (metadata claims_parameter_supported is not true), so it ignores it (OpenID Connect Core §5.5)",
            ),
            Capability::Https => (
                !super::tls_probe::https_origins(target).is_empty(),
                "no endpoint of the target uses HTTPS (the TLS checks judge what an HTTPS endpoint negotiates)",
            ),
            Capability::Jarm => (
                target.response_mode.is_some() || jarm_listed(target),
                "the server offers no JWT-secured response mode (metadata response_modes_supported without jwt), and the target does not set response_mode",
            ),
            Capability::ClientSecret => (
                target.client(client).is_some_and(|c| c.client_secret.is_some()),
                "the client has no client_secret (it authenticates with a private key)",
            ),
        };
        (!ok).then(|| why.to_owned())
    })
}

/// JARM §3: `jwt` among the metadata's `response_modes_supported`.
fn jarm_listed(target: &ResolvedTarget) -> bool {
    target
        .metadata
        .as_ref()
        .and_then(|m| m.get("response_modes_supported"))
        .and_then(serde_json::Value::as_array)
        .is_some_and(|modes| modes.iter().any(|m| m == "jwt"))
}

/// RFC 9101 §10.5 `require_signed_request_object`, or algorithms listed without `none` (OpenID
/// Connect Discovery §3): the server says it takes no unsigned request object, so accepting
/// one goes against what it says, and RFC 8725 §3.1 asks that only the algorithms it allows be
/// accepted.
/// The server says it takes unsigned request objects: it lists `none` among
/// `request_object_signing_alg_values_supported` and does not require them signed.
fn unsigned_request_objects_listed(target: &ResolvedTarget) -> bool {
    !target.metadata_says("require_signed_request_object")
        && target
            .metadata
            .as_ref()
            .and_then(|m| m.get("request_object_signing_alg_values_supported"))
            .and_then(serde_json::Value::as_array)
            .is_some_and(|algs| algs.iter().any(|a| a == "none"))
}

fn unsigned_request_objects_refused(target: &ResolvedTarget) -> bool {
    let listed = target
        .metadata
        .as_ref()
        .and_then(|m| m.get("request_object_signing_alg_values_supported"))
        .and_then(serde_json::Value::as_array);
    target.metadata_says("require_signed_request_object")
        || listed.is_some_and(|algs| !algs.is_empty() && !algs.iter().any(|a| a == "none"))
}

pub(super) fn is_loopback(u: &url::Url) -> bool {
    matches!(u.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(u.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
}

/// The step a job is in, shared with the loop that joins it so a panic can name the step.
pub(super) type Running = Arc<std::sync::Mutex<Option<StepRef>>>;

/// Each job's result before it runs, and the step it is in, by task.
pub(super) type Pending = HashMap<tokio::task::Id, (ScenarioResult, Running)>;

/// Joins every job and hands each result to `each`: a job that panicked, was cancelled or ended
/// without a result yields an `error` naming the step it was in. Never a hole.
pub(super) async fn join_all(
    mut tasks: JoinSet<ScenarioResult>,
    mut pending: Pending,
    mut each: impl FnMut(ScenarioResult),
) {
    let fault = |(mut r, step): (ScenarioResult, Running), why: String| {
        let step = step.lock().map_or(None, |s| s.clone());
        let cause = Cause {
            step,
            halt: Fault::harness(why).into(),
        };
        set_cause(&mut r, cause, str::to_owned);
        r
    };
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((id, r)) => {
                pending.remove(&id);
                each(r);
            }
            Err(e) => {
                let Some(job) = pending.remove(&e.id()) else {
                    continue;
                };
                let why = if e.is_panic() {
                    panic_message(e.into_panic())
                } else {
                    "the job was cancelled".to_owned()
                };
                each(fault(job, why));
            }
        }
    }
    for (_, job) in pending.drain() {
        each(fault(job, "the job ended without a result".to_owned()));
    }
}

/// A job's result before it runs: a pass with no reason, the scenario's metadata filled in.
pub(super) fn skeleton(job: &Job, opts: &RunOptions) -> ScenarioResult {
    let file = &job.scenario.file;
    let level = file.level_under(opts.profile);
    ScenarioResult {
        id: job.id.clone(),
        title: file.title.clone(),
        spec: job.scenario.id.split('/').next().unwrap_or("").to_owned(),
        requirements: file.requirements.iter().map(ToString::to_string).collect(),
        level,
        client: job.client,
        profile: opts.profile,
        verdict: Verdict::Pass,
        severity: file.severity(),
        layer: Default::default(),
        reason: String::new(),
        cause: None,
        guards: file
            .requirements
            .iter()
            .filter(|r| r.is_bug())
            .map(ToString::to_string)
            .chain(file.notes.cves.iter().cloned())
            .collect(),
        evidence: Vec::new(),
        login: Vec::new(),
        screenshot: None,
        gate: None,
        by_chance: file.steps.iter().any(|s| matches!(s, Step::Race(_))),
        duration_ms: 0,
    }
}

/// A refusal in another form: the finding is the form's, at its level (never above the
/// scenario's own under this profile), low severity, citing the form's requirements (by default
/// the error-response rule of the step it was seen in).
fn grade_form(
    result: &mut ScenarioResult,
    form: &FormGrading,
    step: Option<&StepRef>,
    unmet: &Unmet,
) {
    result.layer = Layer::Form;
    result.level = result.level.max(form.level);
    result.severity = crate::defect::Severity::Low;
    result.requirements = if form.requirements.is_empty() {
        vec![default_form_requirement(step, unmet).to_string()]
    } else {
        form.requirements.iter().map(ToString::to_string).collect()
    };
}

/// The error-response rule of a step: how an authorization server, the token endpoint or a
/// resource says no. An error sent to the registered redirect URI where a page was due
/// deviates from RFC 6749 §4.1.2.1's first sentence (inform the resource owner), REQ-26.
fn default_form_requirement(step: Option<&StepRef>, unmet: &Unmet) -> RequirementId {
    if let Unmet::Authorization {
        expected: AuthOutcome::ErrorPage,
        ..
    } = unmet
    {
        return RequirementId::Req(26);
    }
    match step.map(|s| s.kind.as_str()) {
        Some("authorize") => RequirementId::Req(94),
        Some("userinfo") => RequirementId::Req(95),
        _ => RequirementId::Req(43),
    }
}

/// Records `cause` on `result`: the verdict its kind gives at the result's level, the line
/// users read and the structure beside it, both through `redact`.
pub(super) fn set_cause(
    result: &mut ScenarioResult,
    cause: Cause,
    redact: impl Fn(&str) -> String,
) {
    result.verdict = match &cause.halt {
        Halt::Unmet { .. } => Verdict::unmet(result.level),
        Halt::Fault {
            fault:
                Fault::OptionalAbsent { .. } | Fault::NotProvoked { .. } | Fault::Unreached { .. },
        } => Verdict::Skip,
        Halt::Fault { .. } => Verdict::Error,
        Halt::Form { .. } => Verdict::unmet(result.level),
    };
    result.reason = redact(&cause.to_string());
    result.cause = serde_json::to_value(&cause).ok().and_then(|mut v| {
        redact_strings(&mut v, &redact);
        serde_json::from_value(v).ok()
    });
}

pub(super) fn redact_strings(v: &mut serde_json::Value, redact: &impl Fn(&str) -> String) {
    match v {
        serde_json::Value::String(s) => *s = redact(s),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|v| redact_strings(v, redact)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|v| redact_strings(v, redact)),
        _ => {}
    }
}

/// A panic's message without what it quotes: Rust's own panics quote the value they choke on in
/// backticks (a string sliced at a bad index, say), and that value may be a verifier or a token.
pub(super) fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("`…`");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// How often a scenario whose server answered an unexpected 5xx is run again (alone, after a
/// back-off of 1 s, then 4 s) before that 5xx is judged.
const SERVER_ERROR_RETRIES: usize = 2;

/// One try of a scenario's steps within its time limit: the cause it stopped for, if any (a pass
/// leaves its reason on `result`).
pub(super) async fn attempt_steps(
    ctx: &mut Ctx,
    steps: &[Step],
    opts: &RunOptions,
    running: &Running,
    result: &mut ScenarioResult,
) -> Option<Cause> {
    // The time limit is for the exchanges; the waits a scenario declares come on top of it.
    // Time queued for a browser tab is not the scenario's either.
    let limit = opts.scenario_timeout + declared_wait(steps, ctx.code_lifetime);
    let queued = ctx.queued.clone();
    match super::time_limit::within(limit, &queued, run_steps(ctx, steps, running)).await {
        None => Some(Cause {
            step: None,
            halt: Fault::Timeout {
                seconds: limit.as_secs_f64(),
            }
            .into(),
        }),
        Some(Ok(reason)) => {
            result.reason = ctx.redact(&if reason.is_empty() {
                ctx.notes.join("; ")
            } else {
                reason
            });
            None
        }
        Some(Err(cause)) => Some(cause),
    }
}

/// How many scenarios run at once, lowered when the server starts failing, and a scenario the
/// server failed runs again alone: a server that answers 5xx under the default concurrency (an
/// embedded database that locks) gets the same verdicts as with `--jobs 1`, and the report
/// counts the failures.
pub struct Load {
    pub(super) semaphore: Arc<tokio::sync::Semaphore>,
    /// First tries hold it shared; a retry holds it alone.
    alone: tokio::sync::RwLock<()>,
    limit: std::sync::atomic::AtomicUsize,
    failures: std::sync::atomic::AtomicUsize,
}

impl Load {
    pub(super) fn new(jobs: usize) -> Arc<Self> {
        let jobs = jobs.max(1);
        Arc::new(Self {
            semaphore: Arc::new(tokio::sync::Semaphore::new(jobs)),
            alone: tokio::sync::RwLock::new(()),
            limit: std::sync::atomic::AtomicUsize::new(jobs),
            failures: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// Counts a server failure and halves the concurrency (never below one): permits are taken
    /// out of circulation as running jobs give them back.
    fn server_failed(self: &Arc<Self>) {
        use std::sync::atomic::Ordering;
        self.failures.fetch_add(1, Ordering::Relaxed);
        let now = self.limit.load(Ordering::Relaxed);
        let drop = now / 2;
        if drop > 0
            && self
                .limit
                .compare_exchange(now, now - drop, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let semaphore = Arc::clone(&self.semaphore);
            tokio::spawn(async move {
                if let Ok(permits) = semaphore.acquire_many_owned(drop as u32).await {
                    permits.forget();
                }
            });
        }
    }

    pub(super) fn failures(&self) -> usize {
        self.failures.load(std::sync::atomic::Ordering::Relaxed)
    }
}

pub(super) async fn run_job(
    job: &Job,
    target: Arc<ResolvedTarget>,
    opts: &RunOptions,
    http: &HttpClient,
    running: &Running,
    load: &Arc<Load>,
) -> ScenarioResult {
    let started = Instant::now();
    let file = &job.scenario.file;
    let mut result = skeleton(job, opts);
    let skip = file
        .profiles
        .get(&opts.profile)
        .and_then(|o| o.skip.clone())
        .map(|why| format!("not under profile {}: {why}", opts.profile.as_str()))
        .or_else(|| inapplicable(&target, &file.requires, job.client, opts.profile))
        .or_else(|| idle_mutation(&target, &file.steps, job.client));
    if let Some(why) = skip {
        result.verdict = Verdict::Skip;
        result.reason = why;
        return result;
    }
    if target.metadata.is_none() && file.steps.iter().any(|s| matches!(s, Step::Discovery(_))) {
        result.verdict = Verdict::Skip;
        result.reason = "the server publishes no metadata at its issuer's well-known URLs and the target names no metadata_url (RFC 8414 is optional; RFC 9700 §2.6 recommends it)".into();
        return result;
    }
    let policy = declared(&target, &file.requires, opts.profile);
    if policy.is_some() {
        result.level = Level::May;
    }
    // A 5xx the scenario did not expect may be load: run it again, fresh, at lower
    // concurrency; on the last try a 5xx is judged as the server's answer.
    let mut attempt = 0;
    let (mut ctx, cause) = loop {
        // A kept session only on the first try: a try after a server failure starts clean.
        let kept = (attempt == 0).then(|| opts.sessions.take()).flatten();
        let kept_session = kept.is_some();
        let http = match kept.map_or_else(|| http.fresh_session(), Ok) {
            Ok(h) => h,
            Err(error) => {
                let cause = Cause {
                    step: None,
                    halt: Fault::Http { error }.into(),
                };
                set_cause(&mut result, cause, str::to_owned);
                return result;
            }
        };
        let mut ctx = Ctx::new(Arc::clone(&target), http, job.client, opts.seed, &job.id);
        ctx.browser = opts.browser.clone();
        ctx.kept_session = kept_session;
        ctx.race_technique = opts.race_technique;
        ctx.login_blocked.clone_from(&opts.login_blocked);
        ctx.judge_server_errors = attempt == SERVER_ERROR_RETRIES;
        ctx.iss_required = target.announces_iss() || opts.profile == Profile::Fapi2;
        ctx.assertion_to_issuer = match target.assertion_audience {
            Some(audience) => audience == AssertionAudience::Issuer,
            None => opts.profile == Profile::Fapi2,
        };
        ctx.code_lifetime = code_lifetime(&target, opts.profile);
        // A first try runs beside the others; a try after a server failure runs alone, so it
        // sees the server as `--jobs 1` would.
        let cause = if attempt == 0 {
            let _beside = load.alone.read().await;
            attempt_steps(&mut ctx, &file.steps, opts, running, &mut result).await
        } else {
            let _alone = load.alone.write().await;
            attempt_steps(&mut ctx, &file.steps, opts, running, &mut result).await
        };
        if cause.as_ref().is_some_and(Cause::is_server_error) && attempt < SERVER_ERROR_RETRIES {
            attempt += 1;
            load.server_failed();
            tokio::time::sleep(Duration::from_millis(250 << (2 * attempt))).await;
            continue;
        }
        break (ctx, cause);
    };
    if let Some(cause) = cause {
        if let Halt::Form { unmet } = &cause.halt {
            grade_form(&mut result, &file.form, cause.step.as_ref(), unmet);
        }
        set_cause(&mut result, cause, |s| ctx.redact(s));
        if let (Some(why), Verdict::Info) = (policy, result.verdict) {
            result.reason = format!("{} (info, not fail: {why})", result.reason);
        }
    }
    if attempt > 0 {
        let note = format!(
            "run {} times: the server failed (unexpected 5xx) the earlier {attempt}; this is the last run, alone",
            attempt + 1
        );
        result.reason = if result.reason.is_empty() {
            note
        } else {
            format!("{}; {note}", result.reason)
        };
    }
    result.evidence = std::mem::take(&mut ctx.evidence);
    result.login = std::mem::take(&mut ctx.login_trail)
        .iter()
        .map(|l| ctx.redact(l))
        .collect();
    result.screenshot = ctx.screenshot.take();
    result.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if policy.is_none()
        && result.level == Level::May
        && result.verdict == Verdict::Pass
        && result.reason.is_empty()
    {
        result.reason = "optional behaviour present".into();
    }
    // A session whose check could not be judged may be in any state; the others go on.
    if result.verdict != Verdict::Error {
        opts.sessions.give_back(ctx.http);
    }
    result
}

pub(super) async fn run_steps(
    ctx: &mut Ctx,
    steps: &[Step],
    running: &Running,
) -> Result<String, Cause> {
    // The first refusal in another form, with its step: the finding if no later step finds
    // the property broken.
    let mut form: Option<Cause> = None;
    let mut passed = String::new();
    for (i, step) in steps.iter().enumerate() {
        let at = StepRef {
            index: i + 1,
            kind: step_name(step).to_owned(),
        };
        ctx.step = at.to_string();
        if let Ok(mut r) = running.lock() {
            *r = Some(at.clone());
        }
        let outcome = steps::run(ctx, step).await;
        if let Some(unmet) = ctx.form.take() {
            form.get_or_insert(Cause {
                step: Some(at.clone()),
                halt: Halt::Form { unmet },
            });
        }
        match outcome {
            Ok(Next::Continue) => {}
            Ok(Next::Pass(reason)) => {
                passed = reason;
                break;
            }
            Err(halt) => {
                return Err(Cause {
                    step: Some(at),
                    halt,
                });
            }
        }
    }
    form.map_or(Ok(passed), Err)
}

pub(super) fn step_name(step: &Step) -> &'static str {
    match step {
        Step::Discovery(_) => "discovery",
        Step::Authorize(_) => "authorize",
        Step::Token(_) => "token",
        Step::Refresh(_) => "refresh",
        Step::Userinfo(_) => "userinfo",
        Step::Introspect(_) => "introspect",
        Step::Revoke(_) => "revoke",
        Step::Sleep(_) => "sleep",
        Step::Probe(_) => "probe",
        Step::Codes(_) => "codes",
        Step::Race(_) => "race",
        Step::Register(_) => "register",
        Step::Tls(_) => "tls",
        Step::PlainHttp(_) => "plain_http",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target of two clients at `as.example` (the public one's redirect URI `redirect`), with
    /// the `policy` given (YAML flow mapping members).
    fn target(redirect: &str, policy: &str) -> ResolvedTarget {
        let text = format!(
            "format: 1\nendpoints: {{authorization: \"https://as.example/a\", token: \"https://as.example/t\"}}\nclients:\n  public: {{client_id: p, redirect_uri: \"{redirect}\"}}\n  confidential: {{client_id: c, client_secret: s3cr3t-value, auth_method: client_secret_basic, redirect_uri: \"https://c.example/cb\"}}\npolicy: {{{policy}}}\nlogin: {{auto: {{}}}}\n"
        );
        ResolvedTarget::new(
            crate::target::parse_target("t.yaml", &text).expect("valid"),
            None,
            None,
        )
        .expect("resolves")
    }

    /// A wait within the code's lifetime is the step's seconds while the code lives three
    /// halves of them, else two thirds of the lifetime: the replay must come before the code
    /// expires by itself. The scenario's total wait counts the cut one.
    #[test]
    fn a_wait_within_the_code_lifetime_ends_before_the_code_does() {
        let step = |text: &str| match crate::diagnostics::parse_yaml::<Step>("s.yaml", text)
            .expect("step")
        {
            Step::Sleep(s) => s,
            other => panic!("not a sleep: {other:?}"),
        };
        let within = step("sleep: {seconds: 30, within_code_lifetime: true}");
        assert_eq!(steps::sleep_seconds(&within, 600.0), 30.0);
        assert_eq!(steps::sleep_seconds(&within, 1.5), 1.0);
        let past = step("sleep: {seconds: 1, past_code_lifetime: true}");
        assert_eq!(steps::sleep_seconds(&past, 1.5), 2.8);
        assert_eq!(
            declared_wait(&[Step::Sleep(within)], 10.0),
            Duration::from_secs_f64(10.0 * 2.0 / 3.0)
        );
    }

    /// Under fapi2 a declared lifetime over 60 s is waited out only to the profile's cap, so the
    /// expiry checks measure the cap; other profiles wait the declared lifetime.
    #[test]
    fn fapi2_caps_the_code_lifetime_a_check_waits_out() {
        let target = target("http://127.0.0.1:8765/cb", "code_lifetime_seconds: 120");
        assert_eq!(code_lifetime(&target, Profile::Fapi2), 60.0);
        assert_eq!(code_lifetime(&target, Profile::Rfc9700), 120.0);
        let caps = [Capability::ShortCodeLifetime];
        assert!(inapplicable(&target, &caps, ClientKind::Public, Profile::Fapi2).is_none());
        assert!(inapplicable(&target, &caps, ClientKind::Public, Profile::Rfc9700).is_some());
    }

    /// RFC 9126 §2.4: where authenticated clients may push unregistered redirect URIs, only the
    /// public client's push (no authentication) is held to the registered ones.
    #[test]
    fn a_declared_redirect_policy_leaves_the_unauthenticated_push_judged() {
        let target = |allowed: &str| {
            target(
                "http://127.0.0.1:8765/cb",
                &format!("pushed_redirect_uris_unregistered: {allowed}"),
            )
        };
        let caps = [Capability::PushedRedirectRegistered];
        let judged = |t: &ResolvedTarget, client| inapplicable(t, &caps, client, Profile::Rfc9700);
        let (strict, lenient) = (target("false"), target("true"));
        for client in [ClientKind::Public, ClientKind::Confidential] {
            assert!(judged(&strict, client).is_none(), "{client:?}");
        }
        assert!(judged(&lenient, ClientKind::Public).is_none());
        let why = judged(&lenient, ClientKind::Confidential).expect("skipped");
        assert!(why.contains("pushed_redirect_uris_unregistered"), "{why}");
    }

    #[test]
    fn a_mutation_that_changes_nothing_makes_the_scenario_skip() {
        let target = |redirect: &str| target(redirect, "");
        let steps = crate::scenario::parse_scenario(
            "s.yaml",
            "format: 1\ntitle: t\nrequirements: [REQ-26]\nsteps:\n  - authorize:\n      redirect_uri: {mutate: path-case}\n      expect: {outcome: refused}\n",
        )
        .expect("valid")
        .steps;
        let why = idle_mutation(
            &target("http://127.0.0.1:8765/"),
            &steps,
            ClientKind::Public,
        )
        .expect("skipped");
        assert!(
            why.contains("PathCase") && why.contains("unchanged"),
            "{why}"
        );
        assert_eq!(
            idle_mutation(
                &target("http://127.0.0.1:8765/callback"),
                &steps,
                ClientKind::Public
            ),
            None
        );
    }
}
