//! Signing keys: a client's `private_key_jwt` key (PEM or JWK, read from the target file), a
//! `client_secret_jwt` HMAC key, and keys generated here (the reference server's ID Token key,
//! `pkce-harness keygen`). The type holds only keys ring accepted, so a `SigningKey` always signs.

use ring::rand::SystemRandom;
use ring::rsa::{KeyPairComponents, PublicKeyComponents};
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::{Map, Value, json};

use super::{Algorithm, alg_name, b64, unb64};

/// Why a key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The text is neither a PEM block nor a JSON Web Key.
    #[error(
        "not a private key: expected a PEM block (-----BEGIN PRIVATE KEY-----) or a JSON Web Key ({{\"kty\": ...}})"
    )]
    NotAKey,
    /// A key the harness does not sign with, and what to give instead.
    #[error("{0}")]
    Unsupported(String),
    /// The structure is broken: which part.
    #[error("{0}")]
    Malformed(String),
    /// ring refused the key material.
    #[error("the key was rejected: {0}")]
    Rejected(String),
    /// The algorithm does not fit the key.
    #[error("alg {alg} does not fit a {kty} key (use {fits})")]
    WrongAlg {
        /// The algorithm asked for.
        alg: &'static str,
        /// The key type.
        kty: &'static str,
        /// What fits.
        fits: &'static str,
    },
    /// Signing failed (no entropy, or an algorithm the key cannot do).
    #[error("signing failed: {0}")]
    Sign(String),
}

enum Inner {
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    Rsa(RsaKeyPair),
    Hmac(ring::hmac::Key),
}

/// A key that signs JWS: asymmetric (with its public JWK and `kid`) or an HMAC secret.
pub struct SigningKey {
    inner: Inner,
    alg: Algorithm,
    kid: Option<String>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private part.
        f.debug_struct("SigningKey")
            .field("alg", &alg_name(self.alg))
            .field("kid", &self.kid)
            .finish()
    }
}

fn rejected(e: ring::error::KeyRejected) -> KeyError {
    KeyError::Rejected(e.to_string())
}

/// The algorithms each key type signs with, for messages.
const RSA_ALGS: &str = "RS256, RS384, RS512, PS256, PS384 or PS512";

impl SigningKey {
    /// Reads a private key: a PEM block (PKCS#8 `PRIVATE KEY` for EC P-256, Ed25519 or RSA;
    /// PKCS#1 `RSA PRIVATE KEY`) or a private JWK (`EC` P-256, `OKP` Ed25519, `RSA`). `alg`
    /// overrides the key's own (`alg` member of a JWK; else ES256, EdDSA or RS256).
    pub fn parse(text: &str, alg: Option<Algorithm>) -> Result<Self, KeyError> {
        let t = text.trim();
        if t.starts_with('{') {
            return Self::from_jwk(t, alg);
        }
        if t.contains("-----BEGIN ") {
            return Self::from_pem(t, alg);
        }
        Err(KeyError::NotAKey)
    }

    /// An HMAC key for `client_secret_jwt` (RFC 7523 with the client secret, OpenID Connect
    /// Core §9): HS256 unless `alg` says HS384 or HS512.
    pub fn hmac(secret: &[u8], alg: Option<Algorithm>) -> Result<Self, KeyError> {
        let alg = alg.unwrap_or(Algorithm::HS256);
        let ring_alg = match alg {
            Algorithm::HS256 => ring::hmac::HMAC_SHA256,
            Algorithm::HS384 => ring::hmac::HMAC_SHA384,
            Algorithm::HS512 => ring::hmac::HMAC_SHA512,
            other => {
                return Err(KeyError::WrongAlg {
                    alg: alg_name(other),
                    kty: "client secret",
                    fits: "HS256, HS384 or HS512",
                });
            }
        };
        Ok(Self {
            inner: Inner::Hmac(ring::hmac::Key::new(ring_alg, secret)),
            alg,
            kid: None,
        })
    }

