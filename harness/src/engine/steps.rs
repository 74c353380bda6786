//! Runs one step: asks [`super::request`] for the request its YAML describes, sends it through
//! the context (which records redacted evidence), and hands the response to the judges in
//! [`crate::checks`]. Glue only: what to send and how to judge live elsewhere.

use std::time::Duration;

use super::context::{Ctx, Flow, Tokens};
use super::control::{Control, control, control_with, expects_refusal};
use super::login::drive;
use super::request::{self as build, Vars};
use crate::callback::{Ending, Outcome};
use crate::checks;
use crate::checks::id_token::NotJudged;
use crate::forms::PageKind;
use crate::jose::SigningKey;
use crate::outcome::{Fault, Halt};
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
/// freshly signed client assertion for a JWT client (its `jti` and clock the system's), or the previous one again when the step replays it.
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

/// A fresh DPoP key (ES256) for one flow.
pub(super) fn fresh_dpop_key() -> Result<Arc<SigningKey>, Halt> {
    SigningKey::generate(crate::jose::Algorithm::ES256)
        .map(|(k, _)| Arc::new(k))
        .map_err(|e| Fault::harness(format!("making a DPoP key: {e}")).into())
}

/// The DPoP header of one request: a fresh proof with `key` (or flawed as `spec` says), or
/// none. The proof is a credential for its short life, so it is masked like one.
pub(super) fn proof_header(
    ctx: &mut Ctx,
    req: &Request,
    key: Option<&Arc<SigningKey>>,
    spec: DpopProof,
    access_token: Option<&str>,
) -> Result<Option<String>, Halt> {
    let proof = match spec {
        DpopProof::None | DpopProof::BearerScheme => return Ok(None),
        DpopProof::Replayed => ctx
            .last_proof
            .clone()
            .ok_or_else(|| fault("no earlier DPoP proof to replay".into()))?,
        _ => {
            let key = match (spec, key) {
                (DpopProof::OtherKey, _) => fresh_dpop_key()?,
                (_, Some(k)) => Arc::clone(k),
                (DpopProof::Auto, None) => return Ok(None),
                (_, None) => {
                    return Err(fault(
                        "the step flaws a DPoP proof, and the flow has no DPoP key".into(),
                    ));
                }
            };
            let jti = Ctx::unique_value()
                .map_err(|e| Fault::harness(format!("no entropy for a jti: {e}")))?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let nonce = ctx
                .dpop_nonces
                .get(&crate::jose::dpop::htu(&req.url))
                .cloned();
            if spec == DpopProof::Stale && nonce.is_some() {
                return Err(Fault::OptionalAbsent {
                    message: "the server gives DPoP nonces, and RFC 9449 §4.3 (item 11) lets a server-managed nonce stand for the proof's creation time: a stale iat need not be refused".into(),
                }
                .into());
            }
            if spec == DpopProof::WrongNonce && nonce.is_none() {
                return Err(Fault::OptionalAbsent {
                    message: "the server gave no DPoP nonce for this endpoint (RFC 9449 §8 is optional): no nonce to get wrong".into(),
                }
                .into());
            }
            let p = build::dpop_proof(&key, spec, req, now, &jti, access_token, nonce.as_deref())?;
            if spec == DpopProof::Auto {
                ctx.last_proof = Some(p.clone());
            }
            p
        }
    };
    ctx.secret(&proof);
    Ok(Some(proof))
}

/// Whether a response asks for a DPoP nonce it gives (RFC 9449 §8, §9): `use_dpop_nonce` in
/// the body (token endpoint) or the challenge (resource), with a `DPoP-Nonce` header.
fn asks_for_nonce(resp: &Response) -> Option<String> {
    let nonce = resp.header("dpop-nonce")?.to_owned();
    let in_body = resp
        .json()
        .and_then(|b| b.get("error").and_then(|e| e.as_str()).map(str::to_owned))
        .as_deref()
        == Some("use_dpop_nonce");
    let in_challenge = resp
        .header_all("www-authenticate")
        .any(|c| c.contains("use_dpop_nonce"));
    (in_body || in_challenge).then_some(nonce)
}

