//! DPoP proofs (RFC 9449 §4): a JWS of type `dpop+jwt` whose header carries the public key, over
//! the request's method and URL, a fresh `jti`, the time, and, where they apply, the hash of the
//! access token (`ath`) and the server's nonce.

use serde_json::{Map, Value, json};

use super::{Algorithm, KeyError, SigningKey, b64, unb64};

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
    /// `nbf` and `exp`, which §4.2 does not define and lets a proof carry: the validity some
    /// clients give every JWT they sign.
    pub lifetime: Option<(u64, u64)>,
}

/// What a proof gets wrong in its JOSE header, its signature or its members, on purpose: the
/// checks of RFC 9449 §4.3 that a server must make of every proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofFlaw {
    /// None: a correct proof.
    None,
    /// `typ` is `JWT`, not `dpop+jwt` (item 4).
    Type,
    /// `alg` is `none` and the signature empty (item 5).
    Unsigned,
    /// The signature is a good one of other claims: it does not verify (item 6).
    Signature,
    /// The `jwk` carries a private member `d` (item 7). Its value is random, never the key's.
    PrivateMember,
    /// Without this member of the header (`typ`, `jwk`; `alg` taken out after signing) or the
    /// claims (item 3: every required one).
    Missing(&'static str),
    /// Not a well-formed JWT: the signature part cut off (item 2).
    Truncated,
    /// Members no specification defines, in the header and in the claims (RFC 7515 §4 and
    /// RFC 7519 §4: ignored when not understood).
    ExtraMembers,
    /// Signed with RS256 (RSASSA-PKCS1-v1_5) by an RSA key, which FAPI 2.0 §5.4.1 retired.
    Rs256,
}

/// The proof for one request, signed with `key`.
pub fn proof(key: &SigningKey, c: &ProofClaims<'_>) -> Result<String, KeyError> {
    flawed_proof(key, c, ProofFlaw::None)
}

/// The proof for one request, signed with `key`, flawed as `flaw` says.
pub fn flawed_proof(
    key: &SigningKey,
    c: &ProofClaims<'_>,
    flaw: ProofFlaw,
) -> Result<String, KeyError> {
    let mut jwk = key
        .public_members_jwk()
        .ok_or_else(|| KeyError::Unsupported("a DPoP key must be asymmetric".into()))?;
    if flaw == ProofFlaw::PrivateMember
        && let Some(o) = jwk.as_object_mut()
    {
        let mut d = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut d)
            .map_err(|_| KeyError::Sign("no randomness for the flawed jwk".into()))?;
        o.insert("d".into(), json!(b64(d)));
    }
    let typ = if flaw == ProofFlaw::Type {
        "JWT"
    } else {
        "dpop+jwt"
    };
    let mut header = Map::new();
    header.insert("typ".into(), json!(typ));
    header.insert("jwk".into(), jwk);
    let mut claims = proof_claims(c);
    if let ProofFlaw::Missing(member) = flaw {
        header.remove(member);
        if let Some(o) = claims.as_object_mut() {
            o.remove(member);
        }
    }
    if flaw == ProofFlaw::ExtraMembers {
        header.insert("pkce_harness_header_extra".into(), json!(c.iat + 3600));
        if let Some(o) = claims.as_object_mut() {
            o.insert("pkce_harness_claim_extra".into(), json!(c.iat + 3600));
        }
    }
    match flaw {
        ProofFlaw::Unsigned => {
            header.insert("alg".into(), json!("none"));
            Ok(format!(
                "{}.{}.",
                b64(Value::Object(header).to_string()),
                b64(claims.to_string())
            ))
        }
        ProofFlaw::Signature => {
            let signed = key.sign_with_header(&claims, header)?;
            let other_jti = format!("{}-other", c.jti);
            let other = ProofClaims {
                jti: &other_jti,
                ..c.clone()
            };
            let other = key.sign_with_header(&proof_claims(&other), Map::new())?;
            let (input, _) = signed.rsplit_once('.').unwrap_or((&signed, ""));
            let (_, signature) = other.rsplit_once('.').unwrap_or(("", ""));
            Ok(format!("{input}.{signature}"))
        }
        ProofFlaw::Missing("alg") => {
            // Signed, then the header is written again without `alg`: the signature is of the
            // header that had it, as the OpenID Foundation's module does.
            let signed = key.sign_with_header(&claims, header)?;
            let mut parts = signed.splitn(2, '.');
            let head = parts
                .next()
                .and_then(unb64)
                .and_then(|b| serde_json::from_slice::<Map<String, Value>>(&b).ok());
            let (Some(mut head), Some(rest)) = (head, parts.next()) else {
                return Err(KeyError::Sign("a signed proof without a header".into()));
            };
            head.remove("alg");
            Ok(format!("{}.{rest}", b64(Value::Object(head).to_string())))
        }
        ProofFlaw::Truncated => {
            let signed = key.sign_with_header(&claims, header)?;
            let (input, _) = signed.rsplit_once('.').unwrap_or((&signed, ""));
            Ok(input.to_owned())
        }
        ProofFlaw::Rs256 => key.sign_with_header_as(Algorithm::RS256, &claims, header),
        ProofFlaw::None
        | ProofFlaw::Type
        | ProofFlaw::PrivateMember
        | ProofFlaw::Missing(_)
        | ProofFlaw::ExtraMembers => key.sign_with_header(&claims, header),
    }
}

