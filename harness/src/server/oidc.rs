//! OpenID Connect at the reference server: ID Tokens signed with the server's own ES256 key, the
//! JWK Set that publishes it, and client assertions (RFC 7523, OpenID Connect Core §9) for
//! `private_key_jwt` and `client_secret_jwt` clients.
//!
//! Assertions are checked with jsonwebtoken's `decode` and a `Validation`, not with the
//! harness's JWS reader: the server must not share the harness's understanding of the protocol.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use super::config::{IdTokenAlg, RegisteredClient};
use super::pages::{fresh, invalid_client, json as json_response, oauth_error};
use super::state::{App, Expiring, Registration, Store};
use crate::defect::Defect;
use crate::jose::{half_hash, unb64};
use crate::target::AuthMethod;

/// RFC 7521 §4.2.
pub(super) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an ID Token is valid.
const ID_TOKEN_SECONDS: u64 = 300;

/// The user's subject identifier for `client_id` (OpenID Connect Core §8): the account's own
/// name, or for a client registered as pairwise SHA-256 of its sector, the account and a salt
/// (§8.1). The salt is the issuer, since this server keeps nothing between starts; a real one
/// keeps a secret salt, so nobody can work the account out from the subject.
pub(super) fn subject(app: &App, registered: &Expiring<Registration>, client_id: &str) -> String {
    let sector = registered
        .get(client_id)
        .and_then(|r| r.client.pairwise_sector.clone());
    match sector {
        None => super::USERNAME.to_owned(),
        Some(sector) => {
            use base64::Engine;
            use sha2::Digest;
            let digest = sha2::Sha256::digest(format!("{sector}{}{}", super::USERNAME, app.issuer));
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
        }
    }
}

/// `GET /jwks`: the public keys ID Tokens are signed with.
pub(super) async fn jwks(State(app): State<Arc<App>>) -> Response {
    let rsa = if app.has(Defect::JwksPrivateKeyPublished) {
        serde_json::from_str(super::state::ID_TOKEN_RSA_KEY).ok()
    } else {
        app.keys.id_token_rsa.public_jwk()
    };
    let mut keys: Vec<Value> = app
        .keys
        .id_token
        .public_jwk()
        .into_iter()
        .chain(rsa)
        .collect();
    if app.has(Defect::IdTokenWeakKey) {
        keys.push(super::weak_key::jwk());
    }
    json_response(&app, StatusCode::OK, &json!({ "keys": keys }), &[])
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What an ID Token is made from.
pub(super) struct Grant<'a> {
    pub client_id: &'a str,
    pub nonce: Option<&'a str>,
    /// When the user signed in (seconds since the epoch).
    pub auth_time: Option<u64>,
    /// The access token issued with it, if any (`at_hash`); a hybrid front-channel response
    /// has none.
    pub access_token: Option<&'a str>,
    /// The code it was issued for (`c_hash`); none for one a refresh gives (OpenID Connect
    /// Core §12.2).
    pub code: Option<&'a str>,
}

