//! DPoP at the reference server (RFC 9449): proofs checked at the token endpoint and at the
//! resource, codes bound to `dpop_jkt`, tokens bound to the proof's key, and (in the FAPI 2.0
//! set-up) a server nonce (§8) every token request must carry. Proof signatures are verified
//! with jsonwebtoken's own primitive, not the harness's JWS reader.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use super::pages::json;
use super::state::App;
use crate::defect::Defect;
use crate::jose::{b64, unb64};

/// How far `iat` may be from now (§11.1 leaves the window to the server).
const IAT_WINDOW: u64 = 60;

/// The window of a server with no leeway for clocks (`no-clock-leeway`): nothing ahead, five
/// seconds behind.
const STRICT_WINDOW: (u64, u64) = (5, 0);

/// Why a request's proof is not accepted.
pub(super) enum Refusal {
    /// No proof, or not a valid one: `invalid_dpop_proof` (§7.1 `invalid_token` at a resource).
    Invalid(&'static str),
    /// A valid proof without this server's nonce: `use_dpop_nonce` with a `DPoP-Nonce` (§8).
    UseNonce,
}

/// The key a valid proof was made with: its RFC 7638 thumbprint (`jkt`).
pub(super) struct Proof {
    pub jkt: String,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// RFC 7638 thumbprint of a public JWK, from its required members.
pub(super) fn thumbprint(jwk: &Value) -> Option<String> {
    let s = |m: &str| jwk.get(m).and_then(Value::as_str);
    let canonical = match s("kty")? {
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            s("crv")?,
            s("x")?,
            s("y")?
        ),
        "OKP" => format!(r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#, s("crv")?, s("x")?),
        "RSA" => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, s("e")?, s("n")?),
        _ => return None,
    };
    Some(b64(ring::digest::digest(
        &ring::digest::SHA256,
        canonical.as_bytes(),
    )))
}

/// §4.3 item 9: `htu` names the request's URI, query and fragment aside, compared after the
/// syntax- and scheme-based normalisation of RFC 3986 §6.2.2 and §6.2.3 (case of scheme and
/// host, the default port), as the section says a server SHOULD. The defect
/// `dpop-htu-exact-match` compares the strings.
fn same_uri(app: &App, htu: Option<&str>, url: &str) -> bool {
    let bare = url.split(['?', '#']).next().unwrap_or(url);
    let Some(htu) = htu else {
        return false;
    };
    if app.has(Defect::DpopHtuExactMatch) {
        return htu == bare;
    }
    let normal = |u: &str| {
        url::Url::parse(u).ok().map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        })
    };
    normal(htu).is_some_and(|h| Some(h) == normal(bare))
}

/// The header parameters a proof may carry (§4.2, RFC 7515 §4.1), for a server that refuses
/// others (`dpop-unknown-members-refused`).
const HEADER_MEMBERS: &[&str] = &["typ", "alg", "jwk", "kid"];

/// The claims a proof may carry (§4.2, §8, and the JWT lifetime claims), for the same server.
const CLAIMS: &[&str] = &["jti", "htm", "htu", "iat", "ath", "nonce", "nbf", "exp"];

/// Whether the JSON object `v` has a member outside `known`.
fn unknown(v: &Value, known: &[&str]) -> bool {
    v.as_object()
        .is_some_and(|o| o.keys().any(|k| !known.contains(&k.as_str())))
}

/// Whether the request's DPoP proof has no `jwk` in its header (a server with
/// `dpop-jwk-optional` takes such a proof at a resource without checking it).
pub(super) fn keyless(headers: &HeaderMap) -> bool {
    headers
        .get("dpop")
        .and_then(|v| v.to_str().ok())
        .and_then(|p| p.split('.').next())
        .and_then(unb64)
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .is_some_and(|h| h.get("jwk").is_none())
}

/// What proofs may be signed with, as the metadata says and the check takes: in the FAPI 2.0
/// set-up, its algorithms (§5.4.1 retired RS256 for every JWT, proofs included).
pub(super) fn algs(app: &App) -> Vec<&'static str> {
    if app.require_par && !app.has(Defect::DpopRs256Accepted) {
        vec!["ES256", "PS256", "EdDSA"]
    } else {
        vec!["ES256", "RS256", "PS256", "EdDSA"]
    }
}

