//! ID Tokens judged as a relying party must judge them (OpenID Connect Core §3.1.3.7), one
//! check at a time: which claim is wrong is the finding. Signatures are verified by
//! [`crate::jose`] against the provider's JWK Set.

use serde_json::Value;

use crate::jose::{Jws, JwsError, alg_name, half_hash};
use crate::outcome::Unmet;
use crate::scenario::model::IdTokenCheck;

/// What an ID Token is judged against.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The issuer, exactly as configured.
    pub issuer: Option<&'a str>,
    /// The client the token was issued to.
    pub client_id: &'a str,
    /// Its secret, for an HMAC-signed ID Token (empty for a public client).
    pub secret: &'a [u8],
    /// The provider's JWK Set.
    pub jwks: Option<&'a Value>,
    /// `id_token_signing_alg_values_supported`, if the metadata lists it.
    pub algs: Option<&'a [String]>,
    /// The `nonce` the authorization request sent.
    pub nonce: Option<&'a str>,
    /// The access token of the same response, for `at_hash`.
    pub access_token: Option<&'a str>,
    /// The code redeemed, for `c_hash`.
    pub code: Option<&'a str>,
    /// Seconds since the epoch, now.
    pub now: u64,
    /// Allowed clock difference, in seconds.
    pub skew: u64,
    /// The `sub` of another ID Token, for `same-sub`.
    pub other_sub: Option<&'a str>,
    /// The `auth_time` of another ID Token, for `auth-time-after` and `auth-time-same`.
    pub other_auth_time: Option<u64>,
}

/// Why a check did not judge, as opposed to an unmet one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotJudged {
    /// The harness lacks what it needs (no issuer configured, no nonce sent).
    Cannot(String),
    /// The ID Token leaves out an optional claim the check is about: nothing to judge.
    Absent(String),
}

/// The outcome of one check: met, unmet, or not judged.
pub type Judged = Result<(), Result<Unmet, NotJudged>>;

fn unmet(check: &str, expected: impl Into<String>, got: impl Into<String>) -> Judged {
    Err(Ok(Unmet::IdToken {
        check: check.to_owned(),
        expected: expected.into(),
        got: got.into(),
    }))
}

fn cannot(why: impl Into<String>) -> Judged {
    Err(Err(NotJudged::Cannot(why.into())))
}

fn shown(v: Option<&Value>) -> String {
    v.map_or_else(|| "none".to_owned(), Value::to_string)
}

/// OpenID Connect Registration §2: a client that registered `id_token_signed_response_alg`
/// gets ID Tokens signed with that `alg`, by a key of the provider's JWK Set.
pub fn signed_as_registered(token: Option<&str>, alg: &str, jwks: &Value) -> Result<(), Unmet> {
    let fail = |check: &str, expected: &str, got: String| Unmet::IdToken {
        check: check.to_owned(),
        expected: expected.to_owned(),
        got,
    };
    let token = token.ok_or_else(|| {
        fail(
            "present",
            "an id_token in the token response",
            "none".into(),
        )
    })?;
    let jws = Jws::parse(token).map_err(|e| fail("format", "a compact JWS", e.to_string()))?;
    let signed = jws
        .alg()
        .map_err(|e| fail("alg", "a signed ID Token", e.to_string()))?;
    if alg_name(signed) != alg {
        return Err(fail(
            "alg",
            &format!("{alg}, the alg the client registered (id_token_signed_response_alg)"),
            alg_name(signed).to_owned(),
        ));
    }
    jws.verify(jwks, &[]).map(|_| ()).map_err(|e| {
        fail(
            "signature",
            "a signature by a key of the provider's JWK Set",
            e.to_string(),
        )
    })
}

