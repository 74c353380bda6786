//! The steps that use a saved token at a resource: `userinfo` (with the DPoP scheme for a
//! bound token; through introspection where the target has no userinfo endpoint, or where the
//! resource failed) and `introspect` (RFC 7662).

use super::context::Ctx;
use super::exchange::dpop::send_with_proof;
use super::exchange::send::{authenticate, client_config, precondition, send};
use super::exchange::tokens::saved;
use super::judge::{StepResult, check};
use super::request as build;
use crate::checks;
use crate::outcome::{Fault, Halt};
use crate::params::Params;
use crate::redact::Secret;
use crate::scenario::model::{
    AuthSpec, CertificateSpec, ClientKind, DpopProof, HttpExpect, IntrospectStep, JsonMatch,
    OneOrMany, Presented, ResourceMethod, ResourceStep, TokenKind,
};
use crate::wire::{HttpMethod, Request, Response};

/// A `userinfo` step: the saved access token at the UserInfo endpoint.
pub(super) async fn userinfo(ctx: &mut Ctx, r: &ResourceStep) -> StepResult {
    let asks_status_only = r.expect.json.is_empty()
        && r.expect.headers.is_empty()
        && r.expect.error.is_none()
        && !r.sub_matches_id_token
        && r.scope_claims.is_empty()
        && !r.claim_types
        && r.claims_present.is_empty()
        && r.dpop == DpopProof::Auto;
    let Some(url) = ctx.target.userinfo.clone() else {
        if asks_status_only && ctx.target.introspection.is_some() {
            return token_status(ctx, r, None).await;
        }
        return Err(Fault::config("the target has no userinfo endpoint").into());
    };
    let tokens = saved(ctx, &r.tokens)?;
    let original = tokens
        .access
        .clone()
        .ok_or_else(|| precondition("no access token".into()))?;
    let at = match build::jwt_copy(original.expose(), r.presented)? {
        Some(copy) => Secret::new(copy),
        None => {
            return Err(Fault::OptionalAbsent {
                message: "the access token is opaque, not a JWT: it has no claims to copy unsigned"
                    .into(),
            }
            .into());
        }
    };
    let mut req = match r.method {
        ResourceMethod::Get => Request::get(url),
        ResourceMethod::Post => build::bare(HttpMethod::Post, url),
    };
    // RFC 8705 §3: a certificate-bound token goes over a connection with that certificate.
    req.identity = match r.certificate {
        CertificateSpec::Own => client_config(ctx, tokens.client)?.tls_identity,
        CertificateSpec::Other => Some(build::stranger_identity()?),
        CertificateSpec::None => None,
    };
    super::exchange::send::present_certificate(ctx, &mut req);
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
    match r.presented {
        Presented::Header
        | Presented::AlgNoneCopy
        | Presented::AlgNoneCasedCopy
        | Presented::ForgedSignatureCopy => req
            .headers
            .push(("Authorization".into(), format!("{scheme} {}", at.expose()))),
        Presented::LowercaseScheme => req.headers.push((
            "Authorization".into(),
            format!("{} {}", scheme.to_ascii_lowercase(), at.expose()),
        )),
        Presented::Query => {
            req.url
                .query_pairs_mut()
                .append_pair("access_token", at.expose());
        }
    }
    let resp = send_with_proof(
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
    if r.presented.is_copy() && r.expect.expects_refusal() {
        // The copy's refusal proves something only if the token it was made of is taken.
        let control = ResourceStep {
            presented: Presented::Header,
            expect: HttpExpect {
                status: Some(OneOrMany(vec![200])),
                ..HttpExpect::default()
            },
            ..r.clone()
        };
        Box::pin(userinfo(ctx, &control)).await.map_err(|halt| {
            super::control::failed_as(
                "the original access token is refused too, so the copy's refusal proves nothing",
                halt,
            )
        })?;
    }
    claims(ctx, r, &resp, tokens.id_token.as_ref())?;
    if r.sub_matches_id_token {
        let id_sub = tokens
            .id_token
            .as_ref()
            .and_then(|t| crate::jose::Jws::parse(t.expose()).ok())
            .and_then(|j| j.claims.get("sub")?.as_str().map(str::to_owned))
            .ok_or_else(|| {
                precondition(format!(
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

/// The claims a `userinfo` step judges (OpenID Connect Core §5.1, §5.4): in the answer and in
/// the ID Token saved with the tokens.
fn claims(
    ctx: &Ctx,
    r: &ResourceStep,
    resp: &Response,
    id_token: Option<&Secret>,
) -> Result<(), Halt> {
    if r.scope_claims.is_empty() && !r.claim_types && r.claims_present.is_empty() {
        return Ok(());
    }
    let answer = resp
        .json()
        .filter(serde_json::Value::is_object)
        .ok_or_else(|| precondition("the UserInfo answer is not a JSON object".into()))?;
    let id_claims = id_token
        .and_then(|t| crate::jose::Jws::parse(t.expose()).ok())
        .map(|j| serde_json::Value::Object(j.claims));
    for name in &r.claims_present {
        if answer.get(name).is_none_or(serde_json::Value::is_null) {
            return Err(crate::outcome::Unmet::JsonField {
                field: name.clone(),
                expected: "present, as the claims parameter asked (OpenID Connect Core §5.5)"
                    .into(),
                got: None,
            }
            .into());
        }
    }
    for &scope in &r.scope_claims {
        // As the OpenID Foundation's modules do: a scope the metadata says it does not offer
        // is not asked of the server.
        let listed = ctx
            .target
            .metadata
            .as_ref()
            .and_then(|m| m.get("scopes_supported")?.as_array().cloned());
        if listed.is_some_and(|l| !l.iter().any(|v| v == scope.as_str())) {
            return Err(Fault::OptionalAbsent {
                message: format!(
                    "the metadata's scopes_supported does not list {}: the server does not offer its claims",
                    scope.as_str()
                ),
            }
            .into());
        }
        checks::claims::scope_served(scope, &answer, id_claims.as_ref())?;
    }
    if r.claim_types {
        let judged = checks::claims::standard_types(&answer)?
            + id_claims
                .as_ref()
                .map_or(Ok(0), checks::claims::standard_types)?;
        if judged == 0 {
            return Err(Fault::OptionalAbsent {
                message: "neither UserInfo nor the ID Token carries a standard claim beside sub (the claims are voluntary, OpenID Connect Core §5.4): no type to judge".into(),
            }
            .into());
        }
    }
    Ok(())
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
    .ok_or_else(|| precondition(format!("the tokens saved as {saved_as} lack that token")))?;
    let client = client_config(ctx, ClientKind::Confidential)?;
    let mut params = Params::new();
    params.push("token", token.expose());
    let mut req = build::bare(HttpMethod::Post, url);
    authenticate(ctx, &mut req, &mut params, &client, AuthSpec::Default)?;
    send(ctx, build::with_params(req, &params)).await
}

/// An `introspect` step: RFC 7662 introspection of a saved token, judged.
pub(super) async fn introspect(ctx: &mut Ctx, i: &IntrospectStep) -> StepResult {
    let resp = introspection(ctx, &i.tokens, i.token).await?;
    check(ctx, &i.expect, &resp)
}
