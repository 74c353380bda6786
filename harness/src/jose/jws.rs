//! Compact JWS (RFC 7515 §7.1) read as a relying party reads an ID Token: the header and
//! payload decoded, the signature verified against a JWK Set with the key chosen by `kid` and
//! `alg` (OpenID Connect Core §10.1), never `none`.

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::Jwk;
use serde_json::Value;

use super::{Algorithm, alg_name, b64, unb64};

/// Why a JWS cannot be read or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    /// Not three base64url parts.
    #[error("not a compact JWS (three base64url parts separated by dots)")]
    NotCompact,
    /// The header or payload is not a base64url JSON object.
    #[error("its {0} is not a base64url-encoded JSON object")]
    NotJson(&'static str),
    /// `alg: none` or no `alg`: an unsigned token (RFC 7519 §6).
    #[error("it is unsigned (alg {0:?})")]
    Unsigned(String),
    /// An `alg` that is not a JWS signature algorithm the harness knows.
    #[error("alg {0:?} is not a JWS signature algorithm (RFC 7518 §3.1)")]
    UnknownAlg(String),
    /// No key of the set fits the header.
    #[error("no key in the JWK Set fits kid {kid:?} and alg {alg} ({keys} keys published)")]
    NoKey {
        /// The header's `kid`.
        kid: Option<String>,
        /// The header's `alg`.
        alg: &'static str,
        /// How many keys the set holds.
        keys: usize,
    },
    /// A symmetric algorithm where no secret is shared (a public client).
    #[error("alg {0} needs a shared secret, and this client has none")]
    NoSecret(&'static str),
    /// The signature does not verify with any fitting key.
    #[error("the {alg} signature does not verify with the key{}", kid.as_ref().map(|k| format!(" {k:?}")).unwrap_or_default())]
    BadSignature {
        /// The algorithm.
        alg: &'static str,
        /// The key tried last.
        kid: Option<String>,
    },
}

/// A compact JWS, decoded but not yet verified.
#[derive(Debug, Clone)]
pub struct Jws {
    /// The protected header.
    pub header: serde_json::Map<String, Value>,
    /// The payload's claims.
    pub claims: serde_json::Map<String, Value>,
    signing_input: String,
    signature: String,
}

impl Jws {
    /// Splits and decodes `token`; nothing is verified.
    pub fn parse(token: &str) -> Result<Self, JwsError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwsError::NotCompact);
        };
        let object = |part: &str, what: &'static str| {
            unb64(part)
                .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
                .and_then(|v| match v {
                    Value::Object(o) => Some(o),
                    _ => None,
                })
                .ok_or(JwsError::NotJson(what))
        };
        Ok(Self {
            header: object(h, "header")?,
            claims: object(p, "payload")?,
            signing_input: format!("{h}.{p}"),
            signature: s.to_owned(),
        })
    }

    /// The header's `alg`, refusing `none` and unknown names.
    pub fn alg(&self) -> Result<Algorithm, JwsError> {
        let name = self.header.get("alg").and_then(Value::as_str).unwrap_or("");
        if name.is_empty() || name.eq_ignore_ascii_case("none") {
            return Err(JwsError::Unsigned(name.to_owned()));
        }
        name.parse()
            .map_err(|_| JwsError::UnknownAlg(name.to_owned()))
    }

    /// The `aud` claim as a list (RFC 7519 §4.1.3: one string, or an array of them).
    pub fn audiences(&self) -> Vec<&str> {
        match self.claims.get("aud") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// The header's `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// Verifies the signature: an asymmetric `alg` with a key of `jwks` chosen by `kid` (when
    /// the header has one), key type, `use` and `alg`; an HMAC `alg` with `secret` (OpenID
    /// Connect Core §10.1: the client secret's octets). Returns the key's `kid`.
    pub fn verify(&self, jwks: &Value, secret: &[u8]) -> Result<Option<String>, JwsError> {
        let alg = self.alg()?;
        let name = alg_name(alg);
        if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
            if secret.is_empty() {
                return Err(JwsError::NoSecret(name));
            }
            return self
                .check(&DecodingKey::from_secret(secret), alg)
                .then_some(None)
                .ok_or(JwsError::BadSignature {
                    alg: name,
                    kid: None,
                });
        }
        let keys: &[Value] = jwks
            .get("keys")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        let kid = self.kid();
        let mut last = None;
        for jwk in keys.iter().filter(|k| fits(k, alg, kid)) {
            let Some(key) = serde_json::from_value::<Jwk>(jwk.clone())
                .ok()
                .and_then(|j| DecodingKey::from_jwk(&j).ok())
            else {
                continue;
            };
            let this = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
            if self.check(&key, alg) {
                return Ok(this);
            }
            last = Some(this);
        }
        match last {
            Some(kid) => Err(JwsError::BadSignature { alg: name, kid }),
            None => Err(JwsError::NoKey {
                kid: kid.map(str::to_owned),
                alg: name,
                keys: keys.len(),
            }),
        }
    }

    fn check(&self, key: &DecodingKey, alg: Algorithm) -> bool {
        crate::jose::backend::install();
        jsonwebtoken::crypto::verify(&self.signature, self.signing_input.as_bytes(), key, alg)
            .unwrap_or(false)
    }
}

