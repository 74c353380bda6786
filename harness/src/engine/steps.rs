//! Runs one step: asks [`super::request`] for the request its YAML describes, sends it through
//! the context (which records redacted evidence), and hands the response to the judges in
//! [`crate::checks`]. Glue only: what to send and how to judge live elsewhere.

use std::time::Duration;

use super::context::{Ctx, Flow, Tokens};
use super::control::{Control, control, control_with};
use super::login::drive;
use super::request::{self as build, Vars};
use crate::callback::{Ending, Outcome};
use crate::checks;
use crate::forms::PageKind;
use crate::jose::SigningKey;
use crate::outcome::{Fault, Halt, Lifetime};
use crate::params::Params;
use crate::redact::Secret;
use crate::scenario::model::*;
use crate::target::ClientConfig;
use crate::wire::{HttpMethod, Request, Response};
use std::sync::Arc;

/// What the scenario does after a step.
#[derive(Debug)]
pub enum Next {
    /// Run the next step.
    Continue,
    /// Stop here: the scenario passes for this reason.
    Pass(String),
}

pub(super) type StepResult = Result<Next, Halt>;

/// Runs `step`.
pub async fn run(ctx: &mut Ctx, step: &Step) -> StepResult {
    match step {
        Step::Discovery(d) => discovery(ctx, d).await,
        Step::Authorize(a) => authorize(ctx, a).await.map(|(next, _)| next),
        Step::Token(t) => token(ctx, t).await,
        Step::Refresh(r) => refresh(ctx, r).await,
        Step::Userinfo(r) => userinfo(ctx, r).await,
        Step::Introspect(i) => introspect(ctx, i).await,
        Step::Sleep(s) => {
            let mut secs = s.seconds;
            if s.past_code_lifetime {
                secs += ctx.target.policy.code_lifetime_seconds + 0.3;
            }
            if s.past_request_uri_lifetime {
                let lifetime = ctx.request_uri_lifetime.ok_or_else(|| {
                    fault("no PAR response of this scenario gave an expires_in".into())
                })?;
                if lifetime > MAX_REQUEST_URI_WAIT {
                    return Err(Fault::OptionalAbsent {
                        message: format!(
                            "the request_uri lives {lifetime} s (expires_in), longer than this check waits ({MAX_REQUEST_URI_WAIT} s): it would hold the run that long"
                        ),
                    }
                    .into());
                }
                secs += lifetime + 0.5;
                ctx.waited_out_request_uri = true;
            }
            let wait = Duration::try_from_secs_f64(secs.max(0.0))
                .map_err(|e| Fault::config(format!("sleep of {secs} s is not a duration: {e}")))?;
            tokio::time::sleep(wait).await;
            Ok(Next::Continue)
        }
        Step::Probe(p) => probe(ctx, p).await,
        Step::Codes(c) => codes(ctx, c).await,
        Step::Race(r) => super::race_step::race(ctx, r).await,
    }
}

/// The longest request_uri lifetime a `sleep` waits out (RFC 9126 §2.2 suggests 5 to 600 s).
pub(super) const MAX_REQUEST_URI_WAIT: f64 = 30.0;

pub(super) fn fault(message: String) -> Halt {
    Fault::precondition(message).into()
}

pub(super) fn client_config(ctx: &Ctx, kind: ClientKind) -> Result<ClientConfig, Halt> {
    ctx.target.client(kind).cloned().ok_or_else(|| {
        Fault::config(format!("the target configures no {} client", kind.as_str())).into()
    })
}

/// Adds the client's authentication to a back-channel request: [`build::authenticate`], with a
/// freshly signed client assertion for a JWT client (its `jti` and clock the system's), or the
/// previous one again when the step replays it.
pub(super) fn authenticate(
    ctx: &mut Ctx,
    req: &mut Request,
    params: &mut Params,
    client: &ClientConfig,
    auth: AuthSpec,
) -> Result<(), Halt> {
    let assertion = if !client.uses_assertion() {
        None
    } else if auth == AuthSpec::ReplayedAssertion {
        Some(ctx.last_assertion.clone().ok_or_else(|| {
            fault("no earlier client assertion to replay: a token request must come first".into())
        })?)
    } else {
        let flaw = build::Flaw::of(auth);
        let jti = Ctx::unique_value()
            .map_err(|e| Fault::harness(format!("no entropy for a jti: {e}")))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let a = build::assertion(client, ctx.target.token.as_str(), now, &jti, flaw)?;
        ctx.secret(&a);
        if flaw == build::Flaw::None {
            ctx.last_assertion = Some(a.clone());
        }
        Some(a)
    };
    build::authenticate(req, params, client, auth, assertion)?;
    Ok(())
}