/// An ID Token for the test user (OpenID Connect Core §2, §3.1.3.6), with `at_hash` and
/// `c_hash`, or as broken as the switched-on defects make it.
pub(super) fn id_token(app: &App, store: &Store, g: &Grant<'_>) -> Result<String, Response> {
    let now = now();
    let (iat, exp) = if app.has(Defect::IdTokenExpired) {
        (now - 2 * ID_TOKEN_SECONDS, now - ID_TOKEN_SECONDS)
    } else {
        (now, now + ID_TOKEN_SECONDS)
    };
    let iss = if app.has(Defect::IdTokenWrongIssuer) {
        format!("{}/", app.issuer)
    } else {
        app.issuer.clone()
    };
    // The audience of a resource server instead of the client: ID Tokens replayable elsewhere.
    let aud = if app.has(Defect::IdTokenWrongAudience) {
        app.issuer.clone()
    } else {
        g.client_id.to_owned()
    };
    let refreshed = g.code.is_none();
    let sub = if app.has(Defect::SubUnstable) {
        fresh()?
    } else if refreshed && app.has(Defect::RefreshIdTokenOtherSubject) {
        "bob".to_owned()
    } else {
        subject(app, &store.registered, g.client_id)
    };
    let nonce = if app.has(Defect::NonceNotEchoed) {
        None
    } else if app.has(Defect::NonceReplaced) {
        Some(fresh()?)
    } else if app.has(Defect::NonceNotBound) {
        store.last_nonce.clone()
    } else if app.has(Defect::NonceTruncated) {
        g.nonce.map(|n| n.chars().take(255).collect())
    } else {
        g.nonce.map(str::to_owned)
    };
    // OpenID Connect Core §2: auth_time is when the user signed in; the defect takes the
    // ID Token's own issue time, which tells a client nothing about the login.
    let auth_time = if app.has(Defect::AuthTimeIsIssueTime) {
        Some(iat)
    } else {
        g.auth_time
    };
    let key = id_token_key(app, &store.registered, g.client_id);
    let at_hash = g.access_token.map(|at| {
        if app.has(Defect::AtHashWrong) {
            half_hash(key.alg(), g.code.unwrap_or_default())
        } else {
            half_hash(key.alg(), at)
        }
    });
    let c_hash = g.code.map(|code| {
        if app.has(Defect::CHashWrong) {
            half_hash(key.alg(), g.access_token.unwrap_or_default())
        } else {
            half_hash(key.alg(), code)
        }
    });
    let mut claims = json!({
        "iss": iss, "sub": sub, "aud": aud, "exp": exp, "iat": iat,
    });
    if let (Some(h), Some(o)) = (c_hash, claims.as_object_mut()) {
        o.insert("c_hash".into(), json!(h));
    }
    if let Some(o) = claims.as_object_mut() {
        if app.has(Defect::IdTokenAzpWrong) {
            o.insert("azp".into(), json!("another-client"));
        }
        if app.has(Defect::IdTokenAudiencesWithoutAzp) {
            o.insert("aud".into(), json!([aud, "https://api.example"]));
        }
    }
    if let (Some(h), Some(o)) = (at_hash, claims.as_object_mut()) {
        o.insert("at_hash".into(), json!(h));
    }
    if let (Some(t), Some(o)) = (auth_time, claims.as_object_mut()) {
        o.insert("auth_time".into(), json!(t));
    }
    if let (Some(n), Some(o)) = (nonce, claims.as_object_mut()) {
        o.insert("nonce".into(), json!(n));
    }
    if app.has(Defect::IdTokenUnsigned) {
        return Ok(crate::jose::jws::unsigned(&claims));
    }
    if app.has(Defect::IdTokenWeakKey) {
        return Ok(super::weak_key::sign(&claims));
    }
    let signed = if app.has(Defect::IdTokenForeignKey) {
        let mut header = serde_json::Map::new();
        if let Some(kid) = key.kid() {
            header.insert("kid".into(), json!(kid));
        }
        app.keys.stranger.sign(&claims, &header)
    } else if app.has(Defect::IdTokenEmbeddedKey) {
        let mut header = serde_json::Map::new();
        if let Some(jwk) = key.public_jwk() {
            header.insert("jwk".into(), jwk);
        }
        key.sign(&claims, &header)
    } else {
        key.sign(&claims, &serde_json::Map::new())
    };
    signed.map_err(|e| super::pages::server_error(&e.to_string()))
}

/// The claims an assertion must carry; others are ignored.
#[derive(serde::Deserialize)]
struct AssertionClaims {
    /// Absent only where the server takes an assertion without one (a defect).
    sub: Option<String>,
    /// When the client made it; RFC 7523 leaves it optional.
    iat: Option<u64>,
    jti: Option<String>,
}

/// The oldest client assertion taken, in seconds since its `iat`.
const MAX_ASSERTION_AGE: u64 = 3600;

