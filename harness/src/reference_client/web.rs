//! The `http` driver's protocol: the reference client as a web app (`reference-client --serve`),
//! the shape of a server-side client. It listens where its redirect URI points; `GET /login`
//! begins a login, kept under a cookie, and sends the browser to the server; the redirect URI's
//! path finishes it and answers `200 Signed in` or `403 Refused: why`. With the
//! `retries-on-error` defect an error answer sends the browser to `/login` again: the loop a
//! real app falls into when it treats every failure as "not signed in yet".

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use url::Url;

use super::flow::{Begun, Client, ClientError, setup};
use crate::client_defect::ClientDefect;
use crate::params::Params;

/// The cookie that names a login in progress (not the harness server's session cookie).
const COOKIE: &str = "reference_client_login";

struct App {
    client: Client,
    /// Logins begun and not yet finished, by cookie value.
    begun: Mutex<HashMap<String, Begun>>,
}

/// Serves the web app until the process is stopped; `Err` when it cannot start.
pub async fn serve(defects: &BTreeSet<ClientDefect>) -> Result<(), ClientError> {
    let client = Client::new(defects.clone()).await?;
    let redirect = Url::parse(&client.settings.redirect_uri).map_err(setup)?;
    let addr = redirect
        .socket_addrs(|| None)
        .map_err(setup)?
        .into_iter()
        .next()
        .ok_or_else(|| setup("the redirect URI has no address to listen on"))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| setup(format!("cannot listen on {addr}: {e}")))?;
    let app = Arc::new(App {
        client,
        begun: Mutex::default(),
    });
    let router = Router::new()
        .route("/login", get(login))
        .route(redirect.path(), get(callback))
        .with_state(app);
    axum::serve(listener, router).await.map_err(setup)
}

impl App {
    fn begun(&self) -> std::sync::MutexGuard<'_, HashMap<String, Begun>> {
        self.begun
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

async fn login(State(app): State<Arc<App>>) -> Response {
    let (begun, id) = match (app.client.begin().await, super::flow::random_text(22)) {
        (Ok(b), Ok(id)) => (b, id),
        (Err(e), _) | (_, Err(e)) => return page(StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    let to = begun.url.to_string();
    app.begun().insert(id.clone(), begun);
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, to),
            (
                header::SET_COOKIE,
                format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax"),
            ),
        ],
    )
        .into_response()
}

async fn callback(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let back = query.as_deref().map(Params::parse).unwrap_or_default();
    if back.get("error").is_some() && app.client.has(ClientDefect::RetriesOnError) {
        return (StatusCode::FOUND, [(header::LOCATION, "/login")]).into_response();
    }
    let begun = cookie(&headers).and_then(|id| app.begun().remove(&id));
    let Some(begun) = begun else {
        return page(
            StatusCode::BAD_REQUEST,
            &super::flow::refused("no login of this browser is in progress"),
        );
    };
    match app.client.finish(&begun, &back).await {
        Ok(()) => (StatusCode::OK, "Signed in\n").into_response(),
        Err(e) => page(StatusCode::FORBIDDEN, &e),
    }
}

/// The login's end as a page, said on standard error too (where the harness reads reasons).
fn page(status: StatusCode, e: &ClientError) -> Response {
    eprintln!("{e}");
    (status, format!("Refused: {e}\n")).into_response()
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (name, value) = c.trim().split_once('=')?;
            (name == COOKIE).then(|| value.to_owned())
        })
}