/// Sends and records; a request without a usable response is a fault.
pub(super) async fn send(ctx: &mut Ctx, req: Request) -> Result<Response, Halt> {
    ctx.send(req)
        .await
        .map_err(|error| Fault::Http { error }.into())
}

/// Judges a response against an HTTP expectation, templates filled from the target. A 5xx
/// where a refusal was expected is the server failing, never the refusal nor the lack of one:
/// no try judges it. A refusal in another form is kept for the scenario's end (see
/// [`Halt::Form`]) while the later steps judge the property.
pub(super) fn check(ctx: &mut Ctx, expect: &HttpExpect, resp: &Response) -> StepResult {
    let v = build::vars(&ctx.target, None, None);
    let judged = checks::http_layered(expect, resp, &|s| build::render_str(&v, s));
    if judged.is_err()
        && resp.status >= 500
        && (!ctx.judge_server_errors || expect.expects_refusal())
    {
        return Err(server_error(ctx, resp.status));
    }
    match judged {
        Err(halt) if resp.truncated => Err(cut_body(ctx, resp, &halt)),
        judged => keep_form(ctx, judged).map(|()| Next::Continue),
    }
}

/// Lets a refusal in another form pass the step, kept on the context for the scenario's end;
/// every other halt stops the step.
pub(super) fn keep_form(ctx: &mut Ctx, judged: Result<(), Halt>) -> Result<(), Halt> {
    match judged {
        Err(Halt::Form { unmet }) => {
            ctx.form.get_or_insert(unmet);
            Ok(())
        }
        other => other,
    }
}

/// A judge's verdict on a body cut at the size cap, as the fault it is: the last request's
/// answer could not be read (see [`Fault::CutBody`]).
pub(super) fn cut_body(ctx: &Ctx, resp: &Response, unmet: &impl std::fmt::Display) -> Halt {
    Fault::CutBody {
        request: last_request(ctx),
        cap: resp.body.len(),
        unmet: unmet.to_string(),
    }
    .into()
}

/// The last request the context sent: method and URL without query.
fn last_request(ctx: &Ctx) -> String {
    ctx.evidence
        .last()
        .map(|e| format!("{} {}", e.method, e.url.split('?').next().unwrap_or("")))
        .unwrap_or_default()
}

/// A 5xx the step did not expect, as the server's failure (see [`Fault::ServerError`]): the
/// request is the last one the context sent.
pub(super) fn server_error(ctx: &Ctx, status: u16) -> Halt {
    Fault::ServerError {
        status,
        request: last_request(ctx),
    }
    .into()
}

async fn discovery(ctx: &mut Ctx, d: &DiscoveryStep) -> StepResult {
    let url = ctx.target.metadata_url.clone().ok_or_else(|| {
        Fault::config("no metadata URL: the target has no issuer, or discovery failed")
    })?;
    let resp = send(ctx, Request::get(url)).await?;
    check(ctx, &d.expect, &resp)
}

