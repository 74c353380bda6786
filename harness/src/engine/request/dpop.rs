//! DPoP proofs (RFC 9449 §4) as a step asks for them, flawed on purpose where it says.

use crate::jose::dpop::HeaderFlaw;
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
        P::WrongType => HeaderFlaw::Type,
        P::Unsigned => HeaderFlaw::Unsigned,
        P::BadSignature => HeaderFlaw::Signature,
        P::PrivateKey => HeaderFlaw::PrivateMember,
        _ => HeaderFlaw::None,
    };
    crate::jose::dpop::flawed_proof(key, &claims, flaw)
        .map_err(|e| Fault::harness(format!("signing a DPoP proof: {e}")))
}