/// The claims of a proof (§4.2).
fn proof_claims(c: &ProofClaims<'_>) -> Value {
    let mut claims = json!({ "jti": c.jti, "htm": c.htm, "htu": c.htu, "iat": c.iat });
    if let Some(o) = claims.as_object_mut() {
        if let Some(at) = c.access_token {
            o.insert("ath".into(), Value::String(ath(at)));
        }
        if let Some(n) = c.nonce {
            o.insert("nonce".into(), json!(n));
        }
        if let Some((nbf, exp)) = c.lifetime {
            o.insert("nbf".into(), json!(nbf));
            o.insert("exp".into(), json!(exp));
        }
    }
    claims
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
                lifetime: None,
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

    /// The claims of a proof for a token request, nothing optional.
    fn token_request_claims() -> ProofClaims<'static> {
        ProofClaims {
            htm: "POST",
            htu: "https://as.example/token",
            iat: 1,
            jti: "j",
            access_token: None,
            nonce: None,
            lifetime: None,
        }
    }

    /// Each flaw breaks the one §4.3 check it is for, and nothing else: the claims stay
    /// those of a correct proof.
    #[test]
    fn each_header_flaw_breaks_its_own_check() {
        let (key, _) = SigningKey::generate(Algorithm::ES256).expect("key");
        let claims = token_request_claims();
        let made = |flaw| {
            let p = flawed_proof(&key, &claims, flaw).expect("made");
            (Jws::parse(&p).expect("compact"), p)
        };
        let verifies = |jws: &Jws| {
            let jwk = jws.header.get("jwk").cloned().expect("jwk");
            jws.verify(&json!({ "keys": [jwk] }), b"").is_ok()
        };
        let (typed, _) = made(ProofFlaw::Type);
        assert_eq!(typed.header.get("typ"), Some(&json!("JWT")));
        assert!(verifies(&typed));
        let (unsigned, text) = made(ProofFlaw::Unsigned);
        assert_eq!(unsigned.header.get("alg"), Some(&json!("none")));
        assert!(text.ends_with('.'), "no signature");
        let (forged, _) = made(ProofFlaw::Signature);
        assert_eq!(forged.header.get("typ"), Some(&json!("dpop+jwt")));
        assert!(!verifies(&forged), "the signature is of other claims");
        let (private, _) = made(ProofFlaw::PrivateMember);
        let jwk = private.header.get("jwk").expect("jwk");
        assert!(jwk.get("d").is_some());
        assert_eq!(private.claims.get("jti"), Some(&json!("j")));
        let (algless, _) = made(ProofFlaw::Missing("alg"));
        assert!(algless.header.get("alg").is_none());
        assert!(algless.header.get("jwk").is_some(), "the key stays");
        let (keyless, _) = made(ProofFlaw::Missing("jwk"));
        assert!(keyless.header.get("jwk").is_none());
        assert_eq!(keyless.header.get("alg"), Some(&json!("ES256")));
        let cut = flawed_proof(&key, &claims, ProofFlaw::Truncated).expect("made");
        assert_eq!(
            cut.split('.').count(),
            2,
            "header and claims, no signature part"
        );
        let (extra, _) = made(ProofFlaw::ExtraMembers);
        assert!(verifies(&extra), "signed over the extra members");
        assert!(extra.header.get("pkce_harness_header_extra").is_some());
        assert!(extra.claims.get("pkce_harness_claim_extra").is_some());
        assert_eq!(extra.claims.get("jti"), Some(&json!("j")));
    }

    /// An RSA key (a PS256 client's) makes a whole proof with RS256 that verifies with the
    /// header's key; an EC key cannot, and says so rather than sending an ES256 proof.
    #[test]
    fn an_rs256_proof_is_an_rsa_keys_and_verifies() {
        let claims = token_request_claims();
        let rsa = SigningKey::parse(
            include_str!("../server/keys/client2-rsa.pem"),
            Some(Algorithm::PS256),
        )
        .expect("the test key");
        let p = flawed_proof(&rsa, &claims, ProofFlaw::Rs256).expect("signs");
        let jws = Jws::parse(&p).expect("compact");
        assert_eq!(jws.header.get("alg"), Some(&json!("RS256")));
        assert_eq!(jws.header.get("typ"), Some(&json!("dpop+jwt")));
        let jwk = jws.header.get("jwk").cloned().expect("jwk");
        assert!(jwk.get("d").is_none(), "the public key only");
        jws.verify(&json!({ "keys": [jwk] }), b"")
            .expect("verifies as RS256");
        let (ec, _) = SigningKey::generate(Algorithm::ES256).expect("key");
        assert!(matches!(
            flawed_proof(&ec, &claims, ProofFlaw::Rs256),
            Err(KeyError::Unsupported(_))
        ));
    }
}
