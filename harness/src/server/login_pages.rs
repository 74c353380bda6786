//! Login pages of other kinds than the plain HTML form, each a fixture for one login driver:
//! the OAuth behaviour behind them is the reference server's, so a whole-library run through
//! any of them must pass, and only the login differs.
//!
//! - [`LoginPage::Script`]: the login form exists only once script has rendered it, and it is
//!   posted by `fetch` with a value the script computes; only a browser gets through.
//! - [`LoginPage::Api`]: a JavaScript application with no form at all. It logs in by `POST`ing
//!   JSON credentials to `/app/api/session`, grants consent with a JSON `PUT` to
//!   `/app/api/clients/{client_id}/consent` (CSRF token in a header, from the session call), and
//!   continues by fetching the `return_to` URL of the login page's query string with the
//!   consent call's `ticket` added. The scripted driver replays that; a browser runs it.
//! - [`LoginPage::Chooser`]: the plain login form, and a consent form with an account
//!   `<select>`, a pre-checked box and a hidden value with a named character reference, all of
//!   which the server requires back; the form driver must read them as a browser does.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::config::{LoginPage, PASSWORD, USERNAME};
use super::grant::{issue_code, pending_for};
use super::pages::{Reply, done, error_page, esc, fresh, page, redirect};
use super::state::App;
use crate::params::Params;

/// The value the script computes from the CSRF token (reversed): a plain form post cannot know it.
fn proof(csrf: &str) -> String {
    csrf.chars().rev().collect()
}

/// The login page of [`LoginPage::Script`]: no form in the HTML.
pub(super) fn script_login(app: &App, tx: &str, csrf: &str) -> Response {
    let data = serde_json::json!({ "tx": tx, "csrf": csrf }).to_string();
    let body = format!(
        r#"<div id="login">Loading…</div>
<script>
const d = {data};
const root = document.getElementById('login');
root.innerHTML = '<label>User <input name="username" autocomplete="username"></label>'
  + '<label>Password <input type="password" name="password"></label>'
  + '<button id="go">Sign in</button><p id="msg"></p>';
document.getElementById('go').addEventListener('click', async () => {{
  const v = n => root.querySelector('[name=' + n + ']').value;
  const r = await fetch('/login', {{
    method: 'POST',
    headers: {{'Content-Type': 'application/x-www-form-urlencoded', 'X-Requested-With': 'fetch'}},
    body: new URLSearchParams({{tx: d.tx, csrf: d.csrf, username: v('username'), password: v('password'),
      proof: d.csrf.split('').reverse().join('')}}),
  }});
  const j = await r.json();
  if (j.next) {{ location.href = j.next; }} else {{ document.getElementById('msg').textContent = j.error; }}
}});
</script>"#,
        data = data.replace("</", "<\\/")
    );
    page(app, StatusCode::OK, "Sign in", &body, &[])
}

/// `POST /login` of [`LoginPage::Script`]: only what the script sends is accepted.
pub(super) fn script_login_submit(app: &App, headers: &HeaderMap, p: &Params) -> Reply {
    let json = |status: StatusCode, v: serde_json::Value| {
        let mut r = Response::new(axum::body::Body::from(v.to_string()));
        *r.status_mut() = status;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        r
    };
    let tx = p.get("tx").unwrap_or("");
    let (sid, csrf) = pending_for(app, headers, tx)?;
    let from_script = headers
        .get("x-requested-with")
        .is_some_and(|v| v.as_bytes() == b"fetch");
    if !from_script || p.get("csrf") != Some(csrf.as_str()) || p.get("proof") != Some(&proof(&csrf))
    {
        return Err(json(
            StatusCode::FORBIDDEN,
            serde_json::json!({"error": "this page signs in with JavaScript"}),
        ));
    }
    if p.get("username") != Some(USERNAME) || p.get("password") != Some(PASSWORD) {
        return Ok(json(
            StatusCode::OK,
            serde_json::json!({"error": "Wrong user name or password."}),
        ));
    }
    app.store().sessions.entry_or_default(sid).sign_in();
    Ok(json(
        StatusCode::OK,
        serde_json::json!({"next": format!("/consent?tx={tx}")}),
    ))
}

/// Where [`LoginPage::Api`] sends the browser from the authorization endpoint.
pub(super) fn api_entry(tx: &str) -> String {
    let return_to: String =
        url::form_urlencoded::byte_serialize(format!("/app/continue?tx={tx}").as_bytes()).collect();
    format!("/app/login?tx={tx}&return_to={return_to}")
}

