//! Dynamic client registration (RFC 7591) and its management (RFC 7592): `POST /register`
//! registers a client from its metadata and answers with all of it, a `registration_client_uri`
//! and a `registration_access_token`; `GET` and `DELETE` on that URI read and delete it with
//! the token. Redirect URIs are checked as RFC 6749 §3.1.2 and RFC 9700 §2.1 ask: no fragment,
//! no pattern, plain `http` only on a loopback address.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::config::{IdTokenAlg, RegisteredClient};
use super::pages::{fresh, json as json_response};
use super::state::{App, Registration};
use crate::defect::Defect;
use crate::redact::Secret;
use crate::target::AuthMethod;

/// The methods a client may register (RFC 7591 §2), as the metadata lists them.
const METHODS: &[(&str, AuthMethod)] = &[
    ("none", AuthMethod::None),
    ("client_secret_basic", AuthMethod::ClientSecretBasic),
    ("client_secret_post", AuthMethod::ClientSecretPost),
    ("client_secret_jwt", AuthMethod::ClientSecretJwt),
    ("private_key_jwt", AuthMethod::PrivateKeyJwt),
];

fn refuse(app: &App, error: &str, description: &str) -> Response {
    json_response(
        app,
        StatusCode::BAD_REQUEST,
        &json!({"error": error, "error_description": description}),
        &[],
    )
}

/// `POST /register`.
pub(super) async fn register(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(&body) else {
        return refuse(
            &app,
            "invalid_client_metadata",
            "the body is not a JSON object",
        );
    };
    let uris: Vec<String> = match m.get("redirect_uris").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => {
            return refuse(
                &app,
                "invalid_redirect_uri",
                "redirect_uris is required for the code grant",
            );
        }
    };
    if let Some(why) = uris.iter().find_map(|u| bad_redirect(&app, u)) {
        return refuse(&app, "invalid_redirect_uri", &why);
    }
    let name = m
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
        .unwrap_or("client_secret_basic");
    let method = match METHODS.iter().find(|(n, _)| *n == name) {
        Some((_, method)) => *method,
        None if app.has(Defect::RegistrationAuthMethodUnchecked) => AuthMethod::ClientSecretBasic,
        None => {
            return refuse(
                &app,
                "invalid_client_metadata",
                &format!("token_endpoint_auth_method {name} is not supported"),
            );
        }
    };
    let sector_uri = m.get("sector_identifier_uri").and_then(Value::as_str);
    if let Some(sector) = sector_uri
        && let Err(why) = sector_lists(&app, sector, &uris).await
    {
        return refuse(&app, "invalid_client_metadata", &why);
    }
    // OpenID Connect Core §8.1: the sector is the sector_identifier_uri's host, else the
    // redirect URI's.
    let pairwise_sector = match m.get("subject_type").and_then(Value::as_str) {
        None | Some("public") => None,
        Some("pairwise") => sector_uri
            .or(uris.first().map(String::as_str))
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| u.host_str().map(str::to_owned)),
        Some(other) => {
            return refuse(
                &app,
                "invalid_client_metadata",
                &format!("subject_type {other} is not supported (public, pairwise)"),
            );
        }
    };
    let id_token_alg = match m
        .get("id_token_signed_response_alg")
        .and_then(Value::as_str)
    {
        Some("ES256") => IdTokenAlg::Es256,
        None | Some("RS256") if super::oidc::offers_rs256(&app) => IdTokenAlg::Rs256,
        None => IdTokenAlg::Es256,
        Some(other) => {
            return refuse(
                &app,
                "invalid_client_metadata",
                &format!(
                    "id_token_signed_response_alg {other} is not supported ({})",
                    super::oidc::id_token_algs(&app).join(", ")
                ),
            );
        }
    };
    let jwks_uri = m.get("jwks_uri").and_then(Value::as_str).map(str::to_owned);
    let inline = m
        .get("jwks")
        .and_then(|j| j.get("keys"))
        .and_then(Value::as_array)
        .and_then(|keys| keys.first())
        .cloned();
    let jwk = match (inline, &jwks_uri) {
        (Some(jwk), _) => Some(jwk),
        (None, Some(uri)) => match client_key_at(uri, None).await {
            Ok(_) if app.has(Defect::JwksUriKeysUnused) => None,
            Ok(jwk) => Some(jwk),
            Err(why) => return refuse(&app, "invalid_client_metadata", &why),
        },
        (None, None) => None,
    };
    if method == AuthMethod::PrivateKeyJwt && jwk.is_none() && jwks_uri.is_none() {
        return refuse(
            &app,
            "invalid_client_metadata",
            "private_key_jwt needs jwks or a jwks_uri with the client's public key",
        );
    }
    let (Ok(id), Ok(secret), Ok(token)) = (fresh(), fresh(), fresh()) else {
        return super::pages::server_error("no entropy");
    };
    let client = RegisteredClient {
        client_id: format!("dyn-{id}"),
        secret: matches!(
            method,
            AuthMethod::ClientSecretBasic
                | AuthMethod::ClientSecretPost
                | AuthMethod::ClientSecretJwt
        )
        .then(|| Secret::new(secret)),
        auth_method: method,
        redirect_uri: uris[0].clone(),
        more_redirect_uris: uris[1..].to_vec(),
        jwk,
        private_key: None,
        tls_thumbprint: None,
        jwks_uri,
        pairwise_sector,
        id_token_alg,
        require_signed_request_object: m
            .get("require_signed_request_object")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    };
    let mut answer = described(&app, &client, &m);
    if let Some(o) = answer.as_object_mut() {
        o.insert("registration_access_token".into(), json!(token));
    }
    app.store().registered.insert(
        client.client_id.clone(),
        Registration {
            client,
            access_token: token,
        },
    );
    json_response(&app, StatusCode::CREATED, &answer, &[])
}