/// The authorization step; also returns the code, for `codes` and `race`.
pub(super) async fn authorize(
    ctx: &mut Ctx,
    a: &AuthorizeStep,
) -> Result<(Next, Option<Secret>), Halt> {
    let kind = a.client.unwrap_or(ctx.client);
    let client = client_config(ctx, kind)?;
    if !a.same_session {
        ctx.http = ctx
            .http
            .fresh_session()
            .map_err(|error| Fault::Http { error })?;
    }
    let v0: Vars = build::vars(&ctx.target, None, Some(&client));
    let method_sent = build::value(&v0, &a.pkce.method);
    let mut flow = Flow {
        client: Some(kind),
        ..Flow::default()
    };
    if !matches!(a.pkce.challenge, ChallengeSpec::Omit) {
        let verifier = match &a.pkce.verifier {
            Some(t) => build::render(&v0, t),
            None => ctx
                .verifier(a.pkce.verifier_length)
                .map_err(|e| Fault::config(format!("pkce.verifier_length: {e}")))?
                .expose_secret()
                .to_owned(),
        };
        ctx.test_value(&verifier);
        let method = build::derive_with(method_sent.as_deref(), &a.pkce);
        flow.challenge = build::challenge(&a.pkce.challenge, &verifier, method, &v0);
        flow.verifier = Some(verifier);
    }
    flow.state = build::state(&a.state, &v0, |n| ctx.random_string(n));
    if ctx.target.openid && a.nonce == NonceSpec::Random {
        flow.nonce = Some(
            Ctx::unique_value()
                .map_err(|e| Fault::harness(format!("no entropy for a nonce: {e}")))?,
        );
    }
    flow.redirect_uri = build::redirect_uri(&a.redirect_uri, &client, &v0);
    let binding = match a.dpop {
        DpopBinding::Auto if ctx.target.dpop => DpopBinding::Bind,
        DpopBinding::Auto => DpopBinding::None,
        other => other,
    };
    if binding != DpopBinding::None {
        flow.dpop_key = Some(super::dpop::fresh_dpop_key()?);
        flow.dpop_jkt = binding == DpopBinding::Bind;
    }
    let push = match &a.par {
        ParSpec::Auto => ctx.target.push,
        ParSpec::Push | ParSpec::PushOnly => true,
        ParSpec::Front | ParSpec::Reuse(_) => false,
    };
    let url = if let ParSpec::Reuse(from) = &a.par {
        // The earlier flow's pushed request, presented again (by this step's client): its
        // verifier, state and nonce are the ones the request carries.
        let earlier = ctx
            .flows
            .get(from)
            .cloned()
            .ok_or_else(|| fault(format!("flow {from} did not start")))?;
        let uri = earlier
            .pushed
            .as_ref()
            .map(|p| p.uri.clone())
            .ok_or_else(|| fault(format!("flow {from} pushed no request")))?;
        flow = Flow {
            client: Some(kind),
            code: None,
            issued_at: None,
            ..earlier
        };
        build::pushed_url(&ctx.target, a, &client, &flow, &uri)
    } else if push {
        let params =
            build::authorize_params(&ctx.target, a, &client, &flow, method_sent.as_deref());
        match super::par::pushed(ctx, &client, params).await? {
            Ok(pushed) => {
                let url = build::pushed_url(&ctx.target, a, &client, &flow, &pushed.uri);
                flow.pushed = Some(pushed);
                if a.par == ParSpec::PushOnly {
                    ctx.flows.insert(a.flow.clone(), flow);
                    return Ok((Next::Continue, None));
                }
                url
            }
            Err(refused) => {
                return super::par::refused_at_par(ctx, a, kind, refused).await;
            }
        }
    } else {
        build::authorize_url(&ctx.target, a, &client, &flow, method_sent.as_deref())
    };
    let targets = build::client_targets(&ctx.target, flow.redirect_uri.as_deref());
    let d = match (drive(ctx, url, &targets).await, &ctx.login_blocked) {
        (
            Err(Halt::Fault {
                fault: Fault::Login { .. },
            }),
            Some(why),
        ) => return Err(Fault::NeedsLogin { why: why.clone() }.into()),
        (d, _) => d?,
    };
    if let (
        Ending::Page {
            holds: PageKind::LoginForm,
            ..
        },
        Some(why),
    ) = (&d.ending, &ctx.login_blocked)
    {
        return Err(Fault::NeedsLogin { why: why.clone() }.into());
    }
    let e = &a.expect;

    if let Ending::Callback(r) = &d.ending
        && let Outcome::Error { error, .. } = &r.outcome
        && matches!(error.as_str(), "server_error" | "temporarily_unavailable")
    {
        return Err(Fault::ServerErrorRedirect {
            error: error.clone(),
            request: format!(
                "GET {}",
                crate::wire::without_query(&ctx.target.authorization)
            ),
        }
        .into());
    }
    // A 5xx page is the server failing, not a refusal: where a refusal would settle the step,
    // no try judges it; where a code was expected, the last try does.
    if let Ending::Page { status, .. } = &d.ending
        && *status >= 500
        && (e.outcome != AuthOutcome::Code
            || e.refusal_passes.is_some()
            || !ctx.judge_server_errors)
    {
        return Err(server_error(ctx, *status));
    }
    let refused = match &d.ending {
        Ending::Callback(r) => matches!(r.outcome, Outcome::Error { .. }),
        Ending::Page { .. } => true,
    };
    if refused {
        super::par::outlived(ctx, a, &flow, &d.ending)?;
    } else if e.provocation {
        return Err(Fault::NotProvoked {
            got: checks::describe_ending(&d.ending),
        }
        .into());
    }
    if refused && let Some(why) = &e.refusal_skips {
        control(ctx, kind, Control::Authorization).await?;
        return Err(Fault::Unreached {
            why: why.clone(),
            got: checks::describe_ending(&d.ending),
        }
        .into());
    }
    if refused && let Some(reason) = &e.refusal_passes {
        if let Some(errors) = &e.error {
            refusal_form(ctx, &errors.0, &d.ending)?;
        }
        control(ctx, kind, Control::Authorization).await?;
        return Ok((
            Next::Pass(format!(
                "{reason} (the server refused the authorization request: {})",
                checks::describe_ending(&d.ending)
            )),
            None,
        ));
    }
    let judged = checks::authorization_layered(e.outcome, &d.ending);
    keep_form(ctx, judged)?;
    if e.outcome != AuthOutcome::Code {
        control(ctx, kind, Control::Authorization).await?;
    }
    if let (Some(errors), Ending::Callback(_)) = (&e.error, &d.ending)
        && e.outcome != AuthOutcome::Code
    {
        refusal_form(ctx, &errors.0, &d.ending)?;
    }
    if let Ending::Callback(r) = &d.ending {
        if e.state_echoed {
            checks::state_echoed(flow.state.as_deref(), r)?;
        }
        if e.iss {
            let issuer = ctx
                .target
                .issuer
                .clone()
                .ok_or_else(|| Fault::config("iss check needs the target's issuer"))?;
            // RFC 9207 §2.4: a present iss is checked whatever the metadata says; only an
            // absent one depends on whether the server announces it (or the profile needs it).
            if r.outcome.iss().is_none() && !ctx.iss_required {
                return Err(Fault::OptionalAbsent {
                    message: "the response carries no iss, and the metadata does not announce authorization_response_iss_parameter_supported: RFC 9207 §2 lets such a server leave it out".into(),
                }
                .into());
            }
            checks::iss(&issuer, r)?;
        }
        if e.error_format {
            checks::callback_format(&r.findings)?;
        }
        if e.challenge_not_reflected {
            checks::challenge_not_reflected(flow.challenge.as_deref(), r)?;
        }
    }
    if !e.page_headers.is_empty() {
        checks::page_headers(&e.page_headers, &d.pages)?;
    }
    if e.pages_not_frameable {
        checks::pages_not_frameable(&d.pages)?;
    }
    checks::no_reposting_redirect(&d.post_redirects, &e.post_redirect_not)?;
    if e.consent_shown {
        checks::consent_shown(&d.pages)?;
    }
    let code = match &d.ending {
        Ending::Callback(r) => match &r.outcome {
            Outcome::Success { code, .. } => Some(code.clone()),
            Outcome::Error { .. } => None,
        },
        Ending::Page { .. } => None,
    };
    flow.code = code.clone();
    flow.issued_at = Some(std::time::Instant::now());
    ctx.flows.insert(a.flow.clone(), flow);
    Ok((Next::Continue, code))
}

