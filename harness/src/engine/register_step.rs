//! The `register` step (RFC 7591): one registration request, judged, then the client it made
//! deleted (RFC 7592). An expected refusal is followed by the same request with correct
//! metadata, which must succeed: a server that refuses every registration proves nothing.

use std::sync::Arc;

use super::context::{Ctx, Flow};
use super::exchange::par;
use super::exchange::send::{precondition, send, server_error};
use super::judge::{Next, StepResult, check};
use super::request as build;
use crate::callback::Ending;
use crate::checks;
use crate::jose::{Algorithm, SigningKey};
use crate::outcome::{Fault, Halt};
use crate::params::Params;
use crate::pkce::s256_of_text;
use crate::scenario::model::{AuthOutcome, AuthSpec, RegisterStep};
use crate::target::{AuthMethod, ClientConfig};
use crate::wire::{HttpMethod, Response};

pub(super) async fn register(ctx: &mut Ctx, r: &RegisterStep) -> StepResult {
    if r.exact_match || r.query_kept {
        return registered_then_used(ctx, r).await;
    }
    let sent = r
        .redirect_uri
        .apply(&ctx.target.clients.public.redirect_uri.0);
    let resp = registration(ctx, &sent, &r.auth_method).await?;
    let judged = check(ctx, &r.expect, &resp);
    delete(ctx, &resp).await?;
    let next = judged?;
    if r.expect.expects_refusal() {
        control(ctx).await?;
    }
    Ok(next)
}

/// Sends a registration for `redirect` with `method` (and the initial access token, if any).
async fn registration(ctx: &mut Ctx, redirect: &str, method: &str) -> Result<Response, Halt> {
    registration_with_key(ctx, redirect, method, None).await
}

/// [`registration`], with the public key of a `private_key_jwt` client.
async fn registration_with_key(
    ctx: &mut Ctx,
    redirect: &str,
    method: &str,
    key: Option<&SigningKey>,
) -> Result<Response, Halt> {
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
    let jwk = key.and_then(SigningKey::public_jwk);
    let metadata =
        build::client_metadata("pkce-harness registration check", method, &[redirect], jwk);
    send(
        ctx,
        build::registration_request(&endpoint, iat.as_deref(), &metadata),
    )
    .await
}

/// The same registration with correct metadata must succeed, or a refusal proves nothing.
async fn control(ctx: &mut Ctx) -> Result<(), Halt> {
    let correct = ctx.target.clients.public.redirect_uri.0.to_string();
    let resp = registration(ctx, &correct, "client_secret_basic").await?;
    delete(ctx, &resp).await?;
    if made_a_client(&resp) {
        return Ok(());
    }
    Err(precondition(format!(
        "the server refuses even a correct registration (HTTP {}), so the refusal proves nothing",
        resp.status
    )))
}