/// OpenID Connect Registration §5: the `sector_identifier_uri` serves a JSON array that holds
/// every redirect URI registered; why not, if not.
async fn sector_lists(app: &App, sector: &str, uris: &[String]) -> Result<(), String> {
    if app.has(Defect::SectorUriUnchecked) {
        return Ok(());
    }
    let body = super::fetch::fetch(sector).await?;
    let listed: Vec<String> = serde_json::from_str(&body)
        .map_err(|_| format!("{sector} does not serve a JSON array of URIs"))?;
    let held = if app.has(Defect::SectorUriListMustEqual) {
        listed.len() == uris.len() && uris.iter().all(|u| listed.contains(u))
    } else {
        uris.iter().all(|u| listed.contains(u))
    };
    if held {
        Ok(())
    } else {
        Err(format!(
            "the redirect URIs are not all listed at the sector_identifier_uri {sector} (OpenID Connect Registration §5)"
        ))
    }
}

/// The key of the JWK Set at `uri` with `kid` (the first without one).
async fn client_key_at(uri: &str, kid: Option<&str>) -> Result<Value, String> {
    let body = super::fetch::fetch(uri).await?;
    let set: Value =
        serde_json::from_str(&body).map_err(|_| format!("{uri} does not serve a JWK Set"))?;
    let keys = set
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{uri} serves no keys"))?;
    keys.iter()
        .find(|k| kid.is_none_or(|kid| k.get("kid").and_then(Value::as_str) == Some(kid)))
        .cloned()
        .ok_or_else(|| format!("{uri} serves no key {}", kid.unwrap_or_default()))
}

/// OpenID Connect Core §10.1.1: a client assertion whose `kid` is not the key the server holds
/// for a client registered with a `jwks_uri` makes it fetch the client's JWK Set again, before
/// the assertion is verified (with what it then holds).
pub(super) async fn keys_for_assertion(app: &App, assertion: Option<&str>) {
    let Some(assertion) = assertion else {
        return;
    };
    let part = |i: usize| {
        assertion
            .split('.')
            .nth(i)
            .and_then(crate::jose::unb64)
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    };
    let (Some(header), Some(claims)) = (part(0), part(1)) else {
        return;
    };
    let Some(kid) = header.get("kid").and_then(Value::as_str) else {
        return;
    };
    let Some(sub) = claims.get("sub").and_then(Value::as_str) else {
        return;
    };
    let uri = {
        let store = app.store();
        let Some(r) = store.registered.get(sub) else {
            return;
        };
        let held = r
            .client
            .jwk
            .as_ref()
            .and_then(|j| j.get("kid"))
            .and_then(Value::as_str);
        match &r.client.jwks_uri {
            Some(uri)
                if held != Some(kid)
                    && !app.has(Defect::ClientJwksNotRefetched)
                    && !app.has(Defect::JwksUriKeysUnused) =>
            {
                uri.clone()
            }
            _ => return,
        }
    };
    if let Ok(jwk) = client_key_at(&uri, Some(kid)).await
        && let Some(r) = app.store().registered.get_mut(sub)
    {
        r.client.jwk = Some(jwk);
    }
}

