//! Client mode: every request that reaches the server, kept (method, path, query and form
//! parameters) for the judges of the client under test. Outside client mode nothing is kept
//! and the request passes untouched.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::state::App;
use crate::params::Params;
use crate::seen::{Proof, Seen};

/// The most of a body kept and passed on; the server's forms are far smaller.
const MAX_BODY: usize = 256 * 1024;

pub(super) async fn record(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let Some(seen) = &app.seen else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return super::pages::oauth_error(&app, "invalid_request", "the request body is too large");
    };
    let mut params = parts.uri.query().map(Params::parse).unwrap_or_default();
    let in_query = params.iter().map(|(k, _)| k.to_owned()).collect();
    let authorization = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let basic = authorization
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(super::token::decode_basic)
        .map(|(id, _secret)| id);
    let scheme = authorization.and_then(|v| v.split(' ').next().map(str::to_owned));
    let dpop = parts
        .headers
        .get("dpop")
        .and_then(|v| v.to_str().ok())
        .and_then(Proof::read);
    let form = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if form {
        for (k, v) in Params::parse(&String::from_utf8_lossy(&bytes)).iter() {
            params.push(k, v);
        }
    }
    seen.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(Seen {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            params,
            in_query,
            basic,
            scheme,
            dpop,
            url: app.url(parts.uri.path()),
        });
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