/// A registered redirect URI judged at the authorization endpoint, past the login, for the
/// client it was registered for. With `exact_match` (RFC 9700 §4.1.3: a pattern or a query is
/// harmless only if matched exactly) a refused registration passes (after the control); an
/// accepted one must send no code to a URI near it and a code to the registered string
/// itself. With `query_kept` (RFC 6749 §3.1.2) the code must come back to the registered URI
/// with its query kept; a refused registration skips the check, since no server must take
/// such a URI. Where the target pushes its requests (RFC 9126), the client is registered with
/// `private_key_jwt` and a key made for it, so it can push.
async fn registered_then_used(ctx: &mut Ctx, r: &RegisterStep) -> StepResult {
    let registered = r
        .redirect_uri
        .apply(&ctx.target.clients.public.redirect_uri.0);
    let key = if ctx.target.push {
        let (key, _pem) = SigningKey::generate(Algorithm::ES256)
            .map_err(|e| Fault::harness(format!("no key for the registered client: {e}")))?;
        Some(key)
    } else {
        None
    };
    let method = if key.is_some() {
        "private_key_jwt"
    } else {
        r.auth_method.as_str()
    };
    let resp = registration_with_key(ctx, &registered, method, key.as_ref()).await?;
    if !made_a_client(&resp) {
        if resp.status >= 500 {
            return Err(server_error(ctx, resp.status));
        }
        control(ctx).await?;
        if r.query_kept {
            return Err(Fault::OptionalAbsent {
                message: format!(
                    "the server does not register {registered:?} (HTTP {}), a redirect URI with a query, which RFC 6749 §3.1.2 lets a client register but no server must take: whether the query is kept is not asked",
                    resp.status
                ),
            }
            .into());
        }
        return Ok(Next::Pass(format!(
            "the server refused to register {registered:?} (HTTP {})",
            resp.status
        )));
    }
    let client_id = resp
        .json()
        .and_then(|b| {
            b.get("client_id")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let client = Registered {
        id: client_id,
        key: key.map(Arc::new),
    };
    let judged = if r.query_kept {
        query_kept(ctx, &client, &registered).await
    } else {
        let near = r.redirect_uri.near_miss(&registered);
        matched_exactly(ctx, &client, &registered, &near)
            .await
            .map(|()| format!("the server registered {registered:?} but matches it exactly: {near:?} gets no code"))
    };
    delete(ctx, &resp).await?;
    Ok(Next::Pass(judged?))
}

/// RFC 6749 §3.1.2: the registered URI (with a query) gets the code, its query kept.
async fn query_kept(ctx: &mut Ctx, client: &Registered, registered: &str) -> Result<String, Halt> {
    let ending = authorize(ctx, client, registered).await?;
    checks::authorization_outcome(AuthOutcome::Code, &ending)?;
    let (Ending::Callback(response), Ok(url)) = (&ending, url::Url::parse(registered)) else {
        return Err(Fault::harness(format!("{registered:?} is not a URL")).into());
    };
    checks::redirect_query_kept(&url, response)?;
    Ok(format!(
        "the code came back to {registered:?} with its query kept"
    ))
}

/// `matched` (a URI near the registered one) gets no code, and `registered` (the string
/// itself) does.
async fn matched_exactly(
    ctx: &mut Ctx,
    client: &Registered,
    registered: &str,
    matched: &str,
) -> Result<(), Halt> {
    let ending = authorize(ctx, client, matched).await?;
    checks::authorization_outcome(AuthOutcome::Refused, &ending)?;
    let ending = authorize(ctx, client, registered).await?;
    if checks::authorization_outcome(AuthOutcome::Code, &ending).is_err() {
        return Err(precondition(format!(
            "the server registered {registered:?}, but sends no code there either ({}): the refusal of {matched:?} proves nothing",
            checks::describe_ending(&ending)
        )));
    }
    Ok(())
}

/// A client the step registered: its id, and its key where it pushes its requests.
struct Registered {
    id: String,
    key: Option<Arc<SigningKey>>,
}

/// An authorization request (with PKCE and `state`) for a client the step registered, to
/// `redirect_uri`, pushed first where it has a key, taken through the login: how it ended.
async fn authorize(ctx: &mut Ctx, client: &Registered, redirect_uri: &str) -> Result<Ending, Halt> {
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
    let url = match &client.key {
        None => build::authorization_url(&ctx.target, &params),
        Some(key) => {
            let config = ClientConfig {
                signing_key: Some(Arc::clone(key)),
                ..ClientConfig::made(
                    client_id.to_owned(),
                    AuthMethod::PrivateKeyJwt,
                    ctx.target.clients.public.redirect_uri.clone(),
                )
            };
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
                Err(refused) => return Ok(refused),
            }
        }
    };
    Ok(super::authorize::login(
        ctx,
        url,
        &flow,
        crate::scenario::model::ConsentAnswer::Approve,
    )
    .await?
    .ending)
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
