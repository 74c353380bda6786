//! Dynamic client registration requests (RFC 7591 §3.1) and their deletion (RFC 7592 §2.3):
//! for the clients a `register: true` target runs with, and for the `register` step.

use serde_json::{Value, json};
use url::Url;

use crate::wire::{Body, HttpMethod, Request};

/// The client metadata of a registration (RFC 7591 §2): the code grant with refresh tokens,
/// `redirect_uris`, the auth method, and for `private_key_jwt` the public key as `jwks`.
pub fn client_metadata(
    name: &str,
    auth_method: &str,
    redirect_uris: &[&str],
    jwk: Option<Value>,
) -> Value {
    let mut m = json!({
        "client_name": name,
        "redirect_uris": redirect_uris,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": auth_method,
    });
    if let (Some(jwk), Some(o)) = (jwk, m.as_object_mut()) {
        o.insert("jwks".into(), json!({ "keys": [jwk] }));
        o.insert("token_endpoint_auth_signing_alg".into(), json!("ES256"));
    }
    m
}

/// What a client hosts, added to its metadata: its key as `jwks_uri` (in place of `jwks`), a
/// `sector_identifier_uri` (OpenID Connect Registration §2, §5), and `subject_type: pairwise`
/// where the provider lists it.
pub fn hosted(metadata: &mut Value, jwks_uri: Option<&Url>, sector: Option<&Url>, pairwise: bool) {
    let Some(o) = metadata.as_object_mut() else {
        return;
    };
    if let Some(uri) = jwks_uri {
        o.remove("jwks");
        o.insert("jwks_uri".into(), json!(uri.as_str()));
    }
    if let Some(uri) = sector {
        o.insert("sector_identifier_uri".into(), json!(uri.as_str()));
        if pairwise {
            o.insert("subject_type".into(), json!("pairwise"));
        }
    }
}

/// A registration request: the metadata as JSON, with the initial access token (if any) as a
/// bearer token (RFC 7591 §3).
pub fn registration_request(
    endpoint: &Url,
    initial_access_token: Option<&str>,
    metadata: &Value,
) -> Request {
    let mut req = Request::get(endpoint.clone());
    req.method = HttpMethod::Post;
    req.body = Some(Body::Json(metadata.clone()));
    if let Some(token) = initial_access_token {
        req.headers
            .push(("Authorization".into(), format!("Bearer {token}")));
    }
    req
}

/// The deletion of a registered client at its `registration_client_uri`, with its
/// `registration_access_token` (RFC 7592 §2.3).
pub fn deletion_request(client_uri: &Url, registration_access_token: &str) -> Request {
    let mut req = Request::get(client_uri.clone());
    req.method = HttpMethod::Delete;
    req.headers.push((
        "Authorization".into(),
        format!("Bearer {registration_access_token}"),
    ));
    req
}

/// How to delete the client a registration response made: its `registration_client_uri` and
/// `registration_access_token`, if it gave both.
pub fn management(response: &Value) -> Option<(Url, String)> {
    let text = |name: &str| response.get(name).and_then(Value::as_str);
    let uri = Url::parse(text("registration_client_uri")?).ok()?;
    Some((uri, text("registration_access_token")?.to_owned()))
}
