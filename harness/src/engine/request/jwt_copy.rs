//! Copies of a JWT access token a resource must refuse (RFC 9068 §4, RFC 8725 §3.1): its
//! claims under `alg: none` (also spelled `nOnE`), or signed by a key nobody registered under
//! the original `kid`. Pure: the step sends them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::jose::{Algorithm, Jws, SigningKey};
use crate::outcome::Fault;
use crate::scenario::model::Presented;

/// The copy of `token` that `how` presents (the token itself where `how` is no copy), or
/// `None` where `token` is no JWT (an opaque token has no claims to copy).
pub fn jwt_copy(token: &str, how: Presented) -> Result<Option<String>, Fault> {
    if !how.is_copy() {
        return Ok(Some(token.to_owned()));
    }
    let Ok(jws) = Jws::parse(token) else {
        return Ok(None);
    };
    let payload = token.split('.').nth(1).unwrap_or_default();
    let unsigned = |alg: &str| {
        let mut header = jws.header.clone();
        header.insert("alg".into(), Value::from(alg));
        format!(
            "{}.{payload}.",
            URL_SAFE_NO_PAD.encode(Value::Object(header).to_string())
        )
    };
    Ok(Some(match how {
        Presented::AlgNoneCopy => unsigned("none"),
        Presented::AlgNoneCasedCopy => unsigned("nOnE"),
        _ => {
            let (key, _) = SigningKey::generate(Algorithm::ES256)
                .map_err(|e| Fault::harness(format!("no key to forge with: {e}")))?;
            let mut extra = Map::new();
            for name in ["kid", "typ"] {
                if let Some(v) = jws.header.get(name) {
                    extra.insert(name.into(), v.clone());
                }
            }
            key.sign(&Value::Object(jws.claims.clone()), &extra)
                .map_err(|e| Fault::harness(format!("forging the copy: {e}")))?
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_keep_the_claims_and_lose_the_signature() {
        let (key, _) = SigningKey::generate(Algorithm::ES256).expect("key");
        let token = key
            .sign(&serde_json::json!({"sub": "alice", "exp": 9}), &Map::new())
            .expect("signed");
        assert_eq!(
            jwt_copy("opaque-token", Presented::AlgNoneCopy).expect("ok"),
            None
        );
        assert_eq!(
            jwt_copy("opaque-token", Presented::Header).expect("ok"),
            Some("opaque-token".into()),
            "no copy: the token itself"
        );
        for how in [Presented::AlgNoneCopy, Presented::AlgNoneCasedCopy] {
            let copy = jwt_copy(&token, how).expect("ok").expect("a JWT");
            assert!(copy.ends_with('.'), "no signature: {copy}");
            let parsed = Jws::parse(&copy).expect("parses");
            assert_eq!(parsed.claims.get("sub"), Some(&Value::from("alice")));
            assert!(
                parsed.header["alg"]
                    .as_str()
                    .is_some_and(|a| a.eq_ignore_ascii_case("none"))
            );
        }
        let forged = jwt_copy(&token, Presented::ForgedSignatureCopy)
            .expect("ok")
            .expect("a JWT");
        let parsed = Jws::parse(&forged).expect("parses");
        assert_eq!(parsed.kid(), key.kid(), "the original kid");
        let jwks = serde_json::json!({"keys": [key.public_jwk().expect("public")]});
        assert!(parsed.verify(&jwks, b"").is_err(), "not the original key");
    }
}
