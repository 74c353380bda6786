//! Runs one step, as the scenario format names it: each step asks [`super::request`] for the
//! requests its YAML describes, sends them through [`super::exchange`] and judges the answers
//! ([`super::judge`]). Glue only: the authorize step's phases are in [`super::authorize`], a
//! token request in [`super::redeem`], the resource steps in [`super::resource`], a race's
//! bursts in [`super::race_step`]. The control flow lives here because it is made of the
//! same steps.

use std::time::Duration;

use super::authorize::{self as phase, Front, Then};
use super::context::Ctx;
use super::control::{self, Control, Like};
use super::exchange::send::{authenticate, client_config, precondition, send};
use super::exchange::tokens::saved;
use super::judge::{Next, StepResult, check};
use super::redeem::{expired_meanwhile, token_request};
use super::request as build;
use super::resource::{introspect, userinfo};
use crate::checks;
use crate::outcome::{Fault, Halt};
use crate::params::Params;
use crate::redact::Secret;
use crate::scenario::model::{
    AuthorizeStep, ClientKind, CodesStep, ConsentAnswer, DiscoveryStep, DpopBinding, Endpoint,
    Issued, MetadataDocument, ParSpec, ProbeStep, RaceGrant, RaceStep, RefreshStep, ResourceStep,
    RevokeStep, SleepStep, Step, TokenKind, TokenStep,
};
use crate::wire::{HttpMethod, Request};

/// Runs `step`.
pub async fn run(ctx: &mut Ctx, step: &Step) -> StepResult {
    match step {
        Step::Discovery(d) => discovery(ctx, d).await,
        Step::Authorize(a) => authorize(ctx, a).await.map(|(next, _)| next),
        Step::Token(t) => token(ctx, t).await,
        Step::Refresh(r) => refresh(ctx, r).await,
        Step::Userinfo(r) => userinfo(ctx, r).await,
        Step::Introspect(i) => introspect(ctx, i).await,
        Step::Revoke(r) => revoke(ctx, r).await,
        Step::Sleep(s) => sleep(ctx, s).await,
        Step::Probe(p) => probe(ctx, p).await,
        Step::Codes(c) => codes(ctx, c).await,
        Step::Race(r) => race(ctx, r).await,
        Step::Register(r) => super::register_step::register(ctx, r).await,
        Step::Tls(t) => super::tls_probe::tls(ctx, t).await,
        Step::PlainHttp(p) => super::plain_http::plain_http(ctx, p).await,
    }
}

/// The longest request_uri lifetime a `sleep` waits out (RFC 9126 §2.2 suggests 5 to 600 s).
pub(super) const MAX_REQUEST_URI_WAIT: f64 = 30.0;

/// The longest access token lifetime a `sleep` waits out: a gate run cannot wait out the hour
/// most servers give.
pub(super) const MAX_ACCESS_TOKEN_WAIT: f64 = 30.0;

/// The share of a code's declared lifetime a `sleep` with `within_code_lifetime` waits at most.
const WITHIN_CODE_LIFETIME: f64 = 2.0 / 3.0;

/// What a `sleep` waits besides a request_uri's or an access token's lifetime: its seconds,
/// plus the code lifetime (and a margin) when it waits that out, or cut to within it.
pub(super) fn sleep_seconds(s: &SleepStep, code_lifetime: f64) -> f64 {
    if s.past_code_lifetime {
        s.seconds + code_lifetime + 0.3
    } else if s.within_code_lifetime {
        s.seconds.min(code_lifetime * WITHIN_CODE_LIFETIME)
    } else {
        s.seconds
    }
}

/// Waits: a fixed time, plus the code's declared lifetime or the longest `expires_in` a PAR
/// response of this scenario gave, when the step waits those out; or a fixed time cut to fall
/// within the code's lifetime.
async fn sleep(ctx: &mut Ctx, s: &SleepStep) -> StepResult {
    let mut secs = sleep_seconds(s, ctx.code_lifetime);
    if s.past_request_uri_lifetime {
        let lifetime = ctx.request_uri_lifetime.ok_or_else(|| {
            precondition("no PAR response of this scenario gave an expires_in".into())
        })?;
        if lifetime > MAX_REQUEST_URI_WAIT {
            return Err(too_long_to_wait(
                "the request_uri",
                lifetime,
                MAX_REQUEST_URI_WAIT,
            ));
        }
        secs += lifetime + 0.5;
        ctx.waited_out_request_uri = true;
    }
    if let Some(name) = &s.past_access_token_lifetime {
        secs += access_token_wait(ctx, name)?;
    }
    let wait = Duration::try_from_secs_f64(secs.max(0.0))
        .map_err(|e| Fault::config(format!("sleep of {secs} s is not a duration: {e}")))?;
    tokio::time::sleep(wait).await;
    Ok(Next::Continue)
}