/// Judges how a refusal came against the error codes a step names: an error redirect with one
/// of them. A page or another code refused all the same: that is the refusal's form.
fn refusal_form(ctx: &mut Ctx, errors: &[String], ending: &Ending) -> Result<(), Halt> {
    let judged = match ending {
        Ending::Callback(r) => checks::authorization_error(errors, r),
        Ending::Page { .. } => checks::authorization_outcome(AuthOutcome::ErrorRedirect, ending),
    };
    match judged {
        Ok(()) => Ok(()),
        Err(unmet) => keep_form(ctx, Err(Halt::Form { unmet })),
    }
}

pub(super) async fn token(ctx: &mut Ctx, t: &TokenStep) -> StepResult {
    let flow = ctx
        .flows
        .get(&t.flow)
        .ok_or_else(|| fault(format!("flow {} did not start", t.flow)))?;
    let kind = t.client.or(flow.client).unwrap_or(ctx.client);
    let client = client_config(ctx, kind)?;
    let v = build::vars(&ctx.target, Some(flow), Some(&client));
    let flow = flow.clone();
    let mut params = build::token_params(t, &flow, &client, &v, || {
        ctx.verifier(43)
            .map(|v| v.expose_secret().to_owned())
            .map_err(|e| Fault::harness(e.to_string()))
    })?;
    if let Some(ver) = params.get("code_verifier") {
        let ver = ver.to_owned();
        ctx.test_value(&ver);
    }
    let mut req = build::bare(t.http_method, ctx.target.token.clone());
    authenticate(ctx, &mut req, &mut params, &client, t.auth)?;
    build::mutate(&mut params, &t.params, &v);
    let save_as = t.save_as.as_deref().unwrap_or(&t.flow);
    let next = token_request(
        ctx,
        build::with_params(req, &params),
        &t.expect,
        save_as,
        kind,
        (flow.dpop_key.clone(), t.dpop),
    )
    .await
    .map_err(|halt| expired_meanwhile(ctx, &flow, &t.expect, halt))?;
    let (flow_key, flow_jkt) = (flow.dpop_key.clone(), flow.dpop_jkt);
    if let Some(tokens) = ctx.tokens.get_mut(save_as) {
        tokens.flow = Some(flow);
    }
    if !t.id_token.is_empty() {
        super::id_token::id_token_checks(ctx, &t.id_token, save_as, &client).await?;
    }
    if t.expect.expects_refusal() {
        let dpop = match (&flow_key, flow_jkt) {
            (None, _) => DpopBinding::Auto,
            (Some(_), true) => DpopBinding::Bind,
            (Some(_), false) => DpopBinding::Key,
        };
        control_with(ctx, kind, Control::Token, dpop).await?;
    }
    Ok(next)
}