/// `GET /app/login`: the application shell, no form.
pub(super) async fn app_shell(State(app): State<Arc<App>>) -> Response {
    page(
        &app,
        StatusCode::OK,
        "Sign in",
        r#"<div id="app">Loading…</div><script src="/app/app.js"></script>"#,
        &[],
    )
}

/// `GET /app/app.js`: renders a form and drives the API, so a browser gets through too.
pub(super) async fn app_script() -> Response {
    const SCRIPT: &str = r#"const q = new URLSearchParams(location.search);
const app = document.getElementById('app');
app.innerHTML = '<label>Email <input type="email" id="user"></label>'
  + '<label>Password <input type="password" id="pass"></label>'
  + '<button id="go">Continue</button><p id="msg"></p>';
const api = async (method, path, body, headers) => {
  const r = await fetch(path, {method, headers: Object.assign({'Content-Type': 'application/json'}, headers || {}), body: JSON.stringify(body)});
  return [r.status, await r.json()];
};
document.getElementById('go').addEventListener('click', async () => {
  const [s1, j1] = await api('POST', '/app/api/session', {username: document.getElementById('user').value, password: document.getElementById('pass').value, tx: q.get('tx')});
  if (s1 !== 200) { document.getElementById('msg').textContent = j1.error; return; }
  app.innerHTML = '<p>Allow access?</p><button id="allow">Allow</button>';
  document.getElementById('allow').addEventListener('click', async () => {
    const [s2, j2] = await api('PUT', '/app/api/clients/' + encodeURIComponent(j1.client_id) + '/consent', {tx: q.get('tx'), approve: true}, {'X-CSRF-Token': j1.csrf});
    if (s2 !== 200) { app.textContent = j2.error; return; }
    const next = new URL(q.get('return_to'), location.href);
    next.searchParams.set('ticket', j2.ticket);
    location.href = next.toString();
  });
});
"#;
    let mut r = Response::new(axum::body::Body::from(SCRIPT));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    r
}

