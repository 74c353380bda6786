//! DPoP proofs (RFC 9449 §4) as a step asks for them, flawed on purpose where it says.

use crate::jose::dpop::ProofFlaw;
use crate::outcome::Fault;
use crate::wire::Request;

/// The DPoP proof of `req` (RFC 9449 §4.2) with `key`, flawed as `spec` asks: `htm` and `htu`
/// from the request (or another method or server), `iat` now (or ten minutes off), the
/// server's `nonce` (or one it never gave), `ath` when an access token is presented; its header
/// and signature right, or flawed as §4.3 items 4 to 7 say a server must refuse.
pub fn dpop_proof(
    key: &crate::jose::SigningKey,
    spec: crate::scenario::model::DpopProof,
    req: &Request,
    now: u64,
    jti: &str,
    access_token: Option<&str>,
    nonce: Option<&str>,
) -> Result<String, Fault> {
    use crate::scenario::model::DpopProof as P;
    let method = req.method.to_string();
    let htm = match (spec, method.as_str()) {
        (P::WrongMethod, "GET") => "POST",
        (P::WrongMethod, _) => "GET",
        _ => method.as_str(),
    };
    let htu = match spec {
        P::WrongUrl => "https://other-server.example/token".to_owned(),
        P::HtuUnnormalised => unnormalised(&crate::jose::dpop::htu(&req.url)),
        P::HtuWithQuery => format!(
            "{}?pkce-harness=query#fragment",
            crate::jose::dpop::htu(&req.url)
        ),
        _ => crate::jose::dpop::htu(&req.url),
    };
    let iat = match spec {
        P::Stale => now.saturating_sub(600),
        P::FutureIat => now + 600,
        P::IssuedAhead => now + crate::jose::AHEAD,
        P::IssuedBehind => now.saturating_sub(10),
        _ => now,
    };
    let nonce = match spec {
        P::WrongNonce => Some("a-nonce-this-server-never-gave"),
        _ => nonce,
    };
    let access_token = match spec {
        P::WrongAth => access_token.map(|_| "an access token this proof does not go with"),
        _ => access_token,
    };
    let claims = crate::jose::dpop::ProofClaims {
        htm,
        htu: &htu,
        iat,
        jti,
        access_token,
        nonce,
        lifetime: (spec == P::WithNbfExp).then_some((now, now + 300)),
    };
    let flaw = match spec {
        P::WrongType => ProofFlaw::Type,
        P::Unsigned => ProofFlaw::Unsigned,
        P::BadSignature => ProofFlaw::Signature,
        P::PrivateKey => ProofFlaw::PrivateMember,
        P::Without(member) => ProofFlaw::Missing(member_name(member)),
        P::NotAJwt => ProofFlaw::Truncated,
        P::ExtraMembers => ProofFlaw::ExtraMembers,
        P::Rs256 => ProofFlaw::Rs256,
        _ => ProofFlaw::None,
    };
    crate::jose::dpop::flawed_proof(key, &claims, flaw)
        .map_err(|e| Fault::harness(format!("signing a DPoP proof: {e}")))
}

/// The name of `member` in a proof.
fn member_name(member: crate::scenario::model::DpopMember) -> &'static str {
    use crate::scenario::model::DpopMember as M;
    match member {
        M::Typ => "typ",
        M::Jti => "jti",
        M::Htm => "htm",
        M::Htu => "htu",
        M::Iat => "iat",
        M::Ath => "ath",
        M::Alg => "alg",
        M::Jwk => "jwk",
    }
}

/// `htu` (a URL without query and fragment, as [`url::Url`] serialises it: scheme and host in
/// lower case, no default port) spelled so that only RFC 3986 §6.2.2 and §6.2.3 normalisation
/// gives it back: scheme and host in capitals, the scheme's default port written out.
fn unnormalised(htu: &str) -> String {
    let Ok(url) = url::Url::parse(htu) else {
        return htu.to_owned();
    };
    let host = url.host_str().unwrap_or_default().to_ascii_uppercase();
    let port = url
        .port_or_known_default()
        .map_or_else(String::new, |p| format!(":{p}"));
    format!(
        "{}://{host}{port}{}",
        url.scheme().to_ascii_uppercase(),
        url.path()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unnormalised_htu_is_the_same_url_spelled_otherwise() {
        assert_eq!(
            super::unnormalised("https://as.example/token"),
            "HTTPS://AS.EXAMPLE:443/token"
        );
        assert_eq!(
            super::unnormalised("http://127.0.0.1:8080/token"),
            "HTTP://127.0.0.1:8080/token"
        );
        for spelled in [
            "HTTPS://AS.EXAMPLE:443/token",
            "HTTP://127.0.0.1:8080/token",
        ] {
            let back = url::Url::parse(spelled).map(|u| u.to_string());
            assert!(back.is_ok_and(|u| u == spelled.to_ascii_lowercase().replace(":443", "")));
        }
    }
}