/// RFC 7523 §3 and OpenID Connect Core §9: who sent `assertion`, if it proves it.
/// `client_id`, when the request also named one, must be the assertion's subject.
pub(super) fn authenticate_assertion(
    app: &App,
    assertion_type: Option<&str>,
    assertion: &str,
    client_id: Option<&str>,
) -> Result<RegisteredClient, Response> {
    let refuse = |why: &str| invalid_client(app, false, why);
    if assertion_type != Some(JWT_BEARER) {
        return Err(oauth_error(
            app,
            "invalid_request",
            "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ));
    }
    // The client is named by the unverified `sub` only to find its key; nothing else is read
    // before the signature is checked.
    let peek = assertion
        .split('.')
        .nth(1)
        .and_then(unb64)
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let named = peek
        .as_ref()
        .and_then(|c| c.get("sub"))
        .and_then(Value::as_str)
        .or(client_id)
        .ok_or_else(|| refuse("the client assertion names no client"))?;
    let client = app.client(named).ok_or_else(|| refuse("unknown client"))?;
    if client_id.is_some_and(|id| id != client.client_id) {
        return Err(refuse("client_id differs from the assertion's subject"));
    }
    let (key, algs) = match client_key(app, &client) {
        Ok(Some(key)) => key,
        Ok(None) => return Err(refuse("this client does not authenticate with assertions")),
        Err(why) => return Err(super::pages::server_error(why)),
    };
    let unsigned = assertion
        .split('.')
        .next()
        .and_then(unb64)
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .is_some_and(|h| h.get("alg").and_then(Value::as_str) == Some("none"));
    let claims: AssertionClaims = if unsigned && app.has(Defect::JwtAlgNoneAccepted) {
        peek.and_then(|c| serde_json::from_value(c).ok())
            .ok_or_else(|| refuse("the assertion's claims do not parse"))?
    } else {
        let mut v = validation(&algs);
        v.leeway = leeway(app);
        let subject_unchecked = app.has(Defect::JwtSubjectUnchecked);
        v.set_required_spec_claims(if subject_unchecked {
            &["exp", "aud", "iss"][..]
        } else {
            &["exp", "aud", "iss", "sub"][..]
        });
        if app.has(Defect::JwtIssuerUnchecked) {
            v.required_spec_claims.remove("iss");
        } else {
            v.set_issuer(&[&client.client_id]);
        }
        // RFC 7523 §3 item 5: not before nbf (jsonwebtoken checks it only when asked).
        v.validate_nbf = !app.has(Defect::JwtNbfUnchecked);
        v.sub = (!subject_unchecked).then(|| client.client_id.clone());
        // RFC 7523 §3 item 3: the token endpoint URL or the issuer identifies this server;
        // FAPI 2.0 (final) takes the issuer alone, as a string, against audience injection.
        // RFC 9126 §2 adds the PAR endpoint URL (a server that forgot it:
        // `par-endpoint-audience-refused`).
        if app.require_par && !app.has(Defect::JwtTokenEndpointAudienceAccepted) {
            v.set_audience(std::slice::from_ref(&app.issuer));
            let array = peek
                .as_ref()
                .is_some_and(|c| c.get("aud").is_some_and(Value::is_array));
            if array && !app.has(Defect::JwtAudienceArrayAccepted) {
                return Err(refuse(
                    "the client assertion's aud must be the issuer, as a string",
                ));
            }
        } else if app.has(Defect::ParEndpointAudienceRefused) {
            v.set_audience(&[app.url("/token"), app.issuer.clone()]);
        } else if app.has(Defect::JwtIssuerAudienceRefused) {
            v.set_audience(&[app.url("/token"), app.url("/par")]);
        } else {
            v.set_audience(&[app.url("/token"), app.url("/par"), app.issuer.clone()]);
        }
        unchecked(
            &mut v,
            app.has(Defect::JwtExpiryUnchecked),
            app.has(Defect::JwtAudienceUnchecked),
            app.has(Defect::JwtSignatureUnchecked),
        );
        crate::jose::backend::install();
        jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &v)
            .map_err(|e| refuse(&format!("client assertion rejected: {e}")))?
            .claims
    };
    let subject_is_the_client = match &claims.sub {
        Some(sub) => *sub == client.client_id,
        None => app.has(Defect::JwtSubjectUnchecked),
    };
    if !subject_is_the_client {
        return Err(refuse("the assertion's subject is not the client"));
    }
    // RFC 7523 §3 item 6 lets a server refuse an `iat` "unreasonably far in the past": a
    // client makes an assertion for one request, so one over an hour old was kept, not made.
    if claims
        .iat
        .is_some_and(|iat| iat.saturating_add(MAX_ASSERTION_AGE) < now())
        && !app.has(Defect::JwtIatUnchecked)
    {
        return Err(refuse(
            "the client assertion was issued over an hour ago (iat)",
        ));
    }
    let jti = claims
        .jti
        .ok_or_else(|| refuse("the client assertion has no jti"))?;
    let mut store = app.store();
    let seen = format!("{}\u{0}{jti}", client.client_id);
    if store.assertions.get(&seen).is_some() && !app.has(Defect::JwtReplayAccepted) {
        return Err(refuse("the client assertion was used before (jti)"));
    }
    store.assertions.insert(seen, ());
    Ok(client)
}

/// The key a client's JWTs (assertions, request objects) verify with, and the algorithms it
/// may sign with: its registered JWK for `private_key_jwt` (ES256 for an EC key; PS256 for an
/// RSA key, and RS256 too except in the FAPI 2.0 set-up, whose §5.4.1 allows PS256, ES256 and
/// EdDSA only), its secret (HS256) for `client_secret_jwt`; `None` for a client with neither,
/// an error for a registered JWK the server cannot use.
pub(super) fn client_key(
    app: &App,
    client: &RegisteredClient,
) -> Result<Option<(DecodingKey, Vec<Algorithm>)>, &'static str> {
    Ok(match (&client.auth_method, &client.jwk, &client.secret) {
        (AuthMethod::PrivateKeyJwt, Some(jwk), _) => {
            let rsa = jwk.get("kty").and_then(Value::as_str) == Some("RSA");
            let jwk = serde_json::from_value(jwk.clone())
                .map_err(|_| "the registered JWK does not parse")?;
            let key = DecodingKey::from_jwk(&jwk).map_err(|_| "the registered JWK is unusable")?;
            let algs = if !rsa {
                vec![Algorithm::ES256]
            } else if app.require_par && !app.has(Defect::Rs256Accepted) {
                vec![Algorithm::PS256]
            } else {
                vec![Algorithm::PS256, Algorithm::RS256]
            };
            Some((key, algs))
        }
        (AuthMethod::ClientSecretJwt, _, Some(secret)) => Some((
            DecodingKey::from_secret(secret.expose().as_bytes()),
            vec![Algorithm::HS256],
        )),
        _ => None,
    })
}

