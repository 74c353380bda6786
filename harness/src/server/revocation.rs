//! `POST /revoke` (RFC 7009): a client revokes one of its tokens. A refresh token takes its
//! grant's other tokens with it (§2.1); an access token goes alone.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::config::RegisteredClient;
use super::pages::{Reply, done, invalid_client, oauth_error};
use super::state::{App, Store};
use super::tls::PeerCert;
use super::token::authenticate_client;
use crate::defect::Defect;
use crate::params::Params;

/// Which table a token was found in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Access,
    Refresh,
}

/// `POST /revoke`.
pub(super) async fn revoke(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<PeerCert>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::parse(&String::from_utf8_lossy(&body));
    done(handle(&app, &headers, &p, &peer))
}

fn handle(app: &App, headers: &HeaderMap, p: &Params, peer: &PeerCert) -> Reply {
    let client = client(app, headers, p, peer)?;
    let Some(token) = p.get("token").filter(|t| !t.is_empty()) else {
        return Err(oauth_error(app, "invalid_request", "token is missing"));
    };
    let hint = p.get("token_type_hint");
    let found = find(app, &app.store(), token, hint);
    let Some((kind, owner, family)) = found else {
        if app.has(Defect::RevocationUnknownTokenError) {
            return Err(oauth_error(app, "invalid_request", "unknown token"));
        }
        // §2.2: an invalid token is answered as a revoked one.
        return Ok(revoked());
    };
    if owner != client.client_id && !app.has(Defect::RevokesOtherClientsTokens) {
        return Err(oauth_error(
            app,
            "invalid_request",
            "the token was issued to another client",
        ));
    }
    if app.has(Defect::RevocationIgnored) {
        return Ok(revoked());
    }
    let mut store = app.store();
    match kind {
        Kind::Access => {
            if !app.has(Defect::AccessTokenRevocationIgnored)
                && let Some(a) = store.access_tokens.get_mut(token)
            {
                a.active = false;
            }
        }
        Kind::Refresh => {
            for r in store
                .refresh_tokens
                .values_mut()
                .filter(|r| r.family == family)
            {
                r.active = false;
            }
            if !app.has(Defect::RefreshRevocationKeepsAccessTokens) {
                for a in store
                    .access_tokens
                    .values_mut()
                    .filter(|a| a.family == family)
                {
                    a.active = false;
                }
            }
        }
    }
    drop(store);
    Ok(revoked())
}

/// The client asking: authenticated as at the token endpoint, or with the
/// `revocation-unauthenticated` defect taken at its word when it sends no credentials.
fn client(
    app: &App,
    headers: &HeaderMap,
    p: &Params,
    peer: &PeerCert,
) -> Result<RegisteredClient, Response> {
    let no_credentials = headers.get(header::AUTHORIZATION).is_none()
        && p.get("client_secret").is_none()
        && p.get("client_assertion").is_none();
    if app.has(Defect::RevocationUnauthenticated) && no_credentials {
        return p
            .get("client_id")
            .and_then(|id| app.client(id))
            .ok_or_else(|| invalid_client(app, false, "unknown client"));
    }
    authenticate_client(app, headers, p, peer)
}

/// The token, looked for under its hint first and then (§2.1: the server MUST extend its search)
/// under every other type, unless the `revocation-trusts-hint` defect stops at the hint.
fn find(app: &App, store: &Store, token: &str, hint: Option<&str>) -> Option<(Kind, String, u64)> {
    let order = match hint {
        Some("refresh_token") => [Kind::Refresh, Kind::Access],
        _ => [Kind::Access, Kind::Refresh],
    };
    let searched = if hint.is_some() && app.has(Defect::RevocationTrustsHint) {
        &order[..1]
    } else {
        &order[..]
    };
    searched.iter().find_map(|kind| match kind {
        Kind::Access => store
            .access_tokens
            .get(token)
            .map(|a| (Kind::Access, a.client_id.clone(), a.family)),
        Kind::Refresh => store
            .refresh_tokens
            .get(token)
            .map(|r| (Kind::Refresh, r.client_id.clone(), r.family)),
    })
}

/// §2.2: 200, and the body is ignored.
fn revoked() -> Response {
    let mut r = Response::new(axum::body::Body::empty());
    *r.status_mut() = StatusCode::OK;
    r
}
