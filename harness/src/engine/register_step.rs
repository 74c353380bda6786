//! The `register` step (RFC 7591): one registration request, judged, then the client it made
//! deleted (RFC 7592). An expected refusal is followed by the same request with correct
//! metadata, which must succeed: a server that refuses every registration proves nothing.

use std::sync::Arc;

use url::Url;

use super::context::{Ctx, Flow};
use super::exchange::dpop::send_with_proof;
use super::exchange::jwks::jwks;
use super::exchange::par;
use super::exchange::send::{authenticate, precondition, send, server_error};
use super::judge::{Next, StepResult, check};
use super::request as build;
use crate::callback::{Ending, Outcome};
use crate::checks;
use crate::jose::{Algorithm, SigningKey};
use crate::outcome::{Fault, Halt, Unmet};
use crate::params::Params;
use crate::pkce::{CodeVerifier, s256_of_text};
use crate::redact::Secret;
use crate::scenario::model::{
    AuthOutcome, AuthSpec, DpopProof, RegisterStep, RegisteredRedirect, RegisteredUse, SectorList,
};
use crate::target::{AuthMethod, ClientConfig, ConfigSecret};
use crate::wire::{HttpMethod, Response};

pub(super) async fn register(ctx: &mut Ctx, r: &RegisterStep) -> StepResult {
    if let Some(then) = r.then {
        return registered_then_used(ctx, r, then).await;
    }
    let sent = Prepared::new(ctx, r, r.redirect_uri, r.sector, false).await?;
    let resp = registration(ctx, &sent).await?;
    let judged = check(ctx, &r.expect, &resp);
    delete(ctx, &resp).await?;
    let next = judged?;
    if r.expect.expects_refusal() {
        // A refusal about the sector's list proves something only if the list was read.
        unfetched(ctx, sent.sector.as_ref(), "sector_identifier_uri")?;
        control(ctx, r).await?;
    }
    Ok(next)
}

/// [`super::client_host::ClientHost::fetched_or_fault`], where the step served `url`.
fn unfetched(ctx: &Ctx, url: Option<&Url>, what: &str) -> Result<(), Halt> {
    match (url, &ctx.target.client_host) {
        (Some(url), Some(host)) => Ok(host.fetched_or_fault(url, what)?),
        _ => Ok(()),
    }
}

/// The method a registration names, where the harness knows it (RFC 7591 §2): the names
/// [`AuthMethod`] reads in a target file.
fn known_method(name: &str) -> Option<AuthMethod> {
    serde_json::from_value(serde_json::Value::from(name)).ok()
}

/// What one registration sends: the redirect URI, the auth method, the key of a
/// `private_key_jwt` client (inline, or served at `jwks_uri`), and a `sector_identifier_uri`.
struct Prepared {
    redirect: String,
    method: String,
    key: Option<Arc<SigningKey>>,
    jwks_uri: Option<Url>,
    sector: Option<Url>,
    /// `id_token_signed_response_alg`, where the step asks for one.
    id_token_alg: Option<&'static str>,
    /// `require_signed_request_object: true`, where the step asks for it.
    signed_requests_only: bool,
}

impl Prepared {
    /// The registration `r` describes, with `redirect` and `sector`; `pushes`: the client will
    /// push its requests (RFC 9126), so it gets `private_key_jwt` and a key made for it.
    async fn new(
        ctx: &Ctx,
        r: &RegisterStep,
        redirect: RegisteredRedirect,
        sector: Option<SectorList>,
        pushes: bool,
    ) -> Result<Self, Halt> {
        let redirect = redirect.apply(&ctx.target.clients.public.redirect_uri.0);
        let method = if pushes {
            "private_key_jwt".to_owned()
        } else {
            r.auth_method.clone()
        };
        let key = if method == "private_key_jwt" {
            Some(Arc::new(new_key()?))
        } else {
            None
        };
        let jwks_uri = match (&key, r.jwks_uri) {
            (Some(key), true) => Some(publish(ctx, "jwks.json", jwk_set(key)?).await?),
            _ => None,
        };
        let sector = match sector {
            None => None,
            Some(list) => {
                let other = "https://other.client.example/callback";
                let uris = match list {
                    SectorList::Listed => vec![redirect.as_str(), other],
                    SectorList::Unlisted => vec![other],
                };
                Some(publish(ctx, "sector.json", serde_json::json!(uris)).await?)
            }
        };
        Ok(Self {
            redirect,
            method,
            key,
            jwks_uri,
            sector,
            id_token_alg: (r.then == Some(RegisteredUse::IdTokenRs256)).then_some("RS256"),
            signed_requests_only: r.then == Some(RegisteredUse::SignedRequestsOnly),
        })
    }
}

