//! JWT-secured authorization responses (JARM §2.4): what a client checks before it takes the
//! code or the error out of the `response` JWT. Signatures are verified by [`crate::jose`]
//! against the server's JWK Set (or, for an HMAC algorithm, the client secret, §2.2).

use serde_json::Value;

use crate::callback::AuthorizationResponse;
use crate::jose::{Jws, JwsError};
use crate::outcome::Unmet;

/// What a JARM response is judged against.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The issuer, exactly as configured.
    pub issuer: &'a str,
    /// The client the response is for.
    pub client_id: &'a str,
    /// Its secret, for an HMAC-signed response (empty for a public client).
    pub secret: &'a [u8],
    /// The server's JWK Set, if fetched (an HMAC-signed response needs none).
    pub jwks: Option<&'a Value>,
    /// Seconds since the epoch, now.
    pub now: u64,
    /// Allowed clock difference, in seconds.
    pub skew: u64,
}

fn unmet(check: &str, expected: impl Into<String>, got: impl Into<String>) -> Result<(), Unmet> {
    Err(Unmet::Jarm {
        check: check.to_owned(),
        expected: expected.into(),
        got: got.into(),
    })
}

fn shown(v: Option<&Value>) -> String {
    v.map_or_else(|| "none".to_owned(), Value::to_string)
}

/// Whether verifying `r` needs the server's JWK Set: a JARM response signed with an
/// asymmetric algorithm (an unsigned or unreadable one fails before any key is needed).
pub fn needs_jwks(r: &AuthorizationResponse) -> bool {
    r.jarm
        .as_ref()
        .and_then(|j| Jws::parse(j.token.expose()).ok())
        .and_then(|jws| jws.alg().ok())
        .is_some_and(|alg| !alg_is_hmac(alg))
}

fn alg_is_hmac(alg: crate::jose::Algorithm) -> bool {
    use crate::jose::Algorithm::{HS256, HS384, HS512};
    matches!(alg, HS256 | HS384 | HS512)
}

/// The response is a JARM response, signed by the server (never `alg: none`), made out by the
/// issuer (`iss`) to this client (`aud`), and not expired (`exp`, within the skew).
pub fn jarm(e: &Expected<'_>, r: &AuthorizationResponse) -> Result<(), Unmet> {
    let Some(j) = &r.jarm else {
        return unmet(
            "present",
            "a JWT in the response parameter (the request asked for a JWT response mode)",
            "plain response parameters",
        );
    };
    // The callback parser read it already; a token it could not read never gets here.
    let Ok(jws) = Jws::parse(j.token.expose()) else {
        return unmet("format", "a compact JWS", "an unreadable JWT");
    };
    let jwks = e.jwks.cloned().unwrap_or(Value::Null);
    match jws.verify(&jwks, e.secret) {
        Ok(_) => {}
        Err(JwsError::Unsigned(alg)) => {
            return unmet(
                "signature",
                "a signed response (never alg none)",
                format!("alg {alg:?}, no signature"),
            );
        }
        Err(err) => {
            return unmet(
                "signature",
                "a signature by a key of the server's JWK Set",
                err.to_string(),
            );
        }
    }
    let iss = jws.claims.get("iss");
    if iss.and_then(Value::as_str) != Some(e.issuer) {
        return unmet("iss", format!("{:?}", e.issuer), shown(iss));
    }
    if !jws.audiences().contains(&e.client_id) {
        return unmet(
            "aud",
            format!("an audience containing {:?}", e.client_id),
            shown(jws.claims.get("aud")),
        );
    }
    match jws.claims.get("exp").and_then(Value::as_f64) {
        None => unmet("exp", "a numeric exp claim", shown(jws.claims.get("exp"))),
        Some(exp) if exp + (e.skew as f64) <= e.now as f64 => unmet(
            "exp",
            format!("a time after now (within {} s)", e.skew),
            format!("{:.0} s ago", e.now as f64 - exp),
        ),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callback::parse_location;
    use crate::jose::{Algorithm, SigningKey};
    use serde_json::json;

    const NOW: u64 = 1_900_000_000;

    fn response(jwt: &str) -> AuthorizationResponse {
        let base = url::Url::parse("https://as.example/authorize").expect("static URL");
        parse_location(&base, &format!("https://c.example/cb?response={jwt}")).expect("parses")
    }

    fn claims() -> Value {
        json!({"iss": "https://as.example", "aud": "rp", "exp": NOW + 60, "code": "abc", "state": "s"})
    }

    fn judge(jwt: &str, jwks: &Value) -> Result<(), Unmet> {
        let e = Expected {
            issuer: "https://as.example",
            client_id: "rp",
            secret: b"",
            jwks: Some(jwks),
            now: NOW,
            skew: 30,
        };
        jarm(&e, &response(jwt))
    }

    fn check_of(r: Result<(), Unmet>) -> String {
        match r {
            Err(Unmet::Jarm { check, .. }) => check,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn a_correct_response_passes_and_each_flaw_is_named() {
        let (key, _) = SigningKey::generate(Algorithm::ES256).expect("key");
        let jwks = json!({"keys": [key.public_jwk().expect("public")]});
        let sign = |c: &Value| key.sign(c, &serde_json::Map::new()).expect("signs");
        let signed = sign(&claims());
        assert!(needs_jwks(&response(&signed)));
        assert_eq!(judge(&signed, &jwks), Ok(()));
        let flawed = |f: &dyn Fn(&mut Value)| {
            let mut c = claims();
            f(&mut c);
            sign(&c)
        };
        assert_eq!(
            check_of(judge(&crate::jose::jws::unsigned(&claims()), &jwks)),
            "signature"
        );
        let (other, _) = SigningKey::generate(Algorithm::ES256).expect("key");
        let foreign = other
            .sign(&claims(), &serde_json::Map::new())
            .expect("signs");
        assert_eq!(check_of(judge(&foreign, &jwks)), "signature");
        assert_eq!(
            check_of(judge(
                &flawed(&|c| c["iss"] = json!("https://evil.example")),
                &jwks
            )),
            "iss"
        );
        assert_eq!(
            check_of(judge(
                &flawed(&|c| c["aud"] = json!("https://as.example")),
                &jwks
            )),
            "aud"
        );
        assert_eq!(
            judge(&flawed(&|c| c["aud"] = json!(["x", "rp"])), &jwks),
            Ok(())
        );
        assert_eq!(
            check_of(judge(&flawed(&|c| c["exp"] = json!(NOW - 31)), &jwks)),
            "exp"
        );
        assert_eq!(
            check_of(judge(
                &flawed(&|c| {
                    c.as_object_mut().map(|o| o.remove("exp"));
                }),
                &jwks
            )),
            "exp"
        );
    }

    #[test]
    fn a_plain_response_is_not_a_jarm_response() {
        let base = url::Url::parse("https://as.example/authorize").expect("static URL");
        let plain = parse_location(&base, "https://c.example/cb?code=abc&state=s").expect("parses");
        let e = Expected {
            issuer: "https://as.example",
            client_id: "rp",
            secret: b"",
            jwks: None,
            now: NOW,
            skew: 30,
        };
        assert_eq!(check_of(jarm(&e, &plain)), "present");
        assert!(!needs_jwks(&plain));
    }
}
