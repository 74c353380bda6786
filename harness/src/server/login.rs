//! The login and consent pages' routes (RFC 6749 §3.1; RFC 9700 §4.12): the plain form's login
//! and the consent decision, handing the other kinds of page to their fixtures in
//! [`super::login_pages`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::config::{LoginPage, PASSWORD, USERNAME};
use super::grant::{deny, issue_code, pending_for};
use super::login_pages::{self, login_form};
use super::pages::{Reply, done, error_page, redirect};
use super::state::App;
use crate::defect::Defect;
use crate::params::Params;

/// `GET /login?tx=`.
pub(super) async fn login_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let tx = tx_of(q.as_deref());
    done(
        pending_for(&app, &headers, &tx).map(|(_, csrf)| match app.login_page {
            LoginPage::Script => login_pages::script_login(&app, &tx, &csrf),
            _ => login_form(&app, &tx, &csrf, ""),
        }),
    )
}

/// `POST /login`.
pub(super) async fn login_submit(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::parse(&String::from_utf8_lossy(&body));
    let tx = p.get("tx").unwrap_or("").to_owned();
    if app.login_page == LoginPage::Script {
        return done(login_pages::script_login_submit(&app, &headers, &p));
    }
    done((|| {
        let (sid, csrf) = pending_for(&app, &headers, &tx)?;
        if p.get("csrf") != Some(csrf.as_str()) {
            return Err(error_page(&app, "CSRF token missing or wrong"));
        }
        if p.get("username") != Some(USERNAME) || p.get("password") != Some(PASSWORD) {
            return Ok(login_form(&app, &tx, &csrf, "Wrong user name or password."));
        }
        app.store().sessions.entry_or_default(sid).sign_in();
        // RFC 9700 §4.12: never 307 after a POST that carried credentials.
        let status = if app.has(Defect::Login307) {
            StatusCode::TEMPORARY_REDIRECT
        } else {
            StatusCode::SEE_OTHER
        };
        Ok(redirect(status, &format!("/consent?tx={tx}"), &[]))
    })())
}

/// The transaction a login or consent page's query names (`tx`); empty when it names none,
/// which no pending request has.
fn tx_of(query: Option<&str>) -> String {
    Params::parse(query.unwrap_or(""))
        .get("tx")
        .unwrap_or("")
        .to_owned()
}

/// `GET /consent?tx=`.
pub(super) async fn consent_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let tx = tx_of(q.as_deref());
    done(consent_form(&app, &headers, &tx))
}

fn consent_form(app: &App, headers: &HeaderMap, tx: &str) -> Reply {
    let (sid, csrf) = pending_for(app, headers, tx)?;
    let store = app.store();
    let since = store.pending.get(tx).and_then(|p| p.login_since);
    if !store
        .sessions
        .get(&sid)
        .is_some_and(|s| s.signed_in_since(since))
    {
        return Ok(redirect(
            StatusCode::SEE_OTHER,
            &format!("/login?tx={tx}"),
            &[],
        ));
    }
    let client = store
        .pending
        .get(tx)
        .map(|p| p.client_id.clone())
        .unwrap_or_default();
    Ok(login_pages::consent(
        app,
        app.login_page,
        &client,
        tx,
        &csrf,
    ))
}

/// `POST /consent`.
pub(super) async fn consent_submit(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::parse(&String::from_utf8_lossy(&body));
    let tx = p.get("tx").unwrap_or("").to_owned();
    done((|| {
        let (sid, csrf) = pending_for(&app, &headers, &tx)?;
        if p.get("csrf") != Some(csrf.as_str()) {
            return Err(error_page(&app, "CSRF token missing or wrong"));
        }
        match p.get("decision") {
            Some("approve")
                if app.login_page == LoginPage::Chooser && !login_pages::chooser_complete(&p) =>
            {
                let client = app
                    .store()
                    .pending
                    .get(&tx)
                    .map(|r| r.client_id.clone())
                    .unwrap_or_default();
                return Ok(login_pages::chooser_consent(
                    &app,
                    &client,
                    &tx,
                    &csrf,
                    "Choose an account and keep your profile shared.",
                ));
            }
            Some("approve") => {}
            Some(_) if !app.has(Defect::ConsentDenialIgnored) => {
                return deny(&app, &tx, StatusCode::SEE_OTHER);
            }
            Some(_) => {}
            // A re-posted login body (after a 307) carries no decision: show the page again.
            None => return consent_form(&app, &headers, &tx),
        }
        {
            let mut store = app.store();
            let client = store
                .pending
                .get(&tx)
                .map(|p| p.client_id.clone())
                .unwrap_or_default();
            store.sessions.entry_or_default(sid).approved.insert(client);
        }
        issue_code(&app, &tx, StatusCode::SEE_OTHER)
    })())
}