    /// A fresh key pair (ES256 or EdDSA: ring generates no RSA keys) and its private key as a
    /// PKCS#8 PEM block, to keep or to hand to a client.
    pub fn generate(alg: Algorithm) -> Result<(Self, String), KeyError> {
        let rng = SystemRandom::new();
        let doc = match alg {
            Algorithm::ES256 => {
                EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            }
            Algorithm::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng),
            other => {
                return Err(KeyError::Unsupported(format!(
                    "cannot generate {} keys: generate ES256 or EdDSA, or bring an RSA key as PEM or JWK",
                    alg_name(other)
                )));
            }
        }
        .map_err(|_| KeyError::Sign("no entropy to generate a key".into()))?;
        let pem = pem_encode("PRIVATE KEY", doc.as_ref());
        Ok((Self::from_pkcs8(doc.as_ref(), Some(alg))?, pem))
    }

    fn from_pem(text: &str, alg: Option<Algorithm>) -> Result<Self, KeyError> {
        let (label, der) = pem_decode(text)?;
        match label.as_str() {
            "PRIVATE KEY" => Self::from_pkcs8(&der, alg),
            "RSA PRIVATE KEY" => {
                let pair = RsaKeyPair::from_der(&der).map_err(rejected)?;
                Self::new(Inner::Rsa(pair), alg, None)
            }
            "EC PRIVATE KEY" => Err(KeyError::Unsupported(
                "an SEC1 EC key: convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt -in key.pem)"
                    .into(),
            )),
            "ENCRYPTED PRIVATE KEY" => Err(KeyError::Unsupported(
                "an encrypted key: give it unencrypted, from ${env:NAME} or a file only you read"
                    .into(),
            )),
            "PUBLIC KEY" | "CERTIFICATE" => Err(KeyError::Unsupported(format!(
                "a {} holds no private key: give the client's private key (the server gets the public one)",
                label.to_lowercase()
            ))),
            other => Err(KeyError::Unsupported(format!(
                "a PEM {other:?} block: give a PRIVATE KEY (PKCS#8) or RSA PRIVATE KEY block"
            ))),
        }
    }

    fn from_pkcs8(der: &[u8], alg: Option<Algorithm>) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        if let Ok(pair) =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
        {
            return Self::new(Inner::Ec(pair), alg, None);
        }
        if let Ok(pair) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            return Self::new(Inner::Ed(pair), alg, None);
        }
        match RsaKeyPair::from_pkcs8(der) {
            Ok(pair) => Self::new(Inner::Rsa(pair), alg, None),
            Err(e) => Err(KeyError::Unsupported(format!(
                "a PKCS#8 key that is neither EC P-256, Ed25519 nor RSA ({e}); those are the keys the harness signs with"
            ))),
        }
    }

    fn from_jwk(text: &str, alg: Option<Algorithm>) -> Result<Self, KeyError> {
        let jwk: Map<String, Value> = serde_json::from_str(text)
            .map_err(|e| KeyError::Malformed(format!("the JWK is not a JSON object: {e}")))?;
        let member = |name: &str| -> Result<Vec<u8>, KeyError> {
            let s = jwk.get(name).and_then(Value::as_str).ok_or_else(|| {
                KeyError::Malformed(format!("the JWK has no {name:?} (a private JWK needs it)"))
            })?;
            unb64(s).ok_or_else(|| {
                KeyError::Malformed(format!(
                    "the JWK's {name:?} is not base64url without padding"
                ))
            })
        };
        let alg = match (alg, jwk.get("alg").and_then(Value::as_str)) {
            (Some(a), _) => Some(a),
            (None, Some(name)) => Some(name.parse::<Algorithm>().map_err(|_| {
                KeyError::Unsupported(format!(
                    "the JWK's alg {name:?} is not one the harness signs with"
                ))
            })?),
            (None, None) => None,
        };
        let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
        let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or("");
        let crv = jwk.get("crv").and_then(Value::as_str).unwrap_or("");
        match (kty, crv) {
            ("EC", "P-256") => {
                let mut public = vec![4u8];
                public.extend(member("x")?);
                public.extend(member("y")?);
                let pair = EcdsaKeyPair::from_private_key_and_public_key(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &member("d")?,
                    &public,
                    &SystemRandom::new(),
                )
                .map_err(rejected)?;
                Self::new(Inner::Ec(pair), alg, kid)
            }
            ("OKP", "Ed25519") => {
                let pair = Ed25519KeyPair::from_seed_and_public_key(&member("d")?, &member("x")?)
                    .map_err(rejected)?;
                Self::new(Inner::Ed(pair), alg, kid)
            }
            ("RSA", _) => {
                let parts = KeyPairComponents {
                    public_key: PublicKeyComponents {
                        n: member("n")?,
                        e: member("e")?,
                    },
                    d: member("d")?,
                    p: member("p")?,
                    q: member("q")?,
                    dP: member("dp")?,
                    dQ: member("dq")?,
                    qInv: member("qi")?,
                };
                let pair = RsaKeyPair::from_components(&parts).map_err(rejected)?;
                Self::new(Inner::Rsa(pair), alg, kid)
            }
            ("oct", _) => Err(KeyError::Unsupported(
                "an oct (symmetric) JWK: private_key_jwt needs an asymmetric key; client_secret_jwt uses the client_secret".into(),
            )),
            _ => Err(KeyError::Unsupported(format!(
                "a JWK with kty {kty:?} crv {crv:?}: the harness signs with EC P-256, OKP Ed25519 and RSA keys"
            ))),
        }
    }

    /// A key of ring's, with the algorithm asked for if its type signs with it (or its type's
    /// default), and its `kid` (the JWK's, else the RFC 7638 thumbprint).
    fn new(inner: Inner, alg: Option<Algorithm>, kid: Option<String>) -> Result<Self, KeyError> {
        use Algorithm::*;
        let alg = match &inner {
            Inner::Ec(_) => fit(alg, ES256, &[ES256], "EC P-256", "ES256")?,
            Inner::Ed(_) => fit(alg, EdDSA, &[EdDSA], "Ed25519", "EdDSA")?,
            Inner::Rsa(pair) => {
                if pair.public().modulus_len() < 256 {
                    return Err(KeyError::Unsupported(
                        "an RSA key under 2048 bits: RFC 7518 §3.3 requires 2048 or more".into(),
                    ));
                }
                fit(
                    alg,
                    RS256,
                    &[RS256, RS384, RS512, PS256, PS384, PS512],
                    "RSA",
                    RSA_ALGS,
                )?
            }
            Inner::Hmac(_) => return Err(KeyError::Sign("an HMAC key is made by hmac()".into())),
        };
        Ok(Self::with_kid(inner, alg, kid))
    }

    fn with_kid(inner: Inner, alg: Algorithm, kid: Option<String>) -> Self {
        let mut key = Self {
            inner,
            alg,
            kid: None,
        };
        key.kid = kid.or_else(|| key.thumbprint());
        key
    }

    /// The signing algorithm.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// Whether it is an RSA key.
    pub fn is_rsa(&self) -> bool {
        matches!(self.inner, Inner::Rsa(_))
    }

    /// The key id: the JWK's own, else its RFC 7638 thumbprint; none for an HMAC key.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The public members of the key (`kty`, `crv`/`x`/`y` or `n`/`e`), ordered as RFC 7638
    /// hashes them; `None` for an HMAC key.
    fn public_members(&self) -> Option<Value> {
        Some(match &self.inner {
            Inner::Ec(pair) => {
                let p = pair.public_key().as_ref();
                let (x, y) = p.get(1..33).zip(p.get(33..65))?;
                json!({"crv": "P-256", "kty": "EC", "x": b64(x), "y": b64(y)})
            }
            Inner::Ed(pair) => {
                json!({"crv": "Ed25519", "kty": "OKP", "x": b64(pair.public_key().as_ref())})
            }
            Inner::Rsa(pair) => {
                let c = PublicKeyComponents::<Vec<u8>>::from(pair.public());
                json!({"e": b64(&c.e), "kty": "RSA", "n": b64(&c.n)})
            }
            Inner::Hmac(_) => return None,
        })
    }

    /// RFC 7638: SHA-256 of the required public members, serialised in order, no whitespace
    /// (the `kid` by default, and RFC 9449's `jkt`); `None` for an HMAC key.
    pub fn thumbprint(&self) -> Option<String> {
        let members = self.public_members()?;
        // serde_json keeps object keys sorted (no preserve_order feature): the RFC's order.
        let canonical = members.to_string();
        Some(b64(ring::digest::digest(
            &ring::digest::SHA256,
            canonical.as_bytes(),
        )))
    }

    /// The public JWK to register or publish (`use: sig`, `alg`, `kid`); `None` for HMAC.
    pub fn public_jwk(&self) -> Option<Value> {
        let mut jwk = self.public_members()?;
        let o = jwk.as_object_mut()?;
        o.insert("use".into(), json!("sig"));
        o.insert("alg".into(), json!(alg_name(self.alg)));
        if let Some(kid) = &self.kid {
            o.insert("kid".into(), json!(kid));
        }
        Some(jwk)
    }

    /// Signs `claims` as a compact JWS. The header is `alg`, `typ: JWT` and `kid` (asymmetric
    /// keys), then `extra` (which may replace them, e.g. a `typ` of its own).
    pub fn sign(&self, claims: &Value, extra: &Map<String, Value>) -> Result<String, KeyError> {
        self.sign_as(self.alg, claims, extra)
    }

    /// [`SigningKey::sign`] with another algorithm of the same key: an RSA key signs with
    /// any of RS256..PS512 (a client whose key FAPI 2.0 lets sign only with PS256 can still be
    /// made to send RS256). Any other key signs only with its own.
    pub fn sign_as(
        &self,
        alg: Algorithm,
        claims: &Value,
        extra: &Map<String, Value>,
    ) -> Result<String, KeyError> {
        self.can_sign_with(alg)?;
        let mut header = Map::new();
        header.insert("alg".into(), json!(alg_name(alg)));
        header.insert("typ".into(), json!("JWT"));
        if let Some(kid) = &self.kid {
            header.insert("kid".into(), json!(kid));
        }
        header.extend(extra.clone());
        let input = format!(
            "{}.{}",
            b64(Value::Object(header).to_string()),
            b64(claims.to_string())
        );
        let sig = self.sign_bytes(input.as_bytes(), alg)?;
        Ok(format!("{input}.{}", b64(sig)))
    }

    /// An RSA key signs with any of RS256..PS512; any other key only with its own algorithm.
    fn can_sign_with(&self, alg: Algorithm) -> Result<(), KeyError> {
        let rsa_family = matches!(
            alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        );
        if alg == self.alg || (matches!(self.inner, Inner::Rsa(_)) && rsa_family) {
            Ok(())
        } else {
            Err(KeyError::Unsupported(format!(
                "a {} key cannot sign with {}",
                alg_name(self.alg),
                alg_name(alg)
            )))
        }
    }

    /// Signs `claims` under exactly `header` plus `alg` (a DPoP proof's header carries `typ` and
    /// the public `jwk`, and no `kid`).
    pub fn sign_with_header(
        &self,
        claims: &Value,
        header: Map<String, Value>,
    ) -> Result<String, KeyError> {
        self.sign_with_header_as(self.alg, claims, header)
    }

    /// [`SigningKey::sign_with_header`] with another algorithm of the same key, as
    /// [`SigningKey::sign_as`] allows.
    pub fn sign_with_header_as(
        &self,
        alg: Algorithm,
        claims: &Value,
        mut header: Map<String, Value>,
    ) -> Result<String, KeyError> {
        self.can_sign_with(alg)?;
        header.insert("alg".into(), json!(alg_name(alg)));
        let input = format!(
            "{}.{}",
            b64(Value::Object(header).to_string()),
            b64(claims.to_string())
        );
        let sig = self.sign_bytes(input.as_bytes(), alg)?;
        Ok(format!("{input}.{}", b64(sig)))
    }

    /// The public members alone, as a DPoP proof's `jwk` header carries them.
    pub fn public_members_jwk(&self) -> Option<Value> {
        self.public_members()
    }

    fn sign_bytes(&self, message: &[u8], alg: Algorithm) -> Result<Vec<u8>, KeyError> {
        let rng = SystemRandom::new();
        let failed = |_| KeyError::Sign(format!("{} signing failed", alg_name(alg)));
        Ok(match &self.inner {
            Inner::Ec(pair) => pair.sign(&rng, message).map_err(failed)?.as_ref().to_vec(),
            Inner::Ed(pair) => pair.sign(message).as_ref().to_vec(),
            Inner::Hmac(key) => ring::hmac::sign(key, message).as_ref().to_vec(),
            Inner::Rsa(pair) => {
                let padding: &'static dyn signature::RsaEncoding = match alg {
                    Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_SHA384,
                    Algorithm::PS512 => &signature::RSA_PSS_SHA512,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut sig = vec![0; pair.public().modulus_len()];
                pair.sign(padding, &rng, message, &mut sig)
                    .map_err(failed)?;
                sig
            }
        })
    }
}