/// A fresh ES256 key for a registered client.
fn new_key() -> Result<SigningKey, Halt> {
    SigningKey::generate(Algorithm::ES256)
        .map(|(key, _pem)| key)
        .map_err(|e| Fault::harness(format!("no key for the registered client: {e}")).into())
}

/// The JWK Set of `key`'s public half.
fn jwk_set(key: &SigningKey) -> Result<serde_json::Value, Halt> {
    let jwk = key
        .public_jwk()
        .ok_or_else(|| Fault::harness("the registered client's key has no public half"))?;
    Ok(serde_json::json!({ "keys": [jwk] }))
}

/// Serves `document` at the client host, for the server to fetch.
async fn publish(ctx: &Ctx, name: &str, document: serde_json::Value) -> Result<Url, Halt> {
    let host = ctx.target.client_host.as_ref().ok_or_else(|| {
        Fault::config("the step publishes what the client hosts: the target file needs client_host")
    })?;
    host.publish("application/json", document.to_string(), name)
        .await
        .map_err(|e| Fault::harness(e).into())
}

/// Sends the registration (with the initial access token, if any).
async fn registration(ctx: &mut Ctx, p: &Prepared) -> Result<Response, Halt> {
    let endpoint = ctx.target.registration.clone().ok_or_else(|| {
        Fault::config(
            "the metadata has no registration_endpoint (RFC 7591): nothing to register at",
        )
    })?;
    let iat = ctx
        .target
        .initial_access_token
        .as_ref()
        .map(|t| t.expose().to_owned());
    let jwk = p.key.as_deref().and_then(SigningKey::public_jwk);
    let mut metadata = build::client_metadata(
        "pkce-harness registration check",
        &p.method,
        &[&p.redirect],
        jwk,
    );
    let pairwise = ctx
        .target
        .metadata
        .as_ref()
        .and_then(|m| m.get("subject_types_supported"))
        .and_then(serde_json::Value::as_array)
        .is_some_and(|types| types.iter().any(|t| t == "pairwise"));
    build::hosted(
        &mut metadata,
        p.jwks_uri.as_ref(),
        p.sector.as_ref(),
        pairwise,
    );
    if let Some(m) = metadata.as_object_mut() {
        if let Some(alg) = p.id_token_alg {
            m.insert("id_token_signed_response_alg".into(), alg.into());
        }
        if p.signed_requests_only {
            m.insert("require_signed_request_object".into(), true.into());
        }
    }
    send(
        ctx,
        build::registration_request(&endpoint, iat.as_deref(), &metadata),
    )
    .await
}

/// The same registration with correct metadata (the correct redirect URI, a sector list that
/// holds it) must succeed, or a refusal proves nothing.
async fn control(ctx: &mut Ctx, r: &RegisterStep) -> Result<(), Halt> {
    let listed = r.sector.map(|_| SectorList::Listed);
    let mut correct = Prepared::new(ctx, r, RegisteredRedirect::Correct, listed, false).await?;
    correct.id_token_alg = None;
    correct.signed_requests_only = false;
    if known_method(&correct.method).is_none() {
        correct.method = "client_secret_basic".into();
    }
    let resp = registration(ctx, &correct).await?;
    delete(ctx, &resp).await?;
    if made_a_client(&resp) {
        return Ok(());
    }
    Err(precondition(format!(
        "the server refuses even a correct registration (HTTP {}), so the refusal proves nothing",
        resp.status
    )))
}