/// A refused redemption the step expected to succeed, of a code older than the declared
/// lifetime: the code may simply have expired while other steps ran (a slow login), which
/// proves nothing about what the scenario checks. The harness cannot judge it: an error saying
/// so, not a finding.
fn expired_meanwhile(ctx: &Ctx, flow: &Flow, expect: &HttpExpect, halt: Halt) -> Halt {
    let lifetime = ctx.target.policy.code_lifetime_seconds;
    let outlived = flow
        .issued_at
        .and_then(|t| super::context::outlived(t.elapsed().as_secs_f64(), lifetime));
    let expected_success = expect.status.as_ref().is_some_and(|s| s.0.contains(&200));
    match (&halt, outlived) {
        (
            Halt::Unmet {
                unmet: crate::outcome::Unmet::Status { got: 400, .. },
            },
            Some((age, lifetime)),
        ) if expected_success => Fault::Outlived {
            what: Lifetime::Code,
            age,
            lifetime,
            refusal: halt.to_string(),
        }
        .into(),
        _ => halt,
    }
}

async fn token_request(
    ctx: &mut Ctx,
    req: Request,
    expect: &HttpExpect,
    save_as: &str,
    kind: ClientKind,
    (key, proof): (Option<Arc<SigningKey>>, DpopProof),
) -> StepResult {
    let scheme = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.split(' ').next())
        .map(str::to_owned);
    let resp = super::dpop::send_with_proof(ctx, req, key.as_ref(), proof, None).await?;
    save_tokens(ctx, &resp, save_as, kind);
    if let Some(tokens) = ctx.tokens.get_mut(save_as)
        && resp.status == 200
    {
        tokens.dpop_key = key;
    }
    let next = check(ctx, expect, &resp)?;
    if expect.auth_challenge
        && let Err(unmet) = checks::auth_challenge(scheme.as_deref(), &resp)
    {
        let v = build::vars(&ctx.target, None, None);
        let judged = checks::refusal_form(expect, &resp, &|s| build::render_str(&v, s), unmet);
        keep_form(ctx, Err(judged))?;
    }
    Ok(next)
}