/// The algorithm to sign with: the one asked for if the key type signs with it.
fn fit(
    asked: Option<Algorithm>,
    default: Algorithm,
    allowed: &[Algorithm],
    kty: &'static str,
    fits: &'static str,
) -> Result<Algorithm, KeyError> {
    match asked {
        None => Ok(default),
        Some(a) if allowed.contains(&a) => Ok(a),
        Some(a) => Err(KeyError::WrongAlg {
            alg: alg_name(a),
            kty,
            fits,
        }),
    }
}

/// The label and bytes of the first PEM block in `text`.
fn pem_decode(text: &str) -> Result<(String, Vec<u8>), KeyError> {
    let bad = |why: &str| KeyError::Malformed(format!("the PEM block {why}"));
    let start = text
        .find("-----BEGIN ")
        .ok_or_else(|| bad("has no BEGIN line"))?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let (label, rest) = rest
        .split_once("-----")
        .ok_or_else(|| bad("has a broken BEGIN line"))?;
    let end = format!("-----END {label}-----");
    let (body, _) = rest
        .split_once(&end)
        .ok_or_else(|| bad(&format!("has no {end:?} line")))?;
    if body.contains(':') {
        return Err(KeyError::Unsupported(
            "an encrypted (Proc-Type) PEM key: give it unencrypted".into(),
        ));
    }
    let b64: String = body.split_whitespace().collect();
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| bad(&format!("is not base64: {e}")))?;
    Ok((label.to_owned(), der))
}