fn api_reply(status: StatusCode, v: &serde_json::Value) -> Response {
    let mut r = Response::new(axum::body::Body::from(v.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

fn api_error(status: StatusCode, message: &str) -> Response {
    api_reply(status, &serde_json::json!({ "error": message }))
}

fn json_body(body: &Bytes) -> Result<serde_json::Value, Response> {
    serde_json::from_slice(body)
        .map_err(|_| api_error(StatusCode::BAD_REQUEST, "the body must be JSON"))
}

/// `POST /app/api/session` `{username, password, tx}`: signs the session in; answers the
/// CSRF token the consent call needs and the client asking.
pub(super) async fn api_session(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    done((|| {
        let v = json_body(&body)?;
        let field = |n: &str| v.get(n).and_then(|x| x.as_str()).unwrap_or_default();
        let (sid, csrf) = pending_for(&app, &headers, field("tx"))
            .map_err(|_| api_error(StatusCode::BAD_REQUEST, "unknown authorization request"))?;
        if field("username") != USERNAME || field("password") != PASSWORD {
            return Err(api_error(
                StatusCode::UNAUTHORIZED,
                "wrong user name or password",
            ));
        }
        let mut store = app.store();
        store.sessions.entry_or_default(sid).sign_in();
        let client_id = store
            .pending
            .get(field("tx"))
            .map(|p| p.client_id.clone())
            .unwrap_or_default();
        Ok(api_reply(
            StatusCode::OK,
            &serde_json::json!({ "csrf": csrf, "client_id": client_id }),
        ))
    })())
}

/// `PUT /app/api/clients/{client_id}/consent` `{tx, approve}` with `X-CSRF-Token`: records
/// the consent and answers the ticket that continues the request.
pub(super) async fn api_consent(
    State(app): State<Arc<App>>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    done((|| {
        let v = json_body(&body)?;
        let tx = v.get("tx").and_then(|x| x.as_str()).unwrap_or_default();
        let (sid, csrf) = pending_for(&app, &headers, tx)
            .map_err(|_| api_error(StatusCode::BAD_REQUEST, "unknown authorization request"))?;
        if headers.get("x-csrf-token").map(|h| h.as_bytes()) != Some(csrf.as_bytes()) {
            return Err(api_error(
                StatusCode::FORBIDDEN,
                "CSRF token missing or wrong",
            ));
        }
        if v.get("approve") != Some(&serde_json::Value::Bool(true)) {
            return Err(api_error(StatusCode::BAD_REQUEST, "approve must be true"));
        }
        let ticket = fresh()?;
        let mut store = app.store();
        if store
            .sessions
            .get(&sid)
            .and_then(|s| s.user.as_ref())
            .is_none()
        {
            return Err(api_error(StatusCode::UNAUTHORIZED, "not signed in"));
        }
        match store.pending.get_mut(tx) {
            Some(p) if p.client_id == client_id => p.ticket = Some(ticket.clone()),
            _ => {
                return Err(api_error(
                    StatusCode::NOT_FOUND,
                    "no such request for this client",
                ));
            }
        }
        store
            .sessions
            .entry_or_default(sid)
            .approved
            .insert(client_id);
        Ok(api_reply(
            StatusCode::OK,
            &serde_json::json!({ "ticket": ticket }),
        ))
    })())
}

/// `GET /app/continue?tx=&ticket=`: ends the request with a code when the ticket is the one
/// the consent call answered.
pub(super) async fn api_continue(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::parse(q.as_deref().unwrap_or(""));
    let tx = p.get("tx").unwrap_or("").to_owned();
    done((|| {
        pending_for(&app, &headers, &tx)?;
        let expected = app.store().pending.get(&tx).and_then(|r| r.ticket.clone());
        if expected.is_none() || p.get("ticket") != expected.as_deref() {
            return Err(error_page(&app, "the consent ticket is missing or wrong"));
        }
        issue_code(&app, &tx, StatusCode::SEE_OTHER)
    })())
}

/// The consent form of [`LoginPage::Chooser`].
pub(super) fn chooser_consent(
    app: &App,
    client: &str,
    tx: &str,
    csrf: &str,
    message: &str,
) -> Response {
    let body = format!(
        "<p>{}</p><p>Allow {} to access your account?</p>\
         <form method=\"get\" action=\"/search\" id=\"search\"><input name=\"q\"><button>Search</button></form>\
         <form method=\"post\" action=\"/consent\" id=\"consent\">\
         <input type=\"hidden\" name=\"tx\" value=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <input type=\"hidden\" name=\"purpose\" value=\"caf&eacute; &ndash; sign&#x2011;in\">\
         <label>Account <select name=\"account\"><option value=\"personal\">Personal</option>\
         <option value=\"work\" selected>Work</option></select></label>\
         <label><input type=\"checkbox\" name=\"share_profile\" value=\"yes\" checked> Share my profile</label>\
         <label><input type=\"checkbox\" name=\"newsletter\" value=\"yes\"> Newsletter</label>\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
        esc(message),
        esc(client),
        esc(tx),
        esc(csrf)
    );
    page(app, StatusCode::OK, "Consent", &body, &[])
}

/// Whether a [`LoginPage::Chooser`] consent post carries what its form holds, as a browser
/// would send it.
pub(super) fn chooser_complete(p: &Params) -> bool {
    matches!(p.get("account"), Some("work" | "personal"))
        && p.get("share_profile") == Some("yes")
        && p.get("newsletter").is_none()
        && p.get("purpose") == Some("café – sign\u{2011}in")
}

/// The redirect to the login page of `style` for `tx`.
pub(super) fn login_redirect(
    style: LoginPage,
    tx: &str,
    cookie: &[(header::HeaderName, String)],
) -> Response {
    let to = match style {
        LoginPage::Api => api_entry(tx),
        _ => format!("/login?tx={tx}"),
    };
    redirect(StatusCode::SEE_OTHER, &to, cookie)
}

/// The page `consent_form_for` shows for `style`.
pub(super) fn consent(app: &App, style: LoginPage, client: &str, tx: &str, csrf: &str) -> Response {
    match style {
        LoginPage::Chooser => chooser_consent(app, client, tx, csrf, ""),
        _ => consent_form_for(app, client, tx, csrf),
    }
}

/// The plain login form.
pub(super) fn login_form(app: &App, tx: &str, csrf: &str, message: &str) -> Response {
    let body = format!(
        "<p>{}</p><form method=\"post\" action=\"/login\" id=\"login\">\
         <input type=\"hidden\" name=\"tx\" value=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label>User <input name=\"username\"></label><label>Password <input type=\"password\" name=\"password\"></label>\
         <button type=\"submit\">Sign in</button></form>",
        esc(message),
        esc(tx),
        esc(csrf)
    );
    page(app, StatusCode::OK, "Sign in", &body, &[])
}

/// The plain consent form.
pub(super) fn consent_form_for(app: &App, client: &str, tx: &str, csrf: &str) -> Response {
    let body = format!(
        "<p>Allow {} to access your account?</p><form method=\"post\" action=\"/consent\" id=\"consent\">\
         <input type=\"hidden\" name=\"tx\" value=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
        esc(client),
        esc(tx),
        esc(csrf)
    );
    page(app, StatusCode::OK, "Consent", &body, &[])
}
