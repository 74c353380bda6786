//! JOSE as the harness needs it: signing keys for client assertions (RFC 7523, OpenID Connect
//! Core §9) and the reference server's ID Tokens ([`key`]), and reading and verifying compact
//! JWS such as ID Tokens against a JWK Set ([`jws`]).
//!
//! Signature verification is `jsonwebtoken`'s, on ring ([`backend`]); signing and private-key
//! loading are ring's. Nothing here hand-rolls a signature primitive: this module only frames them (base64url,
//! the JSON header, choosing a key by `kid` and `alg`).

pub mod backend;
pub mod dpop;
pub mod jws;
pub mod key;

pub use jsonwebtoken::Algorithm;
pub use jws::{Jws, JwsError, half_hash};
pub use key::{KeyError, SigningKey, pem_block, x5t_s256};

use base64::Engine as _;

/// Seconds ahead of now a JWT is dated to stand for a client clock a little fast: FAPI 2.0
/// §5.3.2.1 makes a server take `iat` and `nbf` up to ten seconds ahead, and eight leaves room
/// for the time the request takes and for a harness clock a little ahead of the server's.
pub const AHEAD: u64 = 8;

/// base64url without padding (RFC 7515 §2).
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding; `None` for anything else.
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
}

/// The `alg` name of an algorithm as JOSE spells it.
pub fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
    }
}