/// The bytes of the first PEM block in `text`, which must be labelled `label` (a TLS
/// certificate, a private key: RFC 7468).
pub fn pem_block(text: &str, label: &str) -> Result<Vec<u8>, KeyError> {
    match pem_decode(text)? {
        (found, der) if found == label => Ok(der),
        (found, _) => Err(KeyError::Malformed(format!(
            "the first PEM block is a {found}, not a {label}"
        ))),
    }
}

/// RFC 8705 §3.1 `x5t#S256`: base64url of the SHA-256 of the first certificate's DER in
/// `cert_pem`.
pub fn x5t_s256(cert_pem: &str) -> Result<String, KeyError> {
    use sha2::Digest as _;
    Ok(super::b64(sha2::Sha256::digest(pem_block(
        cert_pem,
        "CERTIFICATE",
    )?)))
}

/// A PEM block with 64-character lines.
fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_round_trip_through_pem_and_sign_verifiably() {
        for alg in [Algorithm::ES256, Algorithm::EdDSA] {
            let (key, pem) = SigningKey::generate(alg).expect("generates");
            let again = SigningKey::parse(&pem, None).expect("reads its own PEM");
            assert_eq!(again.alg(), alg);
            assert_eq!(
                again.kid(),
                key.kid(),
                "the thumbprint depends on the key only"
            );
            let jws = again
                .sign(&json!({"sub": "x"}), &Map::new())
                .expect("signs");
            let jwks = json!({"keys": [key.public_jwk().expect("asymmetric")]});
            let parsed = crate::jose::Jws::parse(&jws).expect("compact JWS");
            parsed
                .verify(&jwks, &[])
                .expect("verifies with the public JWK");
        }
        assert!(matches!(
            SigningKey::generate(Algorithm::RS256),
            Err(KeyError::Unsupported(_))
        ));
    }

    /// An RSA key signs with another RSA algorithm on request (the RS256 a FAPI 2.0 server must
    /// refuse), and the signature verifies under that algorithm; no other key changes its own.
    #[test]
    fn an_rsa_key_signs_as_another_rsa_algorithm_and_nothing_else_does() {
        let rsa = SigningKey::parse(
            include_str!("../server/keys/client2-rsa.pem"),
            Some(Algorithm::PS256),
        )
        .expect("the test key");
        assert!(rsa.is_rsa());
        let jws = rsa
            .sign_as(Algorithm::RS256, &json!({"sub": "x"}), &Map::new())
            .expect("signs");
        let parsed = crate::jose::Jws::parse(&jws).expect("compact JWS");
        assert_eq!(parsed.header.get("alg"), Some(&json!("RS256")));
        let mut jwk = rsa.public_jwk().expect("asymmetric");
        if let Some(o) = jwk.as_object_mut() {
            o.remove("alg");
        }
        parsed
            .verify(&json!({"keys": [jwk]}), &[])
            .expect("verifies as RS256");
        let (ec, _) = SigningKey::generate(Algorithm::ES256).expect("generates");
        assert!(!ec.is_rsa());
        assert!(matches!(
            ec.sign_as(Algorithm::RS256, &json!({}), &Map::new()),
            Err(KeyError::Unsupported(_))
        ));
    }

    #[test]
    fn private_jwks_load_and_errors_say_what_to_give() {
        let (key, _) = SigningKey::generate(Algorithm::ES256).expect("generates");
        // A public JWK is no private key: the error names the missing member.
        let public = key.public_jwk().expect("asymmetric").to_string();
        let e = SigningKey::parse(&public, None).expect_err("no d");
        assert!(e.to_string().contains("\"d\""), "{e}");
        assert_eq!(
            SigningKey::parse("hunter2", None).expect_err("text"),
            KeyError::NotAKey
        );
        let e = SigningKey::parse(
            "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----",
            None,
        )
        .expect_err("sec1");
        assert!(e.to_string().contains("openssl pkcs8 -topk8"), "{e}");
        let e = SigningKey::parse(r#"{"kty":"oct","k":"c2VjcmV0"}"#, None).expect_err("oct");
        assert!(e.to_string().contains("client_secret_jwt"), "{e}");
        let (_, pem) = SigningKey::generate(Algorithm::ES256).expect("generates");
        let e = SigningKey::parse(&pem, Some(Algorithm::RS256)).expect_err("alg");
        assert!(e.to_string().contains("use ES256"), "{e}");
        assert!(
            !format!("{key:?}").contains("-----"),
            "Debug shows no key material"
        );
    }

    #[test]
    fn hmac_keys_sign_hs256() {
        let key = SigningKey::hmac(b"a client secret of some length", None).expect("hmac");
        assert_eq!(key.alg(), Algorithm::HS256);
        assert!(key.public_jwk().is_none() && key.kid().is_none());
        let jws = key.sign(&json!({"a": 1}), &Map::new()).expect("signs");
        let parsed = crate::jose::Jws::parse(&jws).expect("compact");
        parsed
            .verify(&json!({"keys": []}), b"a client secret of some length")
            .expect("verifies with the secret");
        assert!(
            parsed
                .verify(&json!({"keys": []}), b"another secret")
                .is_err()
        );
    }
}