/// A registration, then the client it made used as [`RegisteredUse`] says, judged; the
/// client deleted after. Where the target pushes its requests (RFC 9126), the client is
/// registered with `private_key_jwt` and a key made for it, so it can push.
async fn registered_then_used(ctx: &mut Ctx, r: &RegisterStep, then: RegisteredUse) -> StepResult {
    let sent = Prepared::new(ctx, r, r.redirect_uri, r.sector, ctx.target.push).await?;
    let registered = sent.redirect.clone();
    let resp = registration(ctx, &sent).await?;
    if !made_a_client(&resp) {
        if resp.status >= 500 {
            return Err(server_error(ctx, resp.status));
        }
        return match then {
            RegisteredUse::ExactMatch => {
                control(ctx, r).await?;
                Ok(Next::Pass(format!(
                    "the server refused to register {registered:?} (HTTP {})",
                    resp.status
                )))
            }
            RegisteredUse::QueryKept => Err(Fault::OptionalAbsent {
                message: format!(
                    "the server does not register {registered:?} (HTTP {}), a redirect URI with a query, which RFC 6749 §3.1.2 lets a client register but no server must take: whether the query is kept is not asked",
                    resp.status
                ),
            }
            .into()),
            RegisteredUse::SignedRequestsOnly => Err(Fault::OptionalAbsent {
                message: format!(
                    "the server does not register a client with require_signed_request_object (HTTP {}): RFC 9101 §10.5 leaves the setting to the server",
                    resp.status
                ),
            }
            .into()),
            RegisteredUse::IdTokenRs256 => {
                control(ctx, r).await?;
                Err(Unmet::Rs256Refused {
                    status: resp.status,
                    error: resp.oauth_error(),
                }
                .into())
            }
            RegisteredUse::Flow | RegisteredUse::KeyRotation => {
                unfetched(ctx, sent.sector.as_ref(), "sector_identifier_uri")?;
                unfetched(ctx, sent.jwks_uri.as_ref(), "JWK Set (jwks_uri)")?;
                checks::status(&[201, 200], &resp)?;
                Err(precondition(format!(
                    "the registration answered HTTP {} without a client_id",
                    resp.status
                )))
            }
        };
    }
    let body = resp.json().unwrap_or_default();
    let text = |name: &str| {
        body.get(name)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let secret = text("client_secret");
    if let Some(s) = &secret {
        ctx.secret(s);
    }
    let client = Registered {
        id: text("client_id").unwrap_or_default(),
        method: sent.method.clone(),
        secret,
        key: sent.key.clone(),
    };
    let judged = match then {
        RegisteredUse::QueryKept => query_kept(ctx, &client, &registered).await,
        RegisteredUse::ExactMatch => {
            let near = r.redirect_uri.near_miss(&registered);
            matched_exactly(ctx, &client, &registered, &near)
                .await
                .map(|()| format!("the server registered {registered:?} but matches it exactly: {near:?} gets no code"))
        }
        RegisteredUse::Flow => {
            let issued = flow(ctx, &client, &registered)
                .await
                .and_then(|resp| tokens_issued(&resp));
            match issued {
                // Refused with a key the server never fetched: not about the key.
                Err(halt) => Err(unfetched(ctx, sent.jwks_uri.as_ref(), "JWK Set (jwks_uri)")
                    .err()
                    .unwrap_or(halt)),
                Ok(()) => Ok(format!(
                    "the client registered with {} completed a flow",
                    described(&sent)
                )),
            }
        }
        RegisteredUse::KeyRotation => key_rotation(ctx, &client, &sent).await,
        RegisteredUse::IdTokenRs256 => rs256_id_token(ctx, &client, &registered).await,
        RegisteredUse::SignedRequestsOnly => signed_only(ctx, &client, &resp, &registered).await,
    };
    delete(ctx, &resp).await?;
    Ok(Next::Pass(judged?))
}

/// OpenID Connect Registration §2: the flow of a client registered for RS256 ID Tokens gives
/// one signed RS256 by a key of the provider's JWK Set.
async fn rs256_id_token(
    ctx: &mut Ctx,
    client: &Registered,
    redirect_uri: &str,
) -> Result<String, Halt> {
    let resp = flow(ctx, client, redirect_uri).await?;
    tokens_issued(&resp)?;
    let jwks = jwks(ctx, "ID Token signatures").await?;
    let token = resp
        .json()
        .and_then(|b| b.get("id_token")?.as_str().map(str::to_owned));
    checks::id_token::signed_as_registered(token.as_deref(), "RS256", &jwks)?;
    Ok("the client registered for RS256 ID Tokens got one signed RS256 by a key of the provider's JWK Set".into())
}

/// RFC 9101 §10.5: a client registered with `require_signed_request_object` has its plain
/// authorization request refused, once the registration shows the server took the setting;
/// the same request in a signed request object must get a code, or the refusal proves nothing.
async fn signed_only(
    ctx: &mut Ctx,
    client: &Registered,
    registration: &Response,
    redirect_uri: &str,
) -> Result<String, Halt> {
    let echoed = registration
        .json()
        .and_then(|b| b.get("require_signed_request_object")?.as_bool());
    if echoed != Some(true) {
        return Err(Fault::OptionalAbsent {
            message: "the server registered the client without require_signed_request_object: true in its answer (RFC 7591 §3.2.1 echoes what it registered): it does not take the setting, which RFC 9101 §10.5 leaves to it".into(),
        }
        .into());
    }
    let plain = refused_with_control(
        ctx,
        client,
        (redirect_uri, Sent::Plain),
        (redirect_uri, Sent::Signed),
        |got| format!("the same request in a signed request object was refused too ({got}), so the refusal of the plain one proves nothing"),
    )
    .await?;
    Ok(format!(
        "the client registered with require_signed_request_object had its plain request refused ({}) and its signed one served",
        checks::describe_ending(&plain)
    ))
}

/// Tokens once more for `client`: a refresh with `refresh`, else a new flow.
async fn again(
    ctx: &mut Ctx,
    client: &Registered,
    refresh: Option<&Secret>,
    redirect_uri: &str,
) -> Result<Response, Halt> {
    match refresh {
        Some(rt) => refreshed(ctx, client, rt).await,
        None => flow(ctx, client, redirect_uri).await,
    }
}

/// What the registration carried beside the redirect URI, in words.
fn described(p: &Prepared) -> String {
    let mut parts = vec![p.method.clone()];
    if p.jwks_uri.is_some() {
        parts.push("its key at a jwks_uri".into());
    }
    if p.sector.is_some() {
        parts.push("a sector_identifier_uri listing its redirect URI".into());
    }
    parts.join(", ")
}

/// A token response issued tokens.
fn tokens_issued(resp: &Response) -> Result<(), Halt> {
    checks::status(&[200], resp)?;
    if resp
        .json()
        .is_some_and(|b| b.get("access_token").and_then(|t| t.as_str()).is_some())
    {
        Ok(())
    } else {
        Err(precondition(
            "the token response is 200 without an access_token".into(),
        ))
    }
}

/// OpenID Connect Core §10.1.1: after the client's first flow, the key behind its `jwks_uri`
/// is replaced by a new one; a refresh (or a new flow, without a refresh token) authenticated
/// with the new key must be taken. A refusal counts only if the same request with the old
/// key is taken (the control): then the server kept a stale copy of the client's keys.
async fn key_rotation(ctx: &mut Ctx, old: &Registered, sent: &Prepared) -> Result<String, Halt> {
    let (Some(jwks_uri), Some(host)) = (&sent.jwks_uri, ctx.target.client_host.clone()) else {
        return Err(Fault::config("key-rotation needs jwks_uri: true and the client host").into());
    };
    let first = flow(ctx, old, &sent.redirect).await?;
    tokens_issued(&first).map_err(|halt| {
        unfetched(ctx, Some(jwks_uri), "JWK Set (jwks_uri)")
            .err()
            .unwrap_or(halt)
    })?;
    let refresh = first.json().and_then(|b| {
        b.get("refresh_token")
            .and_then(|t| t.as_str())
            .map(Secret::new)
    });
    let new = Registered {
        key: Some(Arc::new(new_key()?)),
        ..old.clone()
    };
    let new_key = new
        .key
        .as_deref()
        .ok_or_else(|| Fault::harness("no new key"))?;
    host.replace(jwks_uri, jwk_set(new_key)?.to_string());
    let before = host.fetched(jwks_uri);
    let how = if refresh.is_some() {
        "a refresh"
    } else {
        "a new flow's token request"
    };
    let resp = again(ctx, &new, refresh.as_ref(), &sent.redirect).await?;
    if tokens_issued(&resp).is_ok() {
        return Ok(format!(
            "after the key at the client's jwks_uri was replaced, {how} signed with the new key was taken at once (the server fetched the JWK Set again: {} fetch(es) since)",
            host.fetched(jwks_uri) - before
        ));
    }
    let control = again(ctx, old, refresh.as_ref(), &sent.redirect).await?;
    if tokens_issued(&control).is_err() {
        return Err(precondition(format!(
            "{how} with the new key was refused (HTTP {}), and with the old key too (HTTP {}): the refusal is not about the key",
            resp.status, control.status
        )));
    }
    // The server may keep the set it fetched for a while (it limits how often it fetches a
    // client's URL): once that is over, the new key must be taken. A rotated refresh token
    // (the control's) goes instead of the spent one.
    let window = ctx.target.policy.client_jwks_cache_seconds;
    let refresh = control
        .json()
        .and_then(|b| {
            b.get("refresh_token")
                .and_then(|t| t.as_str())
                .map(Secret::new)
        })
        .or(refresh);
    let since = host
        .last_fetched(jwks_uri)
        .map_or(std::time::Duration::ZERO, |t| t.elapsed());
    let wait = std::time::Duration::from_secs_f64(window + 0.5).saturating_sub(since);
    ctx.queued.off_the_clock(tokio::time::sleep(wait)).await;
    let resp = again(ctx, &new, refresh.as_ref(), &sent.redirect).await?;
    if tokens_issued(&resp).is_ok() {
        return Ok(format!(
            "after the key at the client's jwks_uri was replaced, {how} signed with the new key was taken once the server's {window} s cache of the client's keys was over (policy.client_jwks_cache_seconds)"
        ));
    }
    Err(Unmet::StaleClientKeys {
        status: resp.status,
        error: resp.oauth_error(),
    }
    .into())
}

/// `matched` (a URI near the registered one) gets no code, and `registered` (the string
/// itself) does.
async fn matched_exactly(
    ctx: &mut Ctx,
    client: &Registered,
    registered: &str,
    matched: &str,
) -> Result<(), Halt> {
    refused_with_control(
        ctx,
        client,
        (matched, Sent::Plain),
        (registered, Sent::Plain),
        |got| format!("the server registered {registered:?}, but sends no code there either ({got}): the refusal of {matched:?} proves nothing"),
    )
    .await
    .map(drop)
}

/// An authorization request of `client` to `refused` that must get no code, then its control
/// to `control`, which must get one: a refusal the correct request shares proves nothing
/// (`unproven` says so, given how the control ended). How the refused request ended.
async fn refused_with_control(
    ctx: &mut Ctx,
    client: &Registered,
    refused: (&str, Sent),
    control: (&str, Sent),
    unproven: impl FnOnce(String) -> String,
) -> Result<Ending, Halt> {
    let (ending, _) = authorize(ctx, client, refused.0, refused.1).await?;
    checks::authorization_outcome(AuthOutcome::Refused, &ending)?;
    let (correct, _) = authorize(ctx, client, control.0, control.1).await?;
    if checks::authorization_outcome(AuthOutcome::Code, &correct).is_err() {
        return Err(precondition(unproven(
            checks::describe_ending(&correct).to_string(),
        )));
    }
    Ok(ending)
}

/// A client the step registered: its id, how it authenticates and with what.
#[derive(Clone)]
struct Registered {
    id: String,
    method: String,
    secret: Option<String>,
    key: Option<Arc<SigningKey>>,
}

impl Registered {
    /// As a client of the target file, for the requests it sends.
    fn config(&self, redirect_uri: &str) -> Result<ClientConfig, Halt> {
        let method = known_method(&self.method).unwrap_or(AuthMethod::ClientSecretBasic);
        let redirect = Url::parse(redirect_uri)
            .map(crate::target::RedirectUri)
            .map_err(|e| Fault::harness(format!("{redirect_uri:?}: {e}")))?;
        Ok(ClientConfig {
            client_secret: self.secret.clone().map(|s| ConfigSecret(Secret::new(s))),
            signing_key: self.key.clone(),
            ..ClientConfig::made(self.id.clone(), method, redirect)
        })
    }
}

/// Keeps `config` as the scenario's client of its id, in place of an earlier one (a rotated
/// key replaces the old), so a request the DPoP nonce dance sends again is signed as now.
fn made(ctx: &mut Ctx, config: &ClientConfig) {
    ctx.made_clients
        .retain(|c| c.client_id.0 != config.client_id.0);
    ctx.made_clients.push(config.clone());
}

/// RFC 6749 §3.1.2: the registered URI (with a query) gets the code, its query kept.
async fn query_kept(ctx: &mut Ctx, client: &Registered, registered: &str) -> Result<String, Halt> {
    let (ending, _) = authorize(ctx, client, registered, Sent::Plain).await?;
    checks::authorization_outcome(AuthOutcome::Code, &ending)?;
    let (Ending::Callback(response), Ok(url)) = (&ending, Url::parse(registered)) else {
        return Err(Fault::harness(format!("{registered:?} is not a URL")).into());
    };
    checks::redirect_query_kept(&url, response)?;
    Ok(format!(
        "the code came back to {registered:?} with its query kept"
    ))
}

/// An authorization to `redirect_uri`, past the login, and the code redeemed with the
/// client's own authentication: the token response.
async fn flow(ctx: &mut Ctx, client: &Registered, redirect_uri: &str) -> Result<Response, Halt> {
    let (ending, verifier) = authorize(ctx, client, redirect_uri, Sent::Plain).await?;
    checks::authorization_outcome(AuthOutcome::Code, &ending)?;
    let code = match &ending {
        Ending::Callback(r) => match &r.outcome {
            Outcome::Success { code, .. } => code.expose().to_owned(),
            _ => return Err(Fault::harness("a code ending without a code").into()),
        },
        Ending::Page { .. } => return Err(Fault::harness("a code ending without a code").into()),
    };
    let mut params = Params::new();
    params.push("grant_type", "authorization_code");
    params.push("code", code);
    params.push("redirect_uri", redirect_uri);
    params.push("code_verifier", verifier.expose_secret());
    back_channel(ctx, client, redirect_uri, params).await
}

/// A refresh with `refresh_token`, authenticated as `client`.
async fn refreshed(
    ctx: &mut Ctx,
    client: &Registered,
    refresh_token: &Secret,
) -> Result<Response, Halt> {
    let mut params = Params::new();
    params.push("grant_type", "refresh_token");
    params.push("refresh_token", refresh_token.expose());
    let redirect = ctx.target.clients.public.redirect_uri.0.to_string();
    back_channel(ctx, client, &redirect, params).await
}

/// A token request of `params`, authenticated as `client`, with a DPoP proof of a fresh key
/// where the target binds every flow.
async fn back_channel(
    ctx: &mut Ctx,
    client: &Registered,
    redirect_uri: &str,
    mut params: Params,
) -> Result<Response, Halt> {
    let config = client.config(redirect_uri)?;
    made(ctx, &config);
    let mut req = build::bare(HttpMethod::Post, ctx.target.token.clone());
    authenticate(ctx, &mut req, &mut params, &config, AuthSpec::Default)?;
    let key = if ctx.target.dpop {
        Some(Arc::new(new_key()?))
    } else {
        None
    };
    send_with_proof(
        ctx,
        build::with_params(req, &params),
        key.as_ref(),
        DpopProof::Auto,
        None,
    )
    .await
}

/// How an authorization request of a registered client carries its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// In the clear.
    Plain,
    /// In a request object signed with the client's key (RFC 9101).
    Signed,
}