/// Judges `token` (the response's `id_token`, if any) by `check`.
pub fn id_token(check: &IdTokenCheck, token: Option<&str>, e: &Expected<'_>) -> Judged {
    let Some(token) = token else {
        return unmet("present", "an id_token in the token response", "none");
    };
    let jws = match Jws::parse(token) {
        Ok(j) => j,
        Err(err) => return unmet("format", "a compact JWS", err.to_string()),
    };
    let claim = |name: &str| jws.claims.get(name);
    match check {
        IdTokenCheck::Present => Ok(()),
        IdTokenCheck::Signature => signature(&jws, e),
        IdTokenCheck::KeyStrength => key_strength(&jws, e),
        IdTokenCheck::NoKeyHeaders => {
            let named: Vec<&str> = ["x5u", "x5c", "jku", "jwk"]
                .into_iter()
                .filter(|h| jws.header.contains_key(*h))
                .collect();
            if named.is_empty() {
                Ok(())
            } else {
                unmet(
                    "header",
                    "no key named in the header (x5u, x5c, jku, jwk: OpenID Connect Core §2)",
                    named.join(", "),
                )
            }
        }
        IdTokenCheck::Iss => {
            let Some(issuer) = e.issuer else {
                return cannot("the iss check needs the target's issuer");
            };
            if claim("iss").and_then(Value::as_str) == Some(issuer) {
                Ok(())
            } else {
                unmet("iss", format!("{issuer:?}"), shown(claim("iss")))
            }
        }
        IdTokenCheck::Aud => audience(&jws, e.client_id),
        IdTokenCheck::Lifetime => lifetime(&jws, e.now, e.skew),
        IdTokenCheck::Nonce => {
            let Some(sent) = e.nonce else {
                return cannot("the authorization request sent no nonce");
            };
            if claim("nonce").and_then(Value::as_str) == Some(sent) {
                Ok(())
            } else {
                unmet(
                    "nonce",
                    "the nonce the authorization request sent",
                    describe_nonce(claim("nonce")),
                )
            }
        }
        IdTokenCheck::NoNonce => match claim("nonce") {
            None => Ok(()),
            Some(v) => unmet(
                "nonce",
                "no nonce (the authorization request sent none)",
                describe_nonce(Some(v)),
            ),
        },
        IdTokenCheck::AtHash => hash_claim(&jws, "at_hash", e.access_token, "access token"),
        IdTokenCheck::CHash => hash_claim(&jws, "c_hash", e.code, "code"),
        IdTokenCheck::SameSub(name) => {
            let Some(other) = e.other_sub else {
                return cannot(format!("no ID Token with a sub saved as {name}"));
            };
            match claim("sub").and_then(Value::as_str) {
                Some(sub) if sub == other => Ok(()),
                got => unmet(
                    "sub",
                    format!("the sub of the ID Token saved as {name} ({other:?})"),
                    got.map_or_else(|| "none".to_owned(), |s| format!("{s:?}")),
                ),
            }
        }
        IdTokenCheck::AuthTime => match claim("auth_time") {
            Some(Value::Number(n)) if n.as_u64().is_some_and(|t| t <= e.now + e.skew) => Ok(()),
            got => unmet(
                "auth_time",
                "the time the user signed in, in seconds, not in the future",
                shown(got),
            ),
        },
        IdTokenCheck::AuthTimeAfter(name)
        | IdTokenCheck::AuthTimeSame(name)
        | IdTokenCheck::AuthTimeKept(name) => {
            let after = matches!(check, IdTokenCheck::AuthTimeAfter(_));
            let (Some(other), Some(this)) = (
                e.other_auth_time,
                claim("auth_time").and_then(Value::as_u64),
            ) else {
                return Err(Err(NotJudged::Absent(format!(
                    "the ID Tokens leave auth_time out (OpenID Connect Core §2 requires it only with max_age), so when the user signed in cannot be compared with the ID Token saved as {name}"
                ))));
            };
            if matches!(check, IdTokenCheck::AuthTimeKept(_)) && this != other {
                return Err(Err(NotJudged::Absent(format!(
                    "auth_time moved from {other} to {this} though no new login was asked for: the server signs in every time, or its auth_time is not the login's, so a later auth_time cannot show a new login"
                ))));
            }
            match (after, this.cmp(&other)) {
                (true, std::cmp::Ordering::Greater) | (false, std::cmp::Ordering::Equal) => Ok(()),
                (true, _) => unmet(
                    "auth_time",
                    format!(
                        "later than that of the ID Token saved as {name} ({other}): a new login"
                    ),
                    format!("{this}: the earlier login was reused"),
                ),
                (false, _) => unmet(
                    "auth_time",
                    format!("that of the ID Token saved as {name} ({other}): the same login"),
                    this.to_string(),
                ),
            }
        }
    }
}

