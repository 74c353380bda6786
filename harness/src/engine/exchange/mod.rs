//! The exchange layer: "send this protocol request as this client". Every step, control flow,
//! race and ID Token check sends through here, and nothing here knows a step: client
//! authentication with assertions ([`send`]), the DPoP proof of each request and the nonce
//! dance ([`dpop`]), the push of an authorization request (RFC 9126, [`par`]), the tokens
//! a scenario keeps ([`tokens`]), and the server's JWK Set ([`jwks`]).

pub(crate) mod dpop;
pub(crate) mod jwks;
pub(crate) mod par;
pub(crate) mod send;
pub(crate) mod tokens;