/// How long until the access token saved as `name` is a second past the `expires_in` its
/// response declared; skipped where none was declared or it is longer than a run waits.
fn access_token_wait(ctx: &Ctx, name: &str) -> Result<f64, Halt> {
    let (issued, lifetime) = saved(ctx, name)?.lifetime.ok_or_else(|| Fault::OptionalAbsent {
        message: "the token response declared no expires_in (RFC 6749 §5.1 recommends it): no lifetime to wait out".into(),
    })?;
    if lifetime > MAX_ACCESS_TOKEN_WAIT {
        return Err(too_long_to_wait(
            "the access token",
            lifetime,
            MAX_ACCESS_TOKEN_WAIT,
        ));
    }
    Ok((lifetime + 1.0 - issued.elapsed().as_secs_f64()).max(0.0))
}

/// `what` lives `lifetime` seconds (its `expires_in`), longer than a check waits (`most`): the
/// check is skipped, saying so, rather than hold the run that long.
fn too_long_to_wait(what: &str, lifetime: f64, most: f64) -> Halt {
    Fault::OptionalAbsent {
        message: format!(
            "{what} lives {lifetime} s (expires_in), longer than this check waits ({most} s): it would hold the run that long"
        ),
    }
    .into()
}

async fn discovery(ctx: &mut Ctx, d: &DiscoveryStep) -> StepResult {
    let url = match d.document {
        MetadataDocument::Found => ctx.target.metadata_url.clone(),
        MetadataDocument::Openid => ctx
            .target
            .issuer
            .as_deref()
            .and_then(super::context::openid_configuration_url),
        MetadataDocument::Jwks => ctx.target.jwks_uri(),
    }
    .ok_or_else(|| {
        Fault::config(match d.document {
            MetadataDocument::Jwks => "no JWK Set: the metadata has no jwks_uri",
            _ => "no metadata URL: the target has no issuer, or discovery failed",
        })
    })?;
    let resp = send(ctx, Request::get(url.clone())).await?;
    if d.document == MetadataDocument::Openid && resp.status == 404 {
        // OpenID Connect Discovery §4 binds the providers that support Discovery; one that
        // publishes no configuration document has none of its members to judge.
        return Err(Fault::OptionalAbsent {
            message: format!(
                "the server publishes no OpenID Provider configuration ({url} answered 404): OpenID Connect Discovery is optional, and its members are judged where a provider publishes one"
            ),
        }
        .into());
    }
    check(ctx, &d.expect, &resp)
}

