//! What reached the harness's own authorization server from a client under test (client
//! mode): each request to its endpoints, as the judges of clients read them. The server
//! records these; [`crate::checks::client`] judges them. No I/O here.

use serde_json::{Map, Value};

use crate::params::Params;

/// One request a client sent to the harness's server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The method.
    pub method: String,
    /// The path (`/authorize`, `/token`, ...), without query.
    pub path: String,
    /// The query parameters, then a form body's, in order, repeats kept.
    pub params: Params,
    /// The names of the parameters that came in the query string (RFC 6749 §2.3.1: a client's
    /// credentials must not).
    pub in_query: Vec<String>,
    /// The client_id of an HTTP Basic `Authorization` header, decoded (the password, a secret,
    /// is not kept); `None` without one.
    pub basic: Option<String>,
    /// The scheme of the `Authorization` header (`Basic`, `Bearer`, `DPoP`), if there is one.
    pub scheme: Option<String>,
    /// The request's `DPoP` proof, read (not verified: the server does that), if it has one.
    pub dpop: Option<Proof>,
    /// The URL the request was sent to, without query: what a proof's `htu` must be.
    pub url: String,
}

/// A DPoP proof (RFC 9449 §4.2) as a client sent it: its header and claims, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The JOSE header (`typ`, `alg`, `jwk`).
    pub header: Map<String, Value>,
    /// The claims (`jti`, `htm`, `htu`, `iat`, `ath`, `nonce`).
    pub claims: Map<String, Value>,
}

impl Proof {
    /// Reads a compact JWS's header and claims (the JOSE reader's, unverified); `None` if it
    /// is not one.
    pub fn read(compact: &str) -> Option<Self> {
        let jws = crate::jose::Jws::parse(compact).ok()?;
        Some(Self {
            header: jws.header,
            claims: jws.claims,
        })
    }

    /// A string claim.
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

impl Seen {
    /// An authorization request (front channel).
    pub fn is_authorize(&self) -> bool {
        self.path == "/authorize"
    }

    /// A token request.
    pub fn is_token(&self) -> bool {
        self.path == "/token" && self.method == "POST"
    }

    /// A call to the UserInfo endpoint (the protected resource).
    pub fn is_resource(&self) -> bool {
        self.path == "/userinfo"
    }

    /// A pushed authorization request (RFC 9126).
    pub fn is_push(&self) -> bool {
        self.path == "/par" && self.method == "POST"
    }
}