/// A nonce is a one-time value of the harness's own: shown by length, not value (a stale one
/// would otherwise read like the right one in a report).
fn describe_nonce(v: Option<&Value>) -> String {
    match v {
        None => "no nonce claim".to_owned(),
        Some(Value::String(s)) => format!("another value ({} characters)", s.chars().count()),
        Some(other) => format!("a non-string nonce ({other})"),
    }
}

fn signature(jws: &Jws, e: &Expected<'_>) -> Judged {
    let alg = match jws.alg() {
        Ok(a) => a,
        Err(err) => {
            return unmet(
                "signature",
                "a signed ID Token (never alg none)",
                err.to_string(),
            );
        }
    };
    let name = alg_name(alg);
    // §3.1.3.7 item 7: RS256 unless the client registered another; the provider lists what it
    // signs with.
    if let Some(algs) = e.algs
        && !algs.iter().any(|a| a == name)
    {
        return unmet(
            "alg",
            format!("one of the advertised algorithms {algs:?}"),
            name,
        );
    }
    let Some(jwks) = e.jwks else {
        return cannot("no JWK Set: the metadata has no jwks_uri");
    };
    match jws.verify(jwks, e.secret) {
        Ok(_) => Ok(()),
        Err(err @ (JwsError::NoKey { .. } | JwsError::BadSignature { .. })) => unmet(
            "signature",
            "a signature by a key of the provider's JWK Set",
            err.to_string(),
        ),
        Err(err) => unmet("signature", "a verifiable signature", err.to_string()),
    }
}

/// RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used with these algorithms" (the
/// RSA ones); the curves of §3.4 and RFC 8037 are strong enough as they are. The key is the
/// one the JWK Set holds under the ID Token's `kid`, or its only key of the algorithm's type.
fn key_strength(jws: &Jws, e: &Expected<'_>) -> Judged {
    let name = match jws.alg() {
        Ok(alg) => alg_name(alg),
        Err(err) => return unmet("alg", "a signed ID Token (never alg none)", err.to_string()),
    };
    let kty = match name.get(..2) {
        Some("RS" | "PS") => "RSA",
        Some("ES") => "EC",
        Some("Ed") => "OKP",
        _ => {
            return Err(Err(NotJudged::Absent(format!(
                "the ID Token is signed {name}, with the client's secret: its strength is the secret's"
            ))));
        }
    };
    let Some(jwks) = e.jwks else {
        return cannot("no JWK Set: the metadata has no jwks_uri");
    };
    let keys: Vec<&Value> = jwks
        .get("keys")
        .and_then(Value::as_array)
        .map(|k| {
            k.iter()
                .filter(|k| k.get("kty").and_then(Value::as_str) == Some(kty))
                .collect()
        })
        .unwrap_or_default();
    let key = match jws.kid() {
        Some(kid) => keys
            .iter()
            .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid)),
        None if keys.len() == 1 => keys.first(),
        None => None,
    };
    let Some(key) = key else {
        return cannot(format!(
            "the JWK Set holds no {kty} key the ID Token names (kid {:?})",
            jws.kid()
        ));
    };
    if kty != "RSA" {
        return Ok(());
    }
    let bits = key
        .get("n")
        .and_then(Value::as_str)
        .and_then(crate::jose::unb64)
        .map(|n| {
            let n = n
                .iter()
                .skip_while(|b| **b == 0)
                .copied()
                .collect::<Vec<u8>>();
            n.first()
                .map_or(0, |b| (n.len() - 1) * 8 + (8 - b.leading_zeros() as usize))
        });
    match bits {
        None => cannot("the RSA key of the JWK Set has no readable modulus (n)"),
        Some(bits) if bits >= 2048 => Ok(()),
        Some(bits) => unmet(
            "key",
            "an RSA signing key of at least 2048 bits (RFC 7518 §3.3)",
            format!("{bits} bits (kid {:?})", jws.kid().unwrap_or("")),
        ),
    }
}