/// The authorization step; also returns the code, for `codes` and `race`.
pub(super) async fn authorize(
    ctx: &mut Ctx,
    a: &AuthorizeStep,
) -> Result<(Next, Option<Secret>), Halt> {
    let kind = a.client.unwrap_or(ctx.client);
    let client = client_config(ctx, kind)?;
    let kept = std::mem::take(&mut ctx.kept_session);
    if !a.same_session && !kept {
        ctx.http = ctx
            .http
            .fresh_session()
            .map_err(|error| Fault::Http { error })?;
        ctx.browser_session = None;
    }
    let (mut flow, method) = phase::values(ctx, a, kind, &client)?;
    let like = Like {
        request_object: a.request_object,
        request_by: a.request_by,
        response_mode: a.response_mode,
        pushed: phase::pushes(ctx, a),
        par_dpop: a.par_dpop,
        dpop: a.dpop,
    };
    let url = match phase::request(ctx, a, &client, &mut flow, method.as_deref()).await? {
        Front::Open(url) => url,
        Front::PushedOnly => {
            ctx.flows.insert(a.flow.clone(), flow);
            return Ok((Next::Continue, None));
        }
        Front::RefusedAtPar(ending) => {
            let next = phase::refused_at_par(ctx, a, &ending)?;
            run_control(ctx, kind, Control::Authorization, like).await?;
            return Ok((next, None));
        }
    };
    if a.reload {
        phase::load_and_leave(ctx, &url).await?;
    }
    let d = phase::login(ctx, url, &flow, a.consent).await?;
    if a.consent == ConsentAnswer::Decline && !d.declined {
        // The server asked for no consent (a client it trusts, a grant it remembers): there
        // was nothing to decline, so what came proves nothing about a declined one.
        return Err(Fault::OptionalAbsent {
            message: format!(
                "no consent page was shown, so there was nothing to decline ({})",
                crate::checks::describe_ending(&d.ending)
            ),
        }
        .into());
    }
    if let Some(failure) = phase::server_failure(ctx, &a.expect, &d.ending) {
        return Err(failure);
    }
    phase::unfetched_request(ctx, &flow, &d.ending)?;
    phase::sent_to_flow(&a.expect, &client, &flow, &d.ending)?;
    if phase::refused(&d.ending) {
        phase::outlived(ctx, a, &flow, &d.ending)?;
    }
    let registered = phase::registered_elsewhere(&client, &flow);
    let decision = phase::decide(&a.expect, &d.ending, registered)?;
    if let Some(unmet) = decision.form {
        ctx.form.get_or_insert(unmet);
    }
    match decision.then {
        Then::AfterControl(settled) => {
            run_control(ctx, kind, Control::Authorization, like).await?;
            return settled.map(|next| (next, None));
        }
        Then::Checks { control: true } => {
            run_control(ctx, kind, Control::Authorization, like).await?;
        }
        Then::Checks { control: false } => {}
    }
    if a.expect.jarm {
        phase::jarm(ctx, &client, &d.ending).await?;
    }
    phase::response_checks(ctx, &a.expect, &flow, &d)?;
    let code = phase::code(&d.ending);
    flow.code = code.clone();
    flow.issued_at = Some(std::time::Instant::now());
    ctx.flows.insert(a.flow.clone(), flow);
    Ok((Next::Continue, code))
}

pub(super) async fn token(ctx: &mut Ctx, t: &TokenStep) -> StepResult {
    let flow = ctx
        .flows
        .get(&t.flow)
        .ok_or_else(|| precondition(format!("flow {} did not start", t.flow)))?;
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
    let (flow_key, flow_jkt, flow_client) = (flow.dpop_key.clone(), flow.dpop_jkt, flow.client);
    if let Some(tokens) = ctx.tokens.get_mut(save_as) {
        tokens.flow = Some(flow);
    }
    if !t.id_token.is_empty() {
        super::id_token::id_token_checks(ctx, &t.id_token, save_as, &client).await?;
    }
    if t.expect.expects_refusal() {
        let dpop = match (&flow_key, flow_jkt) {
            // Another client's code: the control is this client's own flow, bound as its flows
            // are (an mTLS client's by its certificate alone).
            _ if flow_client.is_some_and(|c| c != kind) => DpopBinding::Auto,
            (None, _) => DpopBinding::Auto,
            (Some(_), true) => DpopBinding::Bind,
            (Some(_), false) => DpopBinding::Key,
        };
        let like = Like {
            dpop,
            ..Like::default()
        };
        run_control(ctx, kind, Control::Token, like).await?;
    }
    Ok(next)
}

async fn refresh(ctx: &mut Ctx, r: &RefreshStep) -> StepResult {
    let owner = saved(ctx, &r.tokens)?.client;
    let next = refresh_once(ctx, r).await?;
    if r.expect.expects_refusal() {
        refresh_control(ctx, owner).await?;
    }
    Ok(next)
}

