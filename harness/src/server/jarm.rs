//! JWT-secured authorization responses (JARM): asked for `response_mode=jwt` or `query.jwt`,
//! the server sends the response parameters as the claims of one JWT in `response`, signed
//! with its own key, made out by its issuer to the client, valid for a minute (§2.1, §2.4).

use serde_json::{Map, Value, json};

use super::pages::server_error;
use super::state::App;
use crate::defect::Defect;
use axum::response::Response;

/// How long a response JWT is valid: long enough to reach the client, short enough that a
/// leaked one is stale (JARM §2.1 recommends short-lived).
const RESPONSE_SECONDS: u64 = 60;

/// Whether a `response_mode` value asks for a JWT response: no for the query mode (or none),
/// yes for `jwt` and `query.jwt`, and the refusal's words for a mode this server does not answer
/// in (the fragment and form_post modes).
pub(super) fn asks_for_jwt(value: Option<&str>) -> Result<bool, String> {
    match value {
        None | Some("" | "query") => Ok(false),
        Some("jwt" | "query.jwt") => Ok(true),
        Some(other) => Err(format!(
            "response_mode {other} is not supported: use query, jwt or query.jwt"
        )),
    }
}

/// `params` as the response to `client_id`: unchanged unless `jwt`, else one `response`
/// parameter carrying them as claims beside `iss`, `aud` and `exp`, as broken as the
/// switched-on defects make it.
pub(super) fn encode(
    app: &App,
    jwt: bool,
    client_id: &str,
    params: Vec<(String, String)>,
) -> Result<Vec<(String, String)>, Response> {
    let error = params.iter().any(|(k, _)| k == "error");
    if !jwt || (error && app.has(Defect::JarmErrorsPlain)) {
        return Ok(params);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let exp = if app.has(Defect::JarmExpired) {
        now - RESPONSE_SECONDS
    } else {
        now + RESPONSE_SECONDS
    };
    let aud = if app.has(Defect::JarmWrongAudience) {
        app.issuer.as_str()
    } else {
        client_id
    };
    let mut claims: Map<String, Value> = params
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    claims.insert("iss".into(), json!(app.issuer));
    claims.insert("aud".into(), json!(aud));
    claims.insert("exp".into(), json!(exp));
    let claims = Value::Object(claims);
    let jwt = if app.has(Defect::JarmUnsigned) {
        crate::jose::jws::unsigned(&claims)
    } else {
        app.keys
            .id_token
            .sign(&claims, &Map::new())
            .map_err(|e| server_error(&e.to_string()))?
    };
    Ok(vec![("response".to_owned(), jwt)])
}
