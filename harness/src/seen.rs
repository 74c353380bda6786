//! What reached the harness's own authorization server from a client under test (client
//! mode): each request to its endpoints, as the judges of clients read them. The server
//! records these; [`crate::checks::client`] judges them. No I/O here.

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
}