/// A refresh request as the step describes, judged, without a control.
async fn refresh_once(ctx: &mut Ctx, r: &RefreshStep) -> StepResult {
    let tokens = saved(ctx, &r.tokens)?;
    let rt = tokens.refresh.ok_or_else(|| {
        let (declared, key) = ctx.target.policy.refresh_tokens_for(tokens.client);
        let why = if declared {
            format!(
                "; the target file declares {key}: true: set it to false if the server issues none to the {} client, or give the client the scope it issues them for (often offline_access)",
                tokens.client.as_str()
            )
        } else {
            String::new()
        };
        precondition(format!(
            "the token response saved as {} had no refresh_token{why}",
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
    let next = token_request(
        ctx,
        build::with_params(req, &params),
        &r.expect,
        &save_as,
        kind,
        (tokens.dpop_key.clone(), r.dpop),
    )
    .await?;
    if !r.id_token.is_empty() {
        if saved(ctx, &save_as)?.id_token.is_none() {
            return Err(Fault::OptionalAbsent {
                message: "the refresh gave no ID Token, which OpenID Connect Core §12.2 allows"
                    .into(),
            }
            .into());
        }
        super::id_token::id_token_checks(ctx, &r.id_token, &save_as, &client).await?;
    }
    Ok(next)
}

/// The control of a refused refresh: a fresh correct flow of the refresh token's own client,
/// its refresh token then refreshed as that client, must succeed; otherwise the refusal proves
/// nothing (`error`). A fresh flow, not the refused token again: a server may rightly revoke a
/// refresh token on misuse.
async fn refresh_control(ctx: &mut Ctx, owner: ClientKind) -> Result<(), Halt> {
    run_control(ctx, owner, Control::Token, Like::default()).await?;
    let step: RefreshStep = crate::diagnostics::parse_yaml("(control)", "{tokens: control}")
        .map_err(|e| Fault::harness(e.to_string()))?;
    let label = ctx.step.clone();
    ctx.step = format!("{label}, control");
    let outcome = Box::pin(refresh(ctx, &step)).await.map(|_| ());
    ctx.step = label;
    outcome.map_err(control::failed)
}

/// A `revoke` step. After a refusal it expected, or an attempt the server should not carry out
/// (another client, other client authentication), the token must still work, judged before
/// anything else happens: a control revokes a token, and a server may rightly revoke the whole
/// grant with it (RFC 7009 §2.1), which a control flow in the same session may share. Then the
/// control.
async fn revoke(ctx: &mut Ctx, r: &RevokeStep) -> StepResult {
    let owner = saved(ctx, &r.tokens)?.client;
    let next = super::revocation::revoke(ctx, r).await?;
    if r.expect.expects_refusal() || r.is_attempt_by_another(owner) {
        still_works(ctx, &r.tokens, r.token).await?;
        revoke_control(ctx, owner, r.token).await?;
    }
    Ok(next)
}

/// The saved token still works: a refresh token refreshed by its own client, an access token
/// answered at the resource (or `active` at introspection). Unmet means the attempt revoked it.
async fn still_works(ctx: &mut Ctx, tokens: &str, kind: TokenKind) -> Result<(), Halt> {
    let label = ctx.step.clone();
    ctx.step = format!("{label}, the {} still works", kind.as_str());
    // The steps' defaults, then the scenario's name for the tokens set as a value: a name is
    // never spliced into YAML text.
    let outcome = match kind {
        TokenKind::RefreshToken => {
            let mut step: RefreshStep = crate::diagnostics::parse_yaml("(revoke)", "{}")
                .map_err(|e| Fault::harness(e.to_string()))?;
            tokens.clone_into(&mut step.tokens);
            refresh_once(ctx, &step).await
        }
        TokenKind::AccessToken => {
            let mut step: ResourceStep =
                crate::diagnostics::parse_yaml("(revoke)", "{expect: {status: 200}}")
                    .map_err(|e| Fault::harness(e.to_string()))?;
            tokens.clone_into(&mut step.tokens);
            userinfo(ctx, &step).await
        }
    };
    ctx.step = label;
    outcome.map(|_| ())
}

/// The control of a revocation the server should not carry out: a fresh correct flow of the
/// token's own client, whose token of the same kind that client revokes, must be answered 200,
/// and a refresh token so revoked must then be refused. Otherwise neither the refusal nor a
/// token that survived the attempt proves anything (`error`): the server may revoke nothing.
async fn revoke_control(ctx: &mut Ctx, owner: ClientKind, kind: TokenKind) -> Result<(), Halt> {
    run_control(ctx, owner, Control::Token, Like::default()).await?;
    let label = ctx.step.clone();
    ctx.step = format!("{label}, control");
    let outcome = async {
        let mut step: RevokeStep = crate::diagnostics::parse_yaml("(control)", "{tokens: control}")
            .map_err(|e| Fault::harness(e.to_string()))?;
        step.token = kind;
        super::revocation::revoke(ctx, &step).await.map_err(|halt| {
            control::failed_as(
                "the server does not take even the token's own client's revocation of a fresh flow's token, so what this step saw proves nothing",
                halt,
            )
        })?;
        if kind == TokenKind::RefreshToken {
            let step: RefreshStep = crate::diagnostics::parse_yaml(
                "(control)",
                "{tokens: control, expect: {status: [400, 401]}}",
            )
            .map_err(|e| Fault::harness(e.to_string()))?;
            refresh_once(ctx, &step).await.map_err(|halt| {
                control::failed_as(
                    "a fresh flow's refresh token still works after its own client revoked it: the server revokes nothing, so what this step saw proves nothing",
                    halt,
                )
            })?;
        }
        Ok(())
    }
    .await;
    ctx.step = label;
    outcome
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

/// RFC 6749 §10.10: collects codes, or the tokens their redemption gives, for the entropy
/// judge; each from a flow of its own.
async fn codes(ctx: &mut Ctx, c: &CodesStep) -> StepResult {
    let mut sample = Vec::new();
    for i in 0..c.count {
        let flow = format!("codes-{i}");
        if c.of == Issued::RequestUri {
            let mut push = build::default_authorize(flow.clone());
            push.par = ParSpec::PushOnly;
            authorize(ctx, &push).await?;
            let uri = ctx
                .flows
                .get(&flow)
                .and_then(|f| f.pushed.as_ref())
                .map(|p| Secret::new(p.uri.clone()))
                .ok_or_else(|| precondition("a push gave no request_uri".into()))?;
            sample.push(uri);
            continue;
        }
        let (_, code) = authorize(ctx, &build::default_authorize(flow.clone())).await?;
        let code = code.ok_or_else(|| precondition("an authorization gave no code".into()))?;
        if c.of == Issued::Code {
            sample.push(code);
            continue;
        }
        let tokens = redeemed(ctx, &flow).await?;
        let value = match c.of {
            Issued::RefreshToken => tokens.refresh.ok_or_else(|| {
                precondition("the token response carried no refresh token to sample".into())
            })?,
            _ => tokens
                .access
                .ok_or_else(|| precondition("the token response carried no access token".into()))?,
        };
        sample.push(value);
    }
    checks::entropy(c.of, &sample, c.min_length, c.min_entropy_bits)?;
    Ok(Next::Continue)
}

/// Redeems the code of the flow `flow` with a default token step, and gives the tokens.
async fn redeemed(ctx: &mut Ctx, flow: &str) -> Result<super::context::Tokens, Halt> {
    let step: TokenStep = crate::diagnostics::parse_yaml("(redeem)", &format!("{{flow: {flow}}}"))
        .map_err(|e| Fault::harness(e.to_string()))?;
    Box::pin(token(ctx, &step)).await?;
    saved(ctx, flow)
}

/// REQ-58: concurrent redemption. Each trial authorizes afresh and bursts `count` identical
/// token requests for the code (or, REQ-61, redeems it and bursts refresh requests for the
/// refresh token it gave); more than `at_most` successes in any burst is unmet.
async fn race(ctx: &mut Ctx, r: &RaceStep) -> StepResult {
    let client = client_config(ctx, ctx.client)?;
    let mut tally = super::race_step::Tally::default();
    for trial in 0..r.trials {
        let name = format!("race-{trial}");
        let (_, code) = authorize(ctx, &build::default_authorize(name.clone())).await?;
        let code =
            code.ok_or_else(|| precondition("the authorization gave no code to race for".into()))?;
        let params = match r.grant {
            RaceGrant::Code => super::race_step::code_grant(ctx, &name, &code)?,
            RaceGrant::RefreshToken => {
                let refresh = redeemed(ctx, &name).await?.refresh.ok_or_else(|| {
                    precondition("the token response carried no refresh token to race for".into())
                })?;
                super::race_step::refresh_grant(&refresh)
            }
        };
        let burst = super::race_step::trial(ctx, r, &client, (&name, &params), trial).await?;
        if tally.add(&burst, r.at_most, &params) {
            // Proven: further bursts would only repeat it.
            break;
        }
    }
    super::race_step::judge(ctx, r, tally)
}

/// The control-request rule ([`control`]): after a step saw the refusal it expected, a fresh
/// correct flow with the same client in the same browser session must succeed.
async fn run_control(
    ctx: &mut Ctx,
    kind: ClientKind,
    how: Control,
    like: Like,
) -> Result<(), Halt> {
    let (authorize_step, token_step) = control::plan(kind, how, like)?;
    let label = ctx.step.clone();
    ctx.step = format!("{label}, control");
    let outcome = async {
        let code = match Box::pin(authorize(ctx, &authorize_step)).await {
            Err(halt) if control::stopped_at_login(how, &halt) => return Ok(()),
            other => other?.1,
        };
        if code.is_none() {
            return Err(precondition("the authorization gave no code".into()));
        }
        if let Some(step) = &token_step {
            Box::pin(token(ctx, step)).await?;
        }
        Ok(())
    }
    .await;
    ctx.step = label;
    outcome.map_err(control::failed)
}
