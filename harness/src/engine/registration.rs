//! Dynamic client registration for a target file that says `register: true` (RFC 7591): the
//! harness registers the three clients the scenarios use at the metadata's
//! `registration_endpoint` before the run, and deletes them after it (RFC 7592) where the server
//! gave each a `registration_client_uri` and a `registration_access_token`.
//!
//! The endpoint is one the metadata names, so it must be on an origin the target file trusts
//! (the initial access token goes there); every secret the server issues (client secrets,
//! registration access tokens) joins the run's secrets before anything is recorded.

use serde_json::Value;
use url::Url;

use super::context::{Registered, ResolveError};
use super::http::HttpClient;
use super::request as build;
use crate::jose::{Algorithm, SigningKey};
use crate::redact::Secret;
use crate::target::{
    AuthMethod, ClientConfig, Clients, ConfigSecret, OriginPolicy, RedirectUri, RegisteredAuth,
    TargetFile,
};

/// Where registered clients are sent back to, unless the file says otherwise: a loopback
/// address the harness never listens on (it reads the redirect).
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:8765/callback";

/// Registers the clients of `file` (which names none) and puts them in it, their secrets among
/// the file's secrets. Returns how to delete each.
pub(super) async fn register(
    http: &HttpClient,
    file: &mut TargetFile,
    metadata: Option<&Value>,
) -> Result<Vec<Registered>, ResolveError> {
    let endpoint = metadata
        .and_then(|m| m.get("registration_endpoint"))
        .and_then(Value::as_str)
        .ok_or_else(|| ResolveError::Registration {
            client: "any",
            why: "the metadata has no registration_endpoint (RFC 8414 §2): register: true needs one; name the clients instead".into(),
        })?;
    let endpoint = Url::parse(endpoint).map_err(|e| ResolveError::Registration {
        client: "any",
        why: format!("the registration_endpoint is not a URL: {e}"),
    })?;
    let origins = OriginPolicy::of(file);
    if !origins.allows(&endpoint) {
        return Err(ResolveError::ForeignOrigin {
            key: "registration_endpoint",
            endpoint: crate::wire::without_query(&endpoint),
            allowed: origins.describe(),
            hint: String::new(),
        });
    }
    let redirect = file
        .registration
        .redirect_uri
        .as_ref()
        .map(|r| r.0.clone())
        .map_or_else(|| Url::parse(DEFAULT_REDIRECT_URI), Ok)
        .map_err(|e| ResolveError::Registration {
            client: "any",
            why: e.to_string(),
        })?;
    // A second redirect URI for the client that must name one (RFC 6749 §3.1.2.3).
    let mut second = redirect.clone();
    second.set_path(&format!("{}-2", redirect.path().trim_end_matches('/')));
    let iat = file
        .registration
        .initial_access_token
        .as_ref()
        .map(|t| t.0.expose().to_owned());
    let keys = file.registration.confidential == RegisteredAuth::PrivateKeyJwt;
    let plan = [
        ("public", AuthMethod::None, vec![redirect.clone()]),
        (
            "confidential",
            if keys {
                AuthMethod::PrivateKeyJwt
            } else {
                AuthMethod::ClientSecretBasic
            },
            vec![redirect.clone()],
        ),
        (
            "confidential2",
            if keys {
                AuthMethod::PrivateKeyJwt
            } else {
                AuthMethod::ClientSecretPost
            },
            vec![redirect.clone(), second],
        ),
    ];
    let mut made = Vec::new();
    let mut registered = Vec::new();
    for (client, method, uris) in plan {
        let key = match method {
            AuthMethod::PrivateKeyJwt => Some(fresh_key(client)?),
            _ => None,
        };
        let names: Vec<&str> = uris.iter().map(Url::as_str).collect();
        let mut metadata = build::client_metadata(
            &format!("pkce-harness {client}"),
            method.as_str(),
            &names,
            key.as_ref().and_then(SigningKey::public_jwk),
        );
        // The public client on a loopback redirect URI is a native app (RFC 8252 §7.3: any
        // port), as OpenID Connect Dynamic Registration §2 says with `application_type`.
        if let (AuthMethod::None, true, Some(o)) = (
            method,
            super::job::is_loopback(&redirect),
            metadata.as_object_mut(),
        ) {
            o.insert("application_type".into(), Value::from("native"));
        }
        let request = build::registration_request(&endpoint, iat.as_deref(), &metadata);
        let resp = http
            .send(&request)
            .await
            .map_err(|e| ResolveError::Registration {
                client,
                why: format!("POST {}: {e}", crate::wire::without_query(&endpoint)),
            })?;
        let body = resp
            .json()
            .filter(|_| resp.status == 201 || resp.status == 200);
        let Some(body) = body else {
            return Err(ResolveError::Registration {
                client,
                why: format!(
                    "the registration endpoint answered HTTP {}: {}",
                    resp.status,
                    crate::checks::preview(&resp.body)
                ),
            });
        };
        let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
        let client_id = text("client_id").ok_or_else(|| ResolveError::Registration {
            client,
            why: "the registration response has no client_id (RFC 7591 §3.2.1)".into(),
        })?;
        let secret = text("client_secret");
        let secret_method = matches!(
            method,
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
        );
        if secret_method && secret.is_none() {
            return Err(ResolveError::Registration {
                client,
                why: format!(
                    "registered with {} but the response has no client_secret (RFC 7591 §3.2.1)",
                    method.as_str()
                ),
            });
        }
        for s in [&secret, &text("registration_access_token")]
            .into_iter()
            .flatten()
        {
            file.env_secrets.push(Secret::new(s.clone()));
        }
        let (uri, token) = build::management(&body).unzip();
        registered.push(Registered {
            client_id: client_id.clone(),
            uri,
            token: token.map(Secret::new),
        });
        made.push(ClientConfig {
            client_secret: secret.map(|s| ConfigSecret(Secret::new(s))),
            several_redirect_uris: uris.len() > 1,
            signing_key: key.map(std::sync::Arc::new),
            ..ClientConfig::made(client_id, method, RedirectUri(redirect.clone()))
        });
    }
    let mut made = made.into_iter();
    let (Some(public), Some(confidential), confidential2) = (made.next(), made.next(), made.next())
    else {
        unreachable!("three clients were planned");
    };
    file.clients = Some(Clients {
        public,
        confidential,
        confidential2,
    });
    Ok(registered)
}