/// Sends `req` with its DPoP proof, following the nonce dance once (RFC 9449 §8): when the
/// server answers `use_dpop_nonce` with a `DPoP-Nonce`, the same request (with the same flaw)
/// goes again with a fresh proof carrying it. A wrong nonce or a replayed proof is sent once.
pub(super) async fn send_with_proof(
    ctx: &mut Ctx,
    req: Request,
    key: Option<&Arc<SigningKey>>,
    spec: DpopProof,
    access_token: Option<&str>,
) -> Result<Response, Halt> {
    let htu = crate::jose::dpop::htu(&req.url);
    for attempt in 0..2 {
        let mut one = if attempt == 0 {
            req.clone()
        } else {
            reauthenticated(ctx, &req)?
        };
        if let Some(p) = proof_header(ctx, &one, key, spec, access_token)? {
            one.headers.push(("DPoP".into(), p));
        }
        let resp = send(ctx, one).await?;
        let fresh = asks_for_nonce(&resp);
        if let Some(n) = &fresh {
            ctx.dpop_nonces.insert(htu.clone(), n.clone());
        } else if let Some(n) = resp.header("dpop-nonce") {
            ctx.dpop_nonces.insert(htu.clone(), n.to_owned());
        }
        let dance = attempt == 0
            && fresh.is_some()
            && (key.is_some() || spec == DpopProof::OtherKey)
            && !matches!(spec, DpopProof::WrongNonce | DpopProof::Replayed);
        if !dance {
            return Ok(resp);
        }
    }
    Err(Fault::harness("the DPoP nonce dance ended without an answer").into())
}

/// RFC 9449 §8: a server that wants a DPoP nonce says so on any request; a token request for
/// no code, with a proof, learns it before requests that cannot follow the dance: a burst, and
/// a request whose client assertion may not be sent twice (RFC 7523 §3 item 7).
pub(super) async fn learn_dpop_nonce(
    ctx: &mut Ctx,
    client: &ClientConfig,
    key: Option<&Arc<SigningKey>>,
) -> Result<(), Halt> {
    let htu = crate::jose::dpop::htu(&ctx.target.token);
    if ctx.dpop_nonces.contains_key(&htu) {
        return Ok(());
    }
    let mut params = Params::new();
    params.push("grant_type", "authorization_code");
    params.push("code", "pkce-harness-nonce-probe");
    // Authenticated, so a server that checks the client before the proof gets to the proof.
    let mut req = build::bare(HttpMethod::Post, ctx.target.token.clone());
    authenticate(ctx, &mut req, &mut params, client, AuthSpec::Default)?;
    let req = build::with_params(req, &params);
    send_with_proof(ctx, req, key, DpopProof::Auto, None).await?;
    Ok(())
}

/// The same request with a fresh client assertion in place of the one it carried, when that
/// was the client's own correct one (an assertion is single use, RFC 7523 §3 item 7, so a
/// request sent again needs a new one); any other request as it is.
fn reauthenticated(ctx: &mut Ctx, req: &Request) -> Result<Request, Halt> {
    let Some(form) = req.form() else {
        return Ok(req.clone());
    };
    let mut params = Params::parse(form);
    let sent = params.get("client_assertion").map(str::to_owned);
    if sent.is_none() || sent != ctx.last_assertion {
        return Ok(req.clone());
    }
    let id = params.get("client_id").unwrap_or("").to_owned();
    let client = [
        ClientKind::Public,
        ClientKind::Confidential,
        ClientKind::Confidential2,
    ]
    .into_iter()
    .filter_map(|k| ctx.target.client(k).cloned())
    .find(|c| c.client_id.0 == id)
    .ok_or_else(|| Fault::harness("a re-sent request's client is not configured"))?;
    for name in ["client_id", "client_assertion_type", "client_assertion"] {
        params.remove(name);
    }
    let mut again = build::bare(req.method, req.url.clone());
    again.headers = req.headers.clone();
    authenticate(ctx, &mut again, &mut params, &client, AuthSpec::Default)?;
    Ok(build::with_params(again, &params))
}

/// Sends and records; a request without a usable response is a fault.
async fn send(ctx: &mut Ctx, req: Request) -> Result<Response, Halt> {
    ctx.send(req)
        .await
        .map_err(|error| Fault::Http { error }.into())
}

