//! DPoP proofs (RFC 9449 §4): a JWS of type `dpop+jwt` whose header carries the public key, over
//! the request's method and URL, a fresh `jti`, the time, and, where they apply, the hash of the
//! access token (`ath`) and the server's nonce.

use serde_json::{Map, Value, json};

use super::{KeyError, SigningKey, b64};

/// What a proof asserts about its request.
#[derive(Debug, Clone)]
pub struct ProofClaims<'a> {
    /// `htm`: the HTTP method.
    pub htm: &'a str,
    /// `htu`: the target URI without query and fragment (§4.2).
    pub htu: &'a str,
    /// `iat`, seconds since the epoch.
    pub iat: u64,
    /// `jti`.
    pub jti: &'a str,
    /// The access token the request presents, for `ath` (§4.2, at a resource).
    pub access_token: Option<&'a str>,
    /// The server's `DPoP-Nonce`, when it gave one (§8).
    pub nonce: Option<&'a str>,
}

/// The proof for one request, signed with `key`.
pub fn proof(key: &SigningKey, c: &ProofClaims<'_>) -> Result<String, KeyError> {
    let jwk = key
        .public_members_jwk()
        .ok_or_else(|| KeyError::Unsupported("a DPoP key must be asymmetric".into()))?;
    let mut header = Map::new();
    header.insert("typ".into(), json!("dpop+jwt"));
    header.insert("jwk".into(), jwk);
    let mut claims = json!({ "jti": c.jti, "htm": c.htm, "htu": c.htu, "iat": c.iat });
    if let Some(o) = claims.as_object_mut() {
        if let Some(at) = c.access_token {
            o.insert("ath".into(), Value::String(ath(at)));
        }
        if let Some(n) = c.nonce {
            o.insert("nonce".into(), json!(n));
        }
    }
    key.sign_with_header(&claims, header)
}

/// §4.2 `ath`: base64url of the SHA-256 of the access token's ASCII octets.
pub fn ath(access_token: &str) -> String {
    b64(ring::digest::digest(
        &ring::digest::SHA256,
        access_token.as_bytes(),
    ))
}

/// §4.2: `htu` is the URL without query and fragment.
pub fn htu(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{Algorithm, Jws};

    #[test]
    fn a_proof_carries_its_key_and_verifies_with_it() {
        let (key, _) = SigningKey::generate(Algorithm::ES256).expect("key");
        let p = proof(
            &key,
            &ProofClaims {
                htm: "POST",
                htu: "https://as.example/token",
                iat: 1,
                jti: "j",
                access_token: Some("at"),
                nonce: Some("n"),
            },
        )
        .expect("signs");
        let jws = Jws::parse(&p).expect("compact");
        assert_eq!(jws.header.get("typ"), Some(&json!("dpop+jwt")));
        assert!(jws.header.get("kid").is_none());
        let jwk = jws.header.get("jwk").cloned().expect("jwk");
        assert!(jwk.get("d").is_none(), "the public key only");
        jws.verify(&json!({ "keys": [jwk] }), b"")
            .expect("verifies");
        assert_eq!(jws.claims.get("ath"), Some(&json!(ath("at"))));
        assert_eq!(
            htu(&url::Url::parse("https://a.example/t?x=1#f").expect("url")),
            "https://a.example/t"
        );
    }
}