fn fresh_key(client: &'static str) -> Result<SigningKey, ResolveError> {
    SigningKey::generate(Algorithm::ES256)
        .map(|(key, _pem)| key)
        .map_err(|e| ResolveError::Registration {
            client,
            why: format!("no key for private_key_jwt: {e}"),
        })
}

/// Deletes the clients a run registered (RFC 7592 §2.3), and says what became of each: deleted,
/// or why not (no management URI, one on an origin the target file does not name, a refusal,
/// no answer). The server chose each URI, so the token goes there only on an allowed origin.
pub async fn unregister(
    http: &HttpClient,
    registered: &[Registered],
    origins: &OriginPolicy,
) -> Vec<String> {
    let mut notes = Vec::new();
    for r in registered {
        let (Some(uri), Some(token)) = (&r.uri, &r.token) else {
            notes.push(format!(
                "client {} stays registered: the server gave no registration_client_uri and registration_access_token to delete it with (RFC 7592)",
                r.client_id
            ));
            continue;
        };
        if !origins.allows(uri) {
            notes.push(format!(
                "client {} stays registered: its registration_client_uri {} is on an origin the target file does not name ({}), so its token is not sent there",
                r.client_id,
                crate::wire::without_query(uri),
                origins.describe()
            ));
            continue;
        }
        match http
            .send(&build::deletion_request(uri, token.expose()))
            .await
        {
            Ok(resp) if resp.status == 204 || resp.status == 200 => {
                notes.push(format!("client {} deleted", r.client_id));
            }
            Ok(resp) => notes.push(format!(
                "client {} stays registered: DELETE {} answered HTTP {}",
                r.client_id,
                crate::wire::without_query(uri),
                resp.status
            )),
            Err(e) => notes.push(format!("client {} stays registered: {e}", r.client_id)),
        }
    }
    notes
}
