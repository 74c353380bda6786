//! JWT-secured authorization requests (RFC 9101) at the reference server: a request object
//! passed by value in `request`, at the authorization endpoint or pushed, is verified with the
//! client's registered key and becomes the request; the parameters beside it are not used
//! (§6.3). Its lifetime is held to FAPI 2.0 Message Signing's sixty minutes.
//!
//! Verified with jsonwebtoken's `decode` and a `Validation`, as client assertions are
//! ([`super::oidc`]), not with the harness's JWS reader.

use serde_json::Value;

use super::config::RegisteredClient;
use super::state::App;
use crate::defect::Defect;
use crate::jose::unb64;
use crate::params::Params;

/// The claims of a request object that are the JWT's own, not request parameters.
const JWT_CLAIMS: &[&str] = &["iss", "aud", "exp", "nbf", "iat", "jti"];

/// The longest a request object may live, from `nbf` to `exp` (FAPI 2.0 Message Signing).
const MAX_LIFETIME_SECONDS: i64 = 60 * 60;

/// Why a request object was refused: its `error_description` (the error is
/// `invalid_request_object`, RFC 9101 §6.2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct Refused(String);

fn refused(why: impl Into<String>) -> Refused {
    Refused(why.into())
}

/// The claims the server reads itself; the rest are the request's parameters.
#[derive(serde::Deserialize)]
struct Lifetime {
    exp: Option<i64>,
    nbf: Option<i64>,
    iat: Option<i64>,
}

/// The authorization request the request object in `outer` (`request`) stands for, sent by
/// `client`: verified with its key, its `client_id` the one beside it (§6.3), no `request` or
/// `request_uri` inside (§4), its lifetime within sixty minutes. Only the object's parameters
/// are used (§6.3).
pub(super) fn unpack(
    app: &App,
    client: &RegisteredClient,
    outer: &Params,
) -> Result<Params, Refused> {
    let token = outer.get("request").unwrap_or("");
    let claims = verified_claims(app, client, token)?;
    let Value::Object(claims) = claims else {
        return Err(refused("the request object's claims are not a JSON object"));
    };
    let named = claims.get("client_id").and_then(Value::as_str);
    if named != Some(client.client_id.as_str()) && !app.has(Defect::RequestObjectClientIdUnchecked)
    {
        return Err(refused(
            "the request object's client_id differs from the client_id of the request",
        ));
    }
    if (claims.contains_key("request") || claims.contains_key("request_uri"))
        && !app.has(Defect::ParObjectRequestUriAccepted)
    {
        return Err(refused(
            "a request object must not contain request or request_uri",
        ));
    }
    let lifetime: Lifetime = serde_json::from_value(Value::Object(claims.clone()))
        .map_err(|_| refused("exp, nbf and iat must be numbers"))?;
    // FAPI 2.0 Message Signing requires nbf and exp; a server that only checks what is there
    // (`request-object-lifetime-optional`) starts the lifetime at iat and lets it run on.
    let optional = app.has(Defect::RequestObjectLifetimeOptional);
    let start = if optional {
        lifetime.nbf.or(lifetime.iat)
    } else {
        lifetime.nbf
    };
    if !app.has(Defect::RequestObjectLifetimeUnchecked) {
        match (start, lifetime.exp) {
            (Some(start), Some(exp)) if exp - start <= MAX_LIFETIME_SECONDS => {}
            (Some(_), None) if optional => {}
            (None, _) => return Err(refused("the request object has no nbf")),
            (_, None) => return Err(refused("the request object has no exp")),
            _ => {
                return Err(refused(
                    "the request object lives longer than 60 minutes from its nbf",
                ));
            }
        }
    }
    let mut params = Params::new();
    for (name, value) in &claims {
        if JWT_CLAIMS.contains(&name.as_str()) {
            continue;
        }
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        params.push(name, text);
    }
    // The client is the one beside the object, whose key verified it (a server that does not
    // compare the two, `request-object-client-id-unchecked`, serves that client).
    params.set("client_id", &client.client_id);
    if app.has(Defect::RequestObjectOutsideParamsUsed) {
        // The parameters beside the object win: the front channel changes what the client
        // signed.
        for (name, value) in outer.iter().filter(|(n, _)| *n != "request") {
            params.set(name, value);
        }
    }
    Ok(params)
}

/// OpenID Connect Core §6.1 lets a server take unsigned request objects (`alg: none`). This
/// one does where none of its clients has a key to sign one with (the client-secret set-up),
/// and its metadata says so; where they can sign (assertion clients, FAPI 2.0) it takes
/// signed ones only, as RFC 9101 §10.2 advises.
pub(super) fn takes_unsigned(app: &App) -> bool {
    !app.require_par
        && app
            .clients
            .iter()
            .all(|c| matches!(super::oidc::client_key(app, c), Ok(None)))
}

/// The object's claims, once its signature, audience and expiry are checked (§6.2) as far as
/// the switched-on defects let them be.
fn verified_claims(app: &App, client: &RegisteredClient, token: &str) -> Result<Value, Refused> {
    let part = |n: usize| {
        token
            .split('.')
            .nth(n)
            .and_then(unb64)
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    };
    let unsigned = part(0).is_some_and(|h| h.get("alg").and_then(Value::as_str) == Some("none"));
    if unsigned {
        if app.has(Defect::RequestObjectUnsignedAccepted)
            || (takes_unsigned(app) && !app.has(Defect::UnsignedRequestObjectRefused))
        {
            return part(1).ok_or_else(|| refused("the request object's claims do not parse"));
        }
        return Err(refused(
            "unsigned request objects (alg none) are not accepted",
        ));
    }
    let (key, algs) = super::oidc::client_key(app, client)
        .map_err(refused)?
        .ok_or_else(|| refused("this client has no key registered to sign request objects with"))?;
    let mut v = super::oidc::validation(&algs);
    v.leeway = super::oidc::leeway(app);
    v.validate_nbf = true;
    v.set_required_spec_claims(if app.has(Defect::RequestObjectLifetimeOptional) {
        &["aud"][..]
    } else {
        &["exp", "aud"][..]
    });
    v.set_issuer(&[&client.client_id]);
    // RFC 9101 §4: the audience is this server, by its issuer identifier (alone, or one of an
    // array: RFC 7519 §4.1.3).
    v.set_audience(std::slice::from_ref(&app.issuer));
    if app.has(Defect::RequestObjectAudienceArrayRefused)
        && part(1).is_some_and(|c| c.get("aud").is_some_and(Value::is_array))
    {
        return Err(refused("the request object's aud must be a string"));
    }
    super::oidc::unchecked(
        &mut v,
        app.has(Defect::RequestObjectExpiryUnchecked),
        app.has(Defect::RequestObjectAudienceUnchecked),
        app.has(Defect::RequestObjectSignatureUnchecked),
    );
    crate::jose::backend::install();
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .map(|data| data.claims)
        .map_err(|e| refused(format!("request object rejected: {e}")))
}