/// Checks the `DPoP` header of a request to `url` with `method`; `access_token` when the request
/// presents one (a resource, §7). `Ok(None)`: no proof was sent. `nonce`: whether this endpoint
/// requires the server's nonce.
pub(super) fn check(
    app: &App,
    headers: &HeaderMap,
    method: &str,
    url: &str,
    access_token: Option<&str>,
    nonce: bool,
) -> Result<Option<Proof>, Refusal> {
    let mut values = headers.get_all("dpop").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() && !app.has(Defect::DpopFirstOfSeveralProofs) {
        return Err(Refusal::Invalid("more than one DPoP header"));
    }
    let proof = value
        .to_str()
        .map_err(|_| Refusal::Invalid("unreadable proof"))?;
    let header = proof
        .split('.')
        .next()
        .and_then(unb64)
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .ok_or(Refusal::Invalid("the proof's header is not JSON"))?;
    // The defect `dpop-claims-optional` checks a member only where the proof has it.
    let optional = app.has(Defect::DpopClaimsOptional);
    let typ = header.get("typ").and_then(Value::as_str);
    if typ != Some("dpop+jwt") && !app.has(Defect::DpopTypUnchecked) && !(optional && typ.is_none())
    {
        return Err(Refusal::Invalid("typ is not dpop+jwt"));
    }
    let unchecked = app.has(Defect::DpopSignatureUnchecked);
    let alg = match header.get("alg").and_then(Value::as_str) {
        Some("ES256") => Algorithm::ES256,
        Some("RS256") if algs(app).contains(&"RS256") => Algorithm::RS256,
        Some("PS256") => Algorithm::PS256,
        Some("EdDSA") => Algorithm::EdDSA,
        // The defect reads an unsigned proof, or one without alg, as if it were signed.
        None | Some("none") if unchecked => Algorithm::ES256,
        _ => {
            return Err(Refusal::Invalid(
                "alg is not an asymmetric algorithm this server takes",
            ));
        }
    };
    let jwk_value = header
        .get("jwk")
        .filter(|j| j.get("d").is_none() || app.has(Defect::DpopPrivateKeyAccepted))
        .ok_or(Refusal::Invalid("no public jwk in the header"))?;
    let jwk = serde_json::from_value(jwk_value.clone())
        .map_err(|_| Refusal::Invalid("the jwk does not parse"))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| Refusal::Invalid("the jwk is unusable"))?;
    let parts: Vec<&str> = proof.split('.').collect();
    let claims = parts
        .get(1)
        .and_then(|c| unb64(c))
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .filter(Value::is_object)
        .ok_or(Refusal::Invalid("the proof's claims are not a JSON object"))?;
    if !unchecked {
        // §4.3 item 2: a JWS in compact form, three parts. The signature is checked over the
        // header and claims as sent with jsonwebtoken's primitive, not its `decode`: that one
        // reads the header into a struct whose unknown members must be strings, and so refuses
        // a proof with a numeric header parameter it should ignore (RFC 7515 §4).
        let [head, body, signature] = parts[..] else {
            return Err(Refusal::Invalid("the proof is not a JWS in compact form"));
        };
        crate::jose::backend::install();
        let signed = format!("{head}.{body}");
        if !jsonwebtoken::crypto::verify(signature, signed.as_bytes(), &key, alg).unwrap_or(false) {
            return Err(Refusal::Invalid("the proof's signature does not verify"));
        }
    }
    if app.has(Defect::DpopUnknownMembersRefused)
        && (unknown(&header, HEADER_MEMBERS) || unknown(&claims, CLAIMS))
    {
        return Err(Refusal::Invalid(
            "the proof has members this server does not know",
        ));
    }
    let claim = |name: &str| claims.get(name).and_then(Value::as_str);
    let absent = |name: &str| optional && claims.get(name).is_none();
    let jti = match claim("jti") {
        Some(jti) => jti,
        None if optional => "",
        None => return Err(Refusal::Invalid("no jti")),
    };
    if !app.has(Defect::DpopHtmHtuUnchecked) {
        if claim("htm") != Some(method) && !absent("htm") {
            return Err(Refusal::Invalid("htm is not this request's method"));
        }
        if !same_uri(app, claim("htu"), url) && !absent("htu") {
            return Err(Refusal::Invalid("htu is not this request's URL"));
        }
    }
    if !app.has(Defect::DpopIatUnchecked) && !absent("iat") {
        let iat = claims
            .get("iat")
            .and_then(Value::as_u64)
            .ok_or(Refusal::Invalid("no iat"))?;
        let now = now();
        let (behind, ahead) = if app.has(Defect::NoClockLeeway) {
            STRICT_WINDOW
        } else {
            (IAT_WINDOW, IAT_WINDOW)
        };
        if iat > now + ahead || iat + behind < now {
            return Err(Refusal::Invalid("iat is too far from now"));
        }
    }
    if app.has(Defect::DpopNbfExpRefused)
        && (claims.get("nbf").is_some() || claims.get("exp").is_some())
    {
        return Err(Refusal::Invalid("nbf and exp are not DPoP proof claims"));
    }
    if let Some(at) = access_token
        && claim("ath") != Some(crate::jose::dpop::ath(at).as_str())
        && !absent("ath")
        && !(app.has(Defect::DpopAthUnchecked) && claim("ath").is_some())
    {
        return Err(Refusal::Invalid("ath is not the access token's hash"));
    }
    if nonce {
        match claim("nonce") {
            None => return Err(Refusal::UseNonce),
            Some(n) if n != app.dpop_nonce && !app.has(Defect::DpopNonceUnchecked) => {
                return Err(Refusal::UseNonce);
            }
            Some(_) => {}
        }
    }
    let jkt = thumbprint(jwk_value).ok_or(Refusal::Invalid("the jwk has no thumbprint"))?;
    let seen = format!("{jkt}\u{0}{jti}");
    let mut store = app.store();
    if store.dpop_proofs.get(&seen).is_some() && !app.has(Defect::DpopProofReplay) {
        return Err(Refusal::Invalid("the proof was used before (jti)"));
    }
    store.dpop_proofs.insert(seen, ());
    Ok(Some(Proof { jkt }))
}

/// The token endpoint's answer to a refused proof (§5.2, §8).
pub(super) fn token_refusal(app: &App, refusal: &Refusal) -> Response {
    match refusal {
        Refusal::Invalid(why) => super::pages::oauth_error(app, "invalid_dpop_proof", why),
        Refusal::UseNonce => {
            let mut r = json(
                app,
                StatusCode::BAD_REQUEST,
                &serde_json::json!({"error": "use_dpop_nonce", "error_description": "use the DPoP-Nonce this response gives"}),
                &[],
            );
            if let Ok(v) = HeaderValue::from_str(&app.dpop_nonce) {
                r.headers_mut().insert("dpop-nonce", v);
            }
            r
        }
    }
}