/// Judges a response against an HTTP expectation, templates filled from the target.
fn check(ctx: &Ctx, expect: &HttpExpect, resp: &Response) -> StepResult {
    let v = build::vars(&ctx.target, None, None);
    let judged = checks::http(expect, resp, &|s| build::render_str(&v, s));
    if judged.is_err() && resp.status >= 500 && !ctx.judge_server_errors {
        return Err(server_error(ctx, resp.status));
    }
    judged?;
    Ok(Next::Continue)
}

/// A 5xx the step did not expect, as the server's failure (see [`Fault::ServerError`]): the
/// request is the last one the context sent.
fn server_error(ctx: &Ctx, status: u16) -> Halt {
    let request = ctx
        .evidence
        .last()
        .map(|e| format!("{} {}", e.method, e.url.split('?').next().unwrap_or("")))
        .unwrap_or_default();
    Fault::ServerError { status, request }.into()
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
        flow.dpop_key = Some(fresh_dpop_key()?);
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
            .request_uri
            .clone()
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
        match pushed(ctx, &client, params).await? {
            Ok(uri) => {
                flow.request_uri = Some(uri.clone());
                if a.par == ParSpec::PushOnly {
                    ctx.flows.insert(a.flow.clone(), flow);
                    return Ok((Next::Continue, None));
                }
                build::pushed_url(&ctx.target, a, &client, &flow, &uri)
            }
            Err(refused) => {
                return refused_at_par(ctx, a, kind, refused).await;
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

    let refused = match &d.ending {
        Ending::Callback(r) => matches!(r.outcome, Outcome::Error { .. }),
        Ending::Page { .. } => true,
    };
    if refused && let Some(reason) = &e.refusal_passes {
        control(ctx, kind, Control::Authorization).await?;
        return Ok((
            Next::Pass(format!(
                "{reason} (the server refused the authorization request: {})",
                checks::describe_ending(&d.ending)
            )),
            None,
        ));
    }
    if let Ending::Page { status, .. } = &d.ending
        && *status >= 500
        && e.outcome == AuthOutcome::Code
        && !ctx.judge_server_errors
    {
        return Err(server_error(ctx, *status));
    }
    checks::authorization_outcome(e.outcome, &d.ending)?;
    if e.outcome != AuthOutcome::Code {
        control(ctx, kind, Control::Authorization).await?;
    }
    if let Ending::Callback(r) = &d.ending {
        if let Some(errors) = &e.error {
            checks::authorization_error(&errors.0, r)?;
        }
        if e.state_echoed {
            checks::state_echoed(flow.state.as_deref(), r)?;
        }
        if e.iss {
            let issuer = ctx
                .target
                .issuer
                .clone()
                .ok_or_else(|| Fault::config("iss check needs the target's issuer"))?;
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

/// RFC 9126 §2: pushes an authorization request, the client authenticated as at the token
/// endpoint. `Ok(Ok(request_uri))` when the server took it; `Ok(Err(ending))` when it refused
/// (a 4xx: the request was refused before any front channel, as an error page refuses it).
async fn pushed(
    ctx: &mut Ctx,
    client: &ClientConfig,
    mut params: Params,
) -> Result<Result<String, Ending>, Halt> {
    let url = ctx.target.par.clone().ok_or_else(|| {
        Fault::config(
            "pushing needs a PAR endpoint: metadata pushed_authorization_request_endpoint or endpoints.par",
        )
    })?;
    let mut req = build::bare(HttpMethod::Post, url);
    // client_id once: authentication adds it where the method needs it.
    params.remove("client_id");
    authenticate(ctx, &mut req, &mut params, client, AuthSpec::Default)?;
    if params.get("client_id").is_none() {
        params.push("client_id", client.client_id.0.clone());
    }
    let resp = send(ctx, build::with_params(req, &params)).await?;
    let body = resp.json();
    if (200..300).contains(&resp.status) {
        let uri = body
            .as_ref()
            .and_then(|b| b.get("request_uri"))
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                fault(format!(
                    "the PAR endpoint answered {} without a request_uri",
                    resp.status
                ))
            })?;
        if let Some(secs) = body
            .as_ref()
            .and_then(|b| b.get("expires_in"))
            .and_then(serde_json::Value::as_f64)
        {
            let longest = ctx.request_uri_lifetime.unwrap_or(0.0).max(secs);
            ctx.request_uri_lifetime = Some(longest);
        }
        return Ok(Ok(uri.to_owned()));
    }
    if resp.status >= 500 && !ctx.judge_server_errors {
        return Err(server_error(ctx, resp.status));
    }
    let error = body
        .as_ref()
        .and_then(|b| b.get("error"))
        .and_then(|v| v.as_str())
        .map(|e| format!("PAR endpoint error {e}"));
    Ok(Err(Ending::Page {
        status: resp.status,
        title: None,
        heading: error,
        holds: PageKind::Plain,
    }))
}

/// A pushed request the PAR endpoint refused: judged like an authorization request refused
/// with an error page (no code, nobody redirected).
async fn refused_at_par(
    ctx: &mut Ctx,
    a: &AuthorizeStep,
    kind: ClientKind,
    ending: Ending,
) -> Result<(Next, Option<Secret>), Halt> {
    let e = &a.expect;
    if let Some(reason) = &e.refusal_passes {
        control(ctx, kind, Control::Authorization).await?;
        return Ok((
            Next::Pass(format!(
                "{reason} (the server refused the pushed request: {})",
                checks::describe_ending(&ending)
            )),
            None,
        ));
    }
    // RFC 9126 §2.3: a pushed request is refused with a direct error response, which stands for
    // the error redirect (or page) of a request sent on the front channel.
    if e.outcome == AuthOutcome::Code {
        checks::authorization_outcome(e.outcome, &ending)?;
    }
    if let (Some(errors), Ending::Page { heading, .. }) = (&e.error, &ending) {
        let got = heading
            .as_deref()
            .and_then(|h| h.strip_prefix("PAR endpoint error "))
            .unwrap_or("none")
            .to_owned();
        if !errors.0.contains(&got) {
            return Err(crate::outcome::Unmet::OAuthError {
                expected: errors.0.clone(),
                got,
            }
            .into());
        }
    }
    if e.state_echoed || e.iss || e.error_format || e.challenge_not_reflected {
        return Err(Fault::OptionalAbsent {
            message: "the pushed request was refused at the PAR endpoint with a direct error response (RFC 9126 §2.3): there is no error redirect for this check to judge".into(),
        }
        .into());
    }
    control(ctx, kind, Control::Authorization).await?;
    Ok((Next::Continue, None))
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
        id_token_checks(ctx, &t.id_token, save_as, &client).await?;
    }
    if expects_refusal(&t.expect) {
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
    let age = flow.issued_at.map(|t| t.elapsed().as_secs_f64());
    let expected_success = expect.status.as_ref().is_some_and(|s| s.0.contains(&200));
    match (&halt, age) {
        (
            Halt::Unmet {
                unmet: crate::outcome::Unmet::Status { got: 400, .. },
            },
            Some(age),
        ) if expected_success && age > lifetime => fault(format!(
            "the code was redeemed {age:.1} s after it was issued, past its declared lifetime (policy.code_lifetime_seconds: {lifetime} s), so the refusal may be its expiry: the steps before took too long for this check to judge ({halt})"
        )),
        _ => halt,
    }
}

/// Judges the ID Token of the tokens saved as `name`, check by check.
async fn id_token_checks(
    ctx: &mut Ctx,
    checks: &[IdTokenCheck],
    name: &str,
    client: &ClientConfig,
) -> Result<(), Halt> {
    if !ctx.target.openid {
        return Err(Fault::config(
            "ID Token checks need an OpenID flow: set openid.enabled or point at an OpenID Provider",
        )
        .into());
    }
    let jwks = if checks.contains(&IdTokenCheck::Signature) {
        Some(jwks(ctx).await?)
    } else {
        None
    };
    let tokens = saved(ctx, name)?;
    let flow = tokens.flow.clone().unwrap_or_default();
    let algs = ctx.target.id_token_algs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for check in checks {
        let other_sub = match check {
            IdTokenCheck::SameSub(other) => saved(ctx, other)?
                .id_token
                .as_ref()
                .and_then(|t| crate::jose::Jws::parse(t.expose()).ok())
                .and_then(|j| j.claims.get("sub")?.as_str().map(str::to_owned)),
            _ => None,
        };
        let expected = checks::id_token::Expected {
            issuer: ctx.target.issuer.as_deref(),
            client_id: &client.client_id.0,
            secret: client
                .client_secret
                .as_ref()
                .map_or(&[][..], |s| s.0.expose().as_bytes()),
            jwks: jwks.as_ref(),
            algs: algs.as_deref(),
            nonce: flow.nonce.as_deref(),
            access_token: tokens.access.as_ref().map(Secret::expose),
            code: flow.code.as_ref().map(Secret::expose),
            now,
            skew: ctx.target.clock_skew,
            other_sub: other_sub.as_deref(),
        };
        let token = tokens.id_token.as_ref().map(Secret::expose);
        match checks::id_token::id_token(check, token, &expected) {
            Ok(()) => {}
            Err(Ok(unmet)) => return Err(unmet.into()),
            Err(Err(NotJudged::Cannot(why))) => return Err(fault(why)),
            Err(Err(NotJudged::Absent(why))) => {
                return Err(Fault::OptionalAbsent { message: why }.into());
            }
        }
    }
    Ok(())
}

/// The provider's JWK Set: fetched from `jwks_uri` by the first scenario that needs it (and
/// recorded in its evidence), then shared by the run.
async fn jwks(ctx: &mut Ctx) -> Result<serde_json::Value, Halt> {
    if let Some(set) = ctx.target.jwks.get() {
        return Ok(set.clone());
    }
    let url = ctx.target.jwks_uri().ok_or_else(|| {
        Fault::config("the metadata has no jwks_uri: ID Token signatures cannot be checked")
    })?;
    let resp = send(ctx, Request::get(url)).await?;
    match resp.json() {
        Some(set) if resp.status == 200 && set.get("keys").is_some_and(|k| k.is_array()) => {
            let _ = ctx.target.jwks.set(set.clone());
            Ok(set)
        }
        _ if resp.status >= 500 => Err(server_error(ctx, resp.status)),
        _ => Err(fault(format!(
            "jwks_uri answered HTTP {} without a JWK Set ({{\"keys\": [...]}})",
            resp.status
        ))),
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
    let resp = send_with_proof(ctx, req, key.as_ref(), proof, None).await?;
    save_tokens(ctx, &resp, save_as, kind);
    if let Some(tokens) = ctx.tokens.get_mut(save_as)
        && resp.status == 200
    {
        tokens.dpop_key = key;
    }
    let next = check(ctx, expect, &resp)?;
    if expect.auth_challenge {
        checks::auth_challenge(scheme.as_deref(), &resp)?;
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

fn saved(ctx: &Ctx, name: &str) -> Result<Tokens, Halt> {
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
    let url = ctx
        .target
        .userinfo
        .clone()
        .ok_or_else(|| Fault::config("the target has no userinfo endpoint"))?;
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
    let resp = send_with_proof(
        ctx,
        req,
        tokens.dpop_key.as_ref(),
        r.dpop,
        Some(at.expose()),
    )
    .await?;
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

async fn introspect(ctx: &mut Ctx, i: &IntrospectStep) -> StepResult {
    let url = ctx
        .target
        .introspection
        .clone()
        .ok_or_else(|| Fault::config("the target has no introspection endpoint"))?;
    let tokens = saved(ctx, &i.tokens)?;
    let token = match i.token {
        TokenKind::AccessToken => tokens.access,
        TokenKind::RefreshToken => tokens.refresh,
    }
    .ok_or_else(|| fault(format!("the tokens saved as {} lack that token", i.tokens)))?;
    let client = client_config(ctx, ClientKind::Confidential)?;
    let mut params = Params::new();
    params.push("token", token.expose());
    let mut req = build::bare(HttpMethod::Post, url);
    authenticate(ctx, &mut req, &mut params, &client, AuthSpec::Default)?;
    let resp = send(ctx, build::with_params(req, &params)).await?;
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