fn audience(jws: &Jws, client_id: &str) -> Judged {
    let aud = jws.claims.get("aud");
    let list = jws.audiences();
    if !list.contains(&client_id) {
        return unmet(
            "aud",
            format!("an audience containing {client_id:?}"),
            shown(aud),
        );
    }
    let azp = jws.claims.get("azp");
    match azp.map(|v| v.as_str()) {
        None if list.len() > 1 => unmet(
            "azp",
            format!(
                "azp {client_id:?} (the ID Token has {} audiences)",
                list.len()
            ),
            "none",
        ),
        Some(Some(a)) if a != client_id => unmet("azp", format!("{client_id:?}"), shown(azp)),
        Some(None) => unmet("azp", format!("{client_id:?}"), shown(azp)),
        _ => Ok(()),
    }
}

fn lifetime(jws: &Jws, now: u64, skew: u64) -> Judged {
    let time = |name: &str| jws.claims.get(name).and_then(Value::as_f64);
    let (Some(exp), Some(iat)) = (time("exp"), time("iat")) else {
        return unmet(
            "exp/iat",
            "numeric exp and iat claims",
            format!(
                "exp {}, iat {}",
                shown(jws.claims.get("exp")),
                shown(jws.claims.get("iat"))
            ),
        );
    };
    let (now, skew) = (now as f64, skew as f64);
    if exp + skew <= now {
        return unmet(
            "exp",
            format!("a time after now (within {skew} s)"),
            format!("{:.0} s ago", now - exp),
        );
    }
    if iat > now + skew {
        return unmet(
            "iat",
            format!("not after now (within {skew} s)"),
            format!("{:.0} s in the future", iat - now),
        );
    }
    if exp <= iat {
        return unmet("exp", "after iat", format!("exp {exp}, iat {iat}"));
    }
    Ok(())
}