/// A validation of a client's JWT signed with one of `algs` (never empty: [`client_key`]).
pub(super) fn validation(algs: &[Algorithm]) -> Validation {
    let mut v = Validation::new(algs.first().copied().unwrap_or(Algorithm::ES256));
    v.algorithms = algs.to_vec();
    v
}

/// What a defect leaves unchecked of a client's JWT: its expiry, its audience, its signature
/// (alone: jsonwebtoken's `dangerous::insecure_decode` would skip the claim checks too).
pub(super) fn unchecked(v: &mut Validation, expiry: bool, audience: bool, signature: bool) {
    if expiry {
        v.validate_exp = false;
        v.required_spec_claims.remove("exp");
    }
    if audience {
        v.validate_aud = false;
    }
    if signature {
        #[allow(deprecated)]
        v.insecure_disable_signature_validation();
    }
}

/// The ID Token signing algorithms the metadata lists.
pub(super) fn id_token_algs(app: &App) -> Vec<&'static str> {
    if app.has(Defect::IdTokenWeakKey) {
        return vec!["RS256"];
    }
    if offers_rs256(app) && !app.has(Defect::MetadataWithoutRs256) {
        vec!["ES256", "RS256"]
    } else {
        vec!["ES256"]
    }
}

/// Whether a client may have RS256 ID Tokens: everywhere but in the FAPI 2.0 set-up, whose
/// §5.4.1 allows PS256, ES256 and EdDSA only.
pub(super) fn offers_rs256(app: &App) -> bool {
    !app.require_par
}

/// The key `client_id`'s ID Tokens are signed with: the one of the alg it registered.
fn id_token_key<'a>(
    app: &'a App,
    registered: &Expiring<Registration>,
    client_id: &str,
) -> &'a crate::jose::SigningKey {
    let alg = registered
        .get(client_id)
        .map_or(IdTokenAlg::Es256, |r| r.client.id_token_alg);
    match alg {
        IdTokenAlg::Rs256 if !app.has(Defect::RegisteredIdTokenAlgIgnored) => {
            &app.keys.id_token_rsa
        }
        _ => &app.keys.id_token,
    }
}

/// The seconds a JWT's `exp` may have passed, and its `nbf` may lie ahead, by this server's
/// clock: FAPI 2.0 §5.3.2.1 makes a server take `iat` and `nbf` up to ten seconds ahead (none
/// with the defect `no-clock-leeway`).
pub(super) fn leeway(app: &App) -> u64 {
    if app.has(Defect::NoClockLeeway) {
        0
    } else {
        10
    }
}