/// Whether a published JWK may verify `alg` under `kid`: same key type (so an RSA key is never
/// used as an HMAC secret), `use` absent or `sig`, its `alg` absent or equal.
fn fits(jwk: &Value, alg: Algorithm, kid: Option<&str>) -> bool {
    let s = |m: &str| jwk.get(m).and_then(Value::as_str);
    let kty = match alg {
        Algorithm::ES256 | Algorithm::ES384 => "EC",
        Algorithm::EdDSA => "OKP",
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => "oct",
        _ => "RSA",
    };
    let curve_fits = match alg {
        Algorithm::ES256 => s("crv") == Some("P-256"),
        Algorithm::ES384 => s("crv") == Some("P-384"),
        Algorithm::EdDSA => s("crv") == Some("Ed25519"),
        _ => true,
    };
    s("kty") == Some(kty)
        && curve_fits
        && s("use").is_none_or(|u| u == "sig")
        && s("alg").is_none_or(|a| a == alg_name(alg))
        && kid.is_none_or(|k| s("kid") == Some(k))
}

/// An unsigned JWS (`alg: none`, empty signature): what an attacker forges.
pub fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(claims.to_string())
    )
}

/// OpenID Connect Core §3.1.3.6 / §3.3.2.11: `at_hash` and `c_hash` are the left half of the
/// hash of the value's ASCII octets, with the hash of the ID Token's `alg` (SHA-512 for EdDSA
/// with Ed25519), base64url-encoded.
pub fn half_hash(alg: Algorithm, value: &str) -> String {
    use ring::digest::{SHA256, SHA384, SHA512, digest};
    let hash = match alg {
        Algorithm::HS384 | Algorithm::RS384 | Algorithm::PS384 | Algorithm::ES384 => &SHA384,
        Algorithm::HS512 | Algorithm::RS512 | Algorithm::PS512 | Algorithm::EdDSA => &SHA512,
        _ => &SHA256,
    };
    let d = digest(hash, value.as_bytes());
    let bytes = d.as_ref();
    b64(&bytes[..bytes.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OpenID Connect Core §A.3 example: the access token `jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y`
    /// has the RS256 `at_hash` `77QmUPtjPfzWtF2AnpK9RQ`.
    #[test]
    fn at_hash_matches_the_specification_example() {
        assert_eq!(
            half_hash(
                Algorithm::RS256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        // §A.4: the code Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk has the c_hash
        // LDktKdoQak3Pk0cnXxCltA.
        assert_eq!(
            half_hash(
                Algorithm::RS256,
                "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"
            ),
            "LDktKdoQak3Pk0cnXxCltA"
        );
    }

    #[test]
    fn unsigned_and_malformed_tokens_never_verify() {
        let jwks = serde_json::json!({"keys": []});
        let none = unsigned(&serde_json::json!({"sub": "x"}));
        let jws = Jws::parse(&none).expect("parses");
        assert_eq!(
            jws.verify(&jwks, b"secret"),
            Err(JwsError::Unsigned("none".into()))
        );
        assert_eq!(Jws::parse("a.b").map(|_| ()), Err(JwsError::NotCompact));
        assert_eq!(
            Jws::parse("e30.bm90IGpzb24.x").map(|_| ()),
            Err(JwsError::NotJson("payload"))
        );
    }

    /// Algorithm confusion: an HS256 token "signed" with an RSA public key's bytes must not be
    /// checked against that key (the key type must fit the algorithm).
    #[test]
    fn an_hmac_token_is_never_checked_against_a_public_key() {
        let (key, _) = crate::jose::SigningKey::generate(Algorithm::ES256).expect("generates");
        let public = key.public_jwk().expect("asymmetric");
        let forged = crate::jose::SigningKey::hmac(public.to_string().as_bytes(), None)
            .expect("hmac")
            .sign(&serde_json::json!({"sub": "x"}), &serde_json::Map::new())
            .expect("signs");
        let jws = Jws::parse(&forged).expect("parses");
        assert_eq!(
            jws.verify(&serde_json::json!({"keys": [public]}), b""),
            Err(JwsError::NoSecret("HS256"))
        );
    }
}