/// Keeps the tokens of a successful token response under `name`.
fn save_tokens(ctx: &mut Ctx, resp: &Response, name: &str, kind: ClientKind) {
    if resp.status != 200 {
        return;
    }
    if let Some(tokens) = resp.json().as_ref().and_then(|b| tokens_of(b, kind)) {
        ctx.tokens.insert(name.to_owned(), tokens);
    }
}

pub(super) fn tokens_of(body: &serde_json::Value, kind: ClientKind) -> Option<Tokens> {
    let get = |k: &str| body.get(k).and_then(|v| v.as_str()).map(Secret::new);
    Some(Tokens {
        client: kind,
        access: Some(get("access_token")?),
        refresh: get("refresh_token"),
        id_token: get("id_token"),
        flow: None,
        dpop_key: None,
        token_type: body
            .get("token_type")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
    })
}

pub(super) fn saved(ctx: &Ctx, name: &str) -> Result<Tokens, Halt> {
    ctx.tokens
        .get(name)
        .cloned()
        .ok_or_else(|| fault(format!("no tokens saved as {name}")))
}

async fn refresh(ctx: &mut Ctx, r: &RefreshStep) -> StepResult {
    let tokens = saved(ctx, &r.tokens)?;
    let rt = tokens.refresh.ok_or_else(|| {
        fault(format!(
            "the token response saved as {} had no refresh_token",
            r.tokens
        ))
    })?;
    let kind = r.client.unwrap_or(tokens.client);
    let client = client_config(ctx, kind)?;
    let mut params = Params::new();
    params.push("grant_type", "refresh_token");
    params.push("refresh_token", rt.expose());
    let mut req = build::bare(HttpMethod::Post, ctx.target.token.clone());
    authenticate(ctx, &mut req, &mut params, &client, r.auth)?;
    let save_as = r
        .save_as
        .clone()
        .unwrap_or_else(|| format!("{}-refreshed", r.tokens));
    token_request(
        ctx,
        build::with_params(req, &params),
        &r.expect,
        &save_as,
        kind,
        (tokens.dpop_key.clone(), r.dpop),
    )
    .await
}

async fn userinfo(ctx: &mut Ctx, r: &ResourceStep) -> StepResult {
    let asks_status_only = r.expect.json.is_empty()
        && r.expect.headers.is_empty()
        && r.expect.error.is_none()
        && !r.sub_matches_id_token
        && r.dpop == DpopProof::Auto;
    let Some(url) = ctx.target.userinfo.clone() else {
        if asks_status_only && ctx.target.introspection.is_some() {
            return token_status(ctx, r, None).await;
        }
        return Err(Fault::config("the target has no userinfo endpoint").into());
    };
    let tokens = saved(ctx, &r.tokens)?;
    let at = tokens
        .access
        .clone()
        .ok_or_else(|| fault("no access token".into()))?;
    let mut req = Request::get(url);
    // RFC 9449 §7.1: a DPoP-bound token goes with the DPoP scheme (unless the step downgrades).
    let dpop_bound = tokens.dpop_key.is_some()
        || tokens
            .token_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("dpop"));
    let scheme = if dpop_bound && r.dpop != DpopProof::BearerScheme {
        "DPoP"
    } else {
        "Bearer"
    };
    req.headers
        .push(("Authorization".into(), format!("{scheme} {}", at.expose())));
    let resp = super::dpop::send_with_proof(
        ctx,
        req,
        tokens.dpop_key.as_ref(),
        r.dpop,
        Some(at.expose()),
    )
    .await?;
    // A 5xx to a token that should no longer work says nothing about revocation; where the
    // target has introspection, it answers the question instead.
    if resp.status >= 500
        && r.expect.expects_refusal()
        && asks_status_only
        && ctx.target.introspection.is_some()
    {
        return token_status(ctx, r, Some(resp.status)).await;
    }
    let next = check(ctx, &r.expect, &resp)?;
    if r.sub_matches_id_token {
        let id_sub = tokens
            .id_token
            .as_ref()
            .and_then(|t| crate::jose::Jws::parse(t.expose()).ok())
            .and_then(|j| j.claims.get("sub")?.as_str().map(str::to_owned))
            .ok_or_else(|| {
                fault(format!(
                    "the tokens saved as {} have no ID Token with a sub",
                    r.tokens
                ))
            })?;
        let got = resp.json().and_then(|b| b.get("sub").cloned());
        if got.as_ref().and_then(|v| v.as_str()) != Some(id_sub.as_str()) {
            return Err(crate::outcome::Unmet::IdToken {
                check: "userinfo sub".into(),
                expected: format!("the ID Token's sub {id_sub:?}"),
                got: got.map_or_else(|| "no sub".to_owned(), |v| v.to_string()),
            }
            .into());
        }
    }
    Ok(next)
}