/// An authorization request (with PKCE and `state`) for a client the step registered, to
/// `redirect_uri`, its parameters as `sent` says, pushed first where the target pushes, taken
/// through the login: how it ended.
async fn authorize(
    ctx: &mut Ctx,
    client: &Registered,
    redirect_uri: &str,
    sent: Sent,
) -> Result<(Ending, CodeVerifier), Halt> {
    let client_id = client.id.as_str();
    let verifier = ctx
        .verifier(43)
        .map_err(|e| Fault::harness(format!("no verifier: {e}")))?;
    let mut params = Params::new();
    params.push("response_type", "code");
    params.push("client_id", client_id);
    params.push("redirect_uri", redirect_uri);
    if let Some(scope) = &ctx.target.scope {
        params.push("scope", scope.clone());
    }
    params.push("state", ctx.random_string(22));
    params.push("code_challenge", s256_of_text(verifier.expose_secret()));
    params.push("code_challenge_method", "S256");
    let flow = Flow {
        redirect_uri: Some(redirect_uri.to_owned()),
        ..Flow::default()
    };
    if sent == Sent::Signed {
        let config = client.config(redirect_uri)?;
        let object = super::authorize::signed_request(
            ctx,
            &config,
            &params,
            crate::scenario::model::RequestObjectSpec::Signed,
        )?;
        params = build::beside_request_object(&config, object);
    }
    let url = if ctx.target.push {
        let config = client.config(redirect_uri)?;
        made(ctx, &config);
        match par::pushed(
            ctx,
            &config,
            params,
            (AuthSpec::Default, HttpMethod::Post),
            None,
        )
        .await?
        {
            Ok(pushed) => {
                let mut front = Params::new();
                front.push("client_id", client_id);
                front.push("request_uri", pushed.uri);
                build::authorization_url(&ctx.target, &front)
            }
            Err(refused) => return Ok((refused, verifier)),
        }
    } else {
        build::authorization_url(&ctx.target, &params)
    };
    let ending = super::authorize::login(
        ctx,
        url,
        &flow,
        crate::scenario::model::ConsentAnswer::Approve,
    )
    .await?
    .ending;
    Ok((ending, verifier))
}

fn made_a_client(resp: &Response) -> bool {
    matches!(resp.status, 200 | 201)
        && resp
            .json()
            .is_some_and(|b| b.get("client_id").and_then(|v| v.as_str()).is_some())
}

/// Deletes the client a response made (RFC 7592), where the server said how; whether the
/// server deletes it is not this step's finding.
async fn delete(ctx: &mut Ctx, resp: &Response) -> Result<(), Halt> {
    let Some((uri, token)) = resp
        .json()
        .filter(|_| made_a_client(resp))
        .as_ref()
        .and_then(build::management)
    else {
        return Ok(());
    };
    send(ctx, build::deletion_request(&uri, &token)).await?;
    Ok(())
}