fn hash_claim(jws: &Jws, name: &str, value: Option<&str>, what: &str) -> Judged {
    let Some(claim) = jws.claims.get(name) else {
        return Err(Err(NotJudged::Absent(format!(
            "the ID Token has no {name} (optional in the code flow): nothing to check"
        ))));
    };
    let Some(value) = value else {
        return cannot(format!("no {what} to hash"));
    };
    let alg = match jws.alg() {
        Ok(a) => a,
        Err(err) => {
            return unmet(
                name,
                "an ID Token whose alg names the hash",
                err.to_string(),
            );
        }
    };
    let expected = half_hash(alg, value);
    if claim.as_str() == Some(expected.as_str()) {
        Ok(())
    } else {
        unmet(
            name,
            format!("the left half of the {what}'s {} hash", alg_name(alg)),
            shown(Some(claim)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{Algorithm, SigningKey};
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;

    fn token(key: &SigningKey, claims: Value) -> String {
        key.sign(&claims, &serde_json::Map::new()).expect("signs")
    }

    fn good(nonce: &str, at: &str) -> Value {
        json!({
            "iss": "https://op.example", "sub": "alice", "aud": "rp", "exp": NOW + 300,
            "iat": NOW, "auth_time": NOW - 100, "nonce": nonce,
            "at_hash": half_hash(Algorithm::ES256, at),
            "c_hash": half_hash(Algorithm::ES256, "c"),
        })
    }

    #[test]
    fn a_correct_id_token_meets_every_check_and_each_flaw_fails_its_own() {
        let (key, _) = SigningKey::generate(Algorithm::ES256).expect("key");
        let jwks = json!({"keys": [key.public_jwk().expect("public")]});
        let algs = vec!["ES256".to_owned()];
        let e = Expected {
            issuer: Some("https://op.example"),
            client_id: "rp",
            secret: b"",
            jwks: Some(&jwks),
            algs: Some(&algs),
            nonce: Some("n-0S6_WzA2Mj"),
            access_token: Some("at"),
            code: Some("c"),
            now: NOW,
            skew: 60,
            other_sub: Some("alice"),
            other_auth_time: Some(NOW - 100),
        };
        let ok = token(&key, good("n-0S6_WzA2Mj", "at"));
        let all = [
            IdTokenCheck::Present,
            IdTokenCheck::Signature,
            IdTokenCheck::Iss,
            IdTokenCheck::Aud,
            IdTokenCheck::Lifetime,
            IdTokenCheck::Nonce,
            IdTokenCheck::AtHash,
            IdTokenCheck::CHash,
            IdTokenCheck::SameSub("first".into()),
            IdTokenCheck::AuthTime,
            IdTokenCheck::AuthTimeSame("first".into()),
        ];
        for c in &all {
            assert!(id_token(c, Some(&ok), &e).is_ok(), "{c:?}");
        }
        let flawed = |change: &dyn Fn(&mut Value)| {
            let mut claims = good("n-0S6_WzA2Mj", "at");
            change(&mut claims);
            token(&key, claims)
        };
        let fails = |c: IdTokenCheck, t: &str| {
            let r = id_token(&c, Some(t), &e);
            assert!(matches!(r, Err(Ok(Unmet::IdToken { .. }))), "{c:?}: {r:?}");
        };
        fails(
            IdTokenCheck::Iss,
            &flawed(&|c| c["iss"] = json!("https://op.example/")),
        );
        fails(IdTokenCheck::Aud, &flawed(&|c| c["aud"] = json!("other")));
        fails(
            IdTokenCheck::Aud,
            &flawed(&|c| c["aud"] = json!(["rp", "other"])),
        );
        fails(
            IdTokenCheck::Lifetime,
            &flawed(&|c| c["exp"] = json!(NOW - 61)),
        );
        fails(
            IdTokenCheck::Lifetime,
            &flawed(&|c| c["iat"] = json!(NOW + 120)),
        );
        fails(
            IdTokenCheck::Nonce,
            &flawed(&|c| c["nonce"] = json!("other")),
        );
        fails(IdTokenCheck::NoNonce, &ok);
        fails(
            IdTokenCheck::AtHash,
            &flawed(&|c| c["at_hash"] = json!("AAAA")),
        );
        fails(
            IdTokenCheck::SameSub("first".into()),
            &flawed(&|c| c["sub"] = json!("bob")),
        );
        // auth_time: required where asked for, never ahead; compared with another login's.
        let relogin = flawed(&|c| c["auth_time"] = json!(NOW - 10));
        fails(
            IdTokenCheck::AuthTime,
            &flawed(&|c| c["auth_time"] = json!(NOW + 120)),
        );
        fails(
            IdTokenCheck::AuthTime,
            &flawed(&|c| {
                c.as_object_mut().map(|o| o.remove("auth_time"));
            }),
        );
        fails(IdTokenCheck::AuthTimeAfter("first".into()), &ok);
        fails(IdTokenCheck::AuthTimeSame("first".into()), &relogin);
        assert!(id_token(&IdTokenCheck::AuthTimeKept("first".into()), Some(&ok), &e).is_ok());
        assert!(matches!(
            id_token(
                &IdTokenCheck::AuthTimeKept("first".into()),
                Some(&relogin),
                &e
            ),
            Err(Err(NotJudged::Absent(_)))
        ));
        assert!(
            id_token(
                &IdTokenCheck::AuthTimeAfter("first".into()),
                Some(&relogin),
                &e
            )
            .is_ok()
        );
        let untimed = Expected {
            other_auth_time: None,
            ..e
        };
        assert!(matches!(
            id_token(
                &IdTokenCheck::AuthTimeAfter("first".into()),
                Some(&relogin),
                &untimed
            ),
            Err(Err(NotJudged::Absent(_)))
        ));
        fails(
            IdTokenCheck::Signature,
            &crate::jose::jws::unsigned(&good("n", "at")),
        );
        let (other, _) = SigningKey::generate(Algorithm::ES256).expect("key");
        fails(IdTokenCheck::Signature, &token(&other, good("n", "at")));
        fails(IdTokenCheck::Present, "");
        assert!(matches!(
            id_token(&IdTokenCheck::Iss, None, &e),
            Err(Ok(Unmet::IdToken { .. }))
        ));
    }
}