/// A `userinfo` step asked through RFC 7662 introspection: an expected 2xx means the token is
/// `active`, an expected refusal that it is not. `failed` is the 5xx the resource gave, said
/// in the note.
async fn token_status(ctx: &mut Ctx, r: &ResourceStep, failed: Option<u16>) -> StepResult {
    let works = !r.expect.expects_refusal();
    let resp = introspection(ctx, &r.tokens, TokenKind::AccessToken).await?;
    let expect = HttpExpect {
        status: Some(OneOrMany(vec![200])),
        json: std::collections::BTreeMap::from([(
            "active".to_owned(),
            JsonMatch::Equals(serde_json::Value::Bool(works)),
        )]),
        ..HttpExpect::default()
    };
    let asked = match failed {
        Some(status) => format!("the resource answered HTTP {status}, so introspection was asked"),
        None => "the target has no userinfo endpoint, so introspection was asked".to_owned(),
    };
    ctx.notes.push(format!(
        "{asked}: the access token saved as {} is {}active",
        r.tokens,
        if resp
            .json()
            .and_then(|b| b.get("active").and_then(serde_json::Value::as_bool))
            == Some(true)
        {
            ""
        } else {
            "not "
        }
    ));
    check(ctx, &expect, &resp)
}

/// Sends an RFC 7662 introspection request, as the confidential client, for a saved token.
async fn introspection(ctx: &mut Ctx, saved_as: &str, kind: TokenKind) -> Result<Response, Halt> {
    let url = ctx
        .target
        .introspection
        .clone()
        .ok_or_else(|| Fault::config("the target has no introspection endpoint"))?;
    let tokens = saved(ctx, saved_as)?;
    let token = match kind {
        TokenKind::AccessToken => tokens.access,
        TokenKind::RefreshToken => tokens.refresh,
    }
    .ok_or_else(|| fault(format!("the tokens saved as {saved_as} lack that token")))?;
    let client = client_config(ctx, ClientKind::Confidential)?;
    let mut params = Params::new();
    params.push("token", token.expose());
    let mut req = build::bare(HttpMethod::Post, url);
    authenticate(ctx, &mut req, &mut params, &client, AuthSpec::Default)?;
    send(ctx, build::with_params(req, &params)).await
}

async fn introspect(ctx: &mut Ctx, i: &IntrospectStep) -> StepResult {
    let resp = introspection(ctx, &i.tokens, i.token).await?;
    check(ctx, &i.expect, &resp)
}

async fn probe(ctx: &mut Ctx, p: &ProbeStep) -> StepResult {
    let v = build::vars(&ctx.target, None, None);
    let mut req = match p.endpoint {
        Endpoint::Authorization => {
            build::bare(p.method, ctx.target.authorization.clone()).in_browser()
        }
        Endpoint::Token => build::bare(p.method, ctx.target.token.clone()),
    };
    req.headers = p
        .headers
        .iter()
        .map(|(k, t)| (k.clone(), build::render(&v, t)))
        .collect();
    let resp = send(ctx, req).await?;
    check(ctx, &p.expect, &resp)
}

/// RFC 6749 §10.10: collects codes for the entropy judge.
async fn codes(ctx: &mut Ctx, c: &CodesStep) -> StepResult {
    let mut codes = Vec::new();
    for i in 0..c.count {
        let (_, code) = authorize(ctx, &build::default_authorize(format!("codes-{i}"))).await?;
        codes.push(code.ok_or_else(|| fault("an authorization gave no code".into()))?);
    }
    checks::entropy(&codes, c.min_length, c.min_entropy_bits)?;
    Ok(Next::Continue)
}