/// Why a redirect URI cannot be registered, if it cannot.
fn bad_redirect(app: &App, uri: &str) -> Option<String> {
    let Ok(url) = url::Url::parse(uri) else {
        return Some(format!("{uri:?} is not an absolute URL"));
    };
    if url.fragment().is_some() && !app.has(Defect::RegistrationFragmentAccepted) {
        return Some("a redirect URI has no fragment (RFC 6749 §3.1.2)".into());
    }
    if uri.contains('*') && !app.has(Defect::RegistrationWildcardMatched) {
        return Some("redirect URIs are matched exactly: no wildcards (RFC 9700 §2.1)".into());
    }
    let loopback = matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
    if url.scheme() == "http" && !loopback && !app.has(Defect::RegistrationPlainHttpAccepted) {
        return Some("plain http only on a loopback address (RFC 8252 §7.3): use https".into());
    }
    None
}

/// All the registered metadata (RFC 7591 §3.2.1): what was sent, with the values the server
/// set, and the management URI.
fn described(app: &App, c: &RegisteredClient, sent: &serde_json::Map<String, Value>) -> Value {
    let mut out = sent.clone();
    let uris: Vec<&String> = std::iter::once(&c.redirect_uri)
        .chain(&c.more_redirect_uris)
        .collect();
    out.insert("client_id".into(), json!(c.client_id));
    out.insert("client_id_issued_at".into(), json!(0));
    out.insert("redirect_uris".into(), json!(uris));
    out.insert(
        "token_endpoint_auth_method".into(),
        json!(c.auth_method.as_str()),
    );
    if let Some(s) = &c.secret {
        out.insert("client_secret".into(), json!(s.expose()));
        out.insert("client_secret_expires_at".into(), json!(0));
    }
    out.insert(
        "registration_client_uri".into(),
        json!(app.url(&format!("/register/{}", c.client_id))),
    );
    if app.has(Defect::RegistrationMetadataOmitted) {
        out.remove("redirect_uris");
        out.remove("token_endpoint_auth_method");
    }
    Value::Object(out)
}

/// The registration the bearer token of `headers` manages, or the refusal (RFC 7592 §2).
fn managed(app: &App, headers: &HeaderMap, client_id: &str) -> Result<RegisteredClient, Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let store = app.store();
    match (store.registered.get(client_id), token) {
        (Some(r), Some(t)) if r.access_token == t => Ok(r.client.clone()),
        _ => Err(json_response(
            app,
            StatusCode::UNAUTHORIZED,
            &json!({"error": "invalid_token", "error_description": "unknown client or wrong registration access token"}),
            &[(
                header::WWW_AUTHENTICATE,
                "Bearer error=\"invalid_token\"".to_owned(),
            )],
        )),
    }
}

/// `GET /register/{client_id}` (RFC 7592 §2.1).
pub(super) async fn read(
    State(app): State<Arc<App>>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match managed(&app, &headers, &client_id) {
        Ok(c) => json_response(
            &app,
            StatusCode::OK,
            &described(&app, &c, &serde_json::Map::new()),
            &[],
        ),
        Err(refused) => refused,
    }
}

/// `DELETE /register/{client_id}` (RFC 7592 §2.3).
pub(super) async fn delete(
    State(app): State<Arc<App>>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match managed(&app, &headers, &client_id) {
        Ok(_) => {
            app.store().registered.remove(&client_id);
            let mut r = Response::new(axum::body::Body::empty());
            *r.status_mut() = StatusCode::NO_CONTENT;
            r
        }
        Err(refused) => refused,
    }
}
