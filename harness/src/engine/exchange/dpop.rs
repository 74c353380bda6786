//! DPoP in the engine (RFC 9449): a flow's key, the proof of each back-channel request (or
//! the flaw a step asks for), the `DPoP-Nonce` dance, and the client assertion re-signed when a
//! request must go again. The proofs themselves are built by [`crate::engine::request::dpop_proof`].

use std::sync::Arc;

use super::send::{authenticate, precondition, send};
use crate::engine::context::Ctx;
use crate::engine::request as build;
use crate::jose::SigningKey;
use crate::outcome::{Fault, Halt};
use crate::params::Params;
use crate::scenario::model::{AuthSpec, DpopProof};
use crate::target::ClientConfig;
use crate::wire::{HttpMethod, Request, Response};

/// A fresh DPoP key (ES256) for one flow.
pub(crate) fn fresh_dpop_key() -> Result<Arc<SigningKey>, Halt> {
    SigningKey::generate(crate::jose::Algorithm::ES256)
        .map(|(k, _)| Arc::new(k))
        .map_err(|e| Fault::harness(format!("making a DPoP key: {e}")).into())
}

/// The scenario client's own key, which must be RSA: ring generates no RSA keys, so the
/// harness has no other to sign an RS256 proof with.
fn rsa_client_key(ctx: &Ctx) -> Result<Arc<SigningKey>, Halt> {
    ctx.target
        .client(ctx.client)
        .and_then(|c| c.signing_key.clone())
        .filter(|k| k.is_rsa())
        .ok_or_else(|| {
            precondition(
                "an RS256 DPoP proof is signed with the client's own RSA key, and the client has none (the scenario must require rsa-key)".into(),
            )
        })
}

/// The DPoP header of one request: a fresh proof with `key` (or flawed as `spec` says), or
/// none. The proof is a credential for its short life, so it is masked like one.
pub(crate) fn proof_header(
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
            .ok_or_else(|| precondition("no earlier DPoP proof to replay".into()))?,
        _ => {
            let key = match (spec, key) {
                (DpopProof::OtherKey, _) => fresh_dpop_key()?,
                (DpopProof::Rs256, _) => rsa_client_key(ctx)?,
                (_, Some(k)) => Arc::clone(k),
                (DpopProof::Auto, None) => return Ok(None),
                (_, None) => {
                    return Err(precondition(
                        "the step flaws a DPoP proof, and the flow has no DPoP key".into(),
                    ));
                }
            };
            let (jti, now) = Ctx::jti_and_now()?;
            let nonce = ctx
                .dpop_nonces
                .get(&crate::jose::dpop::htu(&req.url))
                .cloned();
            if matches!(spec, DpopProof::Stale | DpopProof::FutureIat) && nonce.is_some() {
                return Err(Fault::OptionalAbsent {
                    message: "the server gives DPoP nonces, and RFC 9449 §4.3 (item 11) lets a server-managed nonce stand for the proof's creation time: an iat far from now need not be refused".into(),
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
    let in_body = resp.oauth_error().as_deref() == Some("use_dpop_nonce");
    let in_challenge = resp
        .header_all("www-authenticate")
        .any(|c| c.contains("use_dpop_nonce"));
    (in_body || in_challenge).then_some(nonce)
}

/// Sends `req` with its DPoP proof, following the nonce dance once (RFC 9449 §8): when the
/// server answers `use_dpop_nonce` with a `DPoP-Nonce`, the same request (with the same flaw)
/// goes again with a fresh proof carrying it. A wrong nonce or a replayed proof is sent once.
pub(crate) async fn send_with_proof(
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
        // §4.3 item 1: a second whole proof (its own jti) in a second header field.
        if spec == DpopProof::TwoProofs
            && let Some(p) = proof_header(ctx, &one, key, spec, access_token)?
        {
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
            && (key.is_some() || matches!(spec, DpopProof::OtherKey | DpopProof::Rs256))
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
pub(crate) async fn learn_dpop_nonce(
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

/// The same request with a fresh client assertion in place of the one it carried (an assertion
/// is single use, RFC 7523 §3 item 7, so a request sent again needs a new one): a correct one
/// for the client's own, and one with the same flaw for a flawed one, lest a server that took
/// the flaw refuse the second sending as a replay and the check pass on that; any other request
/// (a replayed assertion among them) as it is.
fn reauthenticated(ctx: &mut Ctx, req: &Request) -> Result<Request, Halt> {
    let Some(form) = req.form() else {
        return Ok(req.clone());
    };
    let mut params = Params::parse(form);
    let Some(sent) = params.get("client_assertion").map(str::to_owned) else {
        return Ok(req.clone());
    };
    let auth = if ctx.last_assertion.as_ref() == Some(&sent) {
        AuthSpec::Default
    } else if let Some((flawed, auth)) = &ctx.last_flawed_assertion
        && *flawed == sent
    {
        *auth
    } else {
        return Ok(req.clone());
    };
    let id = params.get("client_id").unwrap_or("").to_owned();
    let client = ctx
        .target
        .clients
        .all()
        .chain(&ctx.made_clients)
        .find(|c| c.client_id.0 == id)
        .cloned()
        .ok_or_else(|| Fault::harness("a re-sent request's client is not configured"))?;
    for name in ["client_id", "client_assertion_type", "client_assertion"] {
        params.remove(name);
    }
    let mut again = build::bare(req.method, req.url.clone());
    again.headers = req.headers.clone();
    authenticate(ctx, &mut again, &mut params, &client, auth)?;
    Ok(build::with_params(again, &params))
}
