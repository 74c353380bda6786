//! The authorization endpoint with its login and consent pages (RFC 6749 §3.1, §4.1.1-§4.1.2.1;
//! RFC 7636 §4.3-§4.4; RFC 9207; RFC 9700 §2.1, §4.1.3, §4.12, §4.16).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use url::Url;

use super::login_pages::{self, LoginPage};
use super::pages::{Reply, done, error_page, esc, fresh, page, redirect};
use super::state::{App, Pending};
use super::{Defect, RegisteredClient};
use crate::params::Params;
use crate::pkce::{CodeChallenge, Method};
use crate::target::AuthMethod;

const SESSION_COOKIE: &str = "pkce_ref_sid";
const KNOWN_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "dpop_jkt",
    "request_uri",
    "response_mode",
    "prompt",
];

/// `OPTIONS /authorize`: no CORS at the authorization endpoint (RFC 9700 §2.6).
pub(super) async fn preflight(State(app): State<Arc<App>>) -> Response {
    let mut r = Response::new(axum::body::Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    if app.has(Defect::CorsOnAuthorize) {
        add_cors(&mut r);
    }
    r
}

fn add_cors(r: &mut Response) {
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        header::HeaderValue::from_static("GET, POST"),
    );
}

/// `GET /authorize`.
pub(super) async fn authorize(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    tokio::time::sleep(app.authorization_delay).await;
    let front = Params::parse(query.as_deref().unwrap_or(""));
    let mut r = done(if front.get("request_uri").is_some() {
        // RFC 9126 §4: the request is the pushed one.
        super::par::resolve(&app, &front).and_then(|p| authorize_inner(&app, &headers, &p, true))
    } else {
        authorize_inner(&app, &headers, &front, false)
    });
    if app.has(Defect::CorsOnAuthorize) {
        add_cors(&mut r);
    }
    r
}

fn authorize_inner(app: &App, headers: &HeaderMap, p: &Params, pushed: bool) -> Reply {
    // Until client and redirect URI are known good, errors go on a page, never to a redirect
    // (RFC 6749 §4.1.2.1 first paragraph).
    for name in ["client_id", "redirect_uri"] {
        if p.count(name) > 1 && !app.has(Defect::RepeatedParamsAccepted) {
            return Err(error_page(app, &format!("{name} is repeated")));
        }
    }
    let client_id =
        nonempty(p, "client_id").ok_or_else(|| error_page(app, "client_id is missing"))?;
    let Some(client) = app.client(client_id) else {
        if let (true, Some(given)) = (
            app.has(Defect::RedirectsToUnregistered),
            nonempty(p, "redirect_uri"),
        ) {
            return Err(to_client(
                app,
                StatusCode::FOUND,
                given,
                error_params(app, "unauthorized_client", "unknown client", p.get("state")),
            ));
        }
        return Err(error_page(app, "unknown client_id"));
    };
    let redirect_uri = match nonempty(p, "redirect_uri") {
        // RFC 6749 §3.1.2.3: with several registered, the request must say which.
        None if !client.more_redirect_uris.is_empty() && !app.has(Defect::DefaultRedirectUri) => {
            return Err(error_page(
                app,
                "redirect_uri is required: this client has several",
            ));
        }
        None => client.redirect_uri.clone(),
        // RFC 9126 §4 lets a server skip checks it made at the PAR endpoint; with this defect
        // that endpoint made none.
        Some(given) if pushed && app.has(Defect::ParRedirectUnchecked) => given.to_owned(),
        Some(given)
            if std::iter::once(&client.redirect_uri)
                .chain(&client.more_redirect_uris)
                .any(|r| redirect_matches(app, r, given)) =>
        {
            given.to_owned()
        }
        Some(given) => {
            if app.has(Defect::RedirectsToUnregistered) {
                let state = p.get("state").map(str::to_owned);
                return Err(to_client(
                    app,
                    StatusCode::FOUND,
                    given,
                    error_params(
                        app,
                        "invalid_request",
                        "redirect_uri mismatch",
                        state.as_deref(),
                    ),
                ));
            }
            return Err(error_page(
                app,
                "redirect_uri does not match the registered redirect URI",
            ));
        }
    };
    let state = p.get("state").map(|s| {
        if app.has(Defect::StateTruncated) {
            s.chars().take(32).collect()
        } else {
            s.to_owned()
        }
    });
    let fail = |error: &str, description: &str| {
        if app.has(Defect::RefusalPages) {
            return Err(error_page(app, &format!("{error}: {description}")));
        }
        Err(to_client(
            app,
            StatusCode::FOUND,
            &redirect_uri,
            error_params(app, error, description, state.as_deref()),
        ))
    };
    if app.require_par && !pushed && !app.has(Defect::ParNotEnforced) {
        return fail(
            "invalid_request",
            "pushed authorization requests are required (RFC 9126): push the request first",
        );
    }
    if !app.has(Defect::RepeatedParamsAccepted)
        && let Some(name) = p.repeated().first()
    {
        return fail("invalid_request", &format!("{name} is repeated"));
    }
    if app.has(Defect::RejectsUnknownParams)
        && let Some((name, _)) = p.iter().find(|(n, _)| !KNOWN_PARAMS.contains(n))
    {
        return fail("invalid_request", &format!("unknown parameter {name}"));
    }
    let openid = p
        .get("scope")
        .is_some_and(|s| s.split(' ').any(|w| w == "openid"));
    if app.has(Defect::NonceRequired) && openid && nonempty(p, "nonce").is_none() {
        return fail("invalid_request", "nonce is required");
    }
    if app.has(Defect::StateRequired) && nonempty(p, "state").is_none() {
        return fail("invalid_request", "Missing parameter: state");
    }
    match nonempty(p, "response_type") {
        Some("code") => {}
        _ if app.has(Defect::ResponseTypeUnchecked) => {}
        None => return fail("invalid_request", "response_type is missing"),
        Some(_) => {
            return fail(
                "unsupported_response_type",
                "only response_type=code is supported",
            );
        }
    }
    let challenge = match pkce_params(app, client, p) {
        Ok(c) => c,
        Err(description) => return fail("invalid_request", &description),
    };

    let (sid, new_session) =
        session_id(headers).map_or_else(|| fresh().map(|s| (s, true)), |s| Ok((s, false)))?;
    let tx = fresh()?;
    let csrf = fresh()?;
    let (logged_in, approved) = {
        let mut store = app.store();
        let session = store.sessions.entry_or_default(sid.clone());
        let logged_in = session.user.is_some();
        let approved = session.approved.contains(&client.client_id);
        store.pending.insert(
            tx.clone(),
            Pending {
                client_id: client.client_id.clone(),
                redirect_uri: redirect_uri.clone(),
                redirect_uri_sent: nonempty(p, "redirect_uri").is_some(),
                state: state.clone(),
                challenge,
                csrf,
                session: sid.clone(),
                ticket: None,
                openid: p
                    .get("scope")
                    .is_some_and(|s| s.split(' ').any(|w| w == "openid")),
                nonce: nonempty(p, "nonce").map(str::to_owned),
                pushed,
                dpop_jkt: nonempty(p, "dpop_jkt").map(str::to_owned),
            },
        );
        if let Some(n) = nonempty(p, "nonce") {
            store.last_nonce = Some(n.to_owned());
        }
        (logged_in, approved)
    };
    let cookie: Vec<(header::HeaderName, String)> = if new_session {
        vec![(
            header::SET_COOKIE,
            format!("{SESSION_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax"),
        )]
    } else {
        Vec::new()
    };
    // RFC 8252 §8.6: consent is asked every time for public clients; the defect skips it.
    if logged_in
        && approved
        && client.auth_method == AuthMethod::None
        && app.has(Defect::AutoApprovePublic)
    {
        return issue_code(app, &tx, StatusCode::FOUND);
    }
    if logged_in && app.login_page != LoginPage::Api {
        return Ok(redirect(
            StatusCode::SEE_OTHER,
            &format!("/consent?tx={tx}"),
            &cookie,
        ));
    }
    Ok(login_pages::login_redirect(app.login_page, &tx, &cookie))
}

/// RFC 7636 §4.3/§4.4.1 at the authorization endpoint. An empty value counts as absent
/// (RFC 6749 §3.1).
fn pkce_params(
    app: &App,
    client: &RegisteredClient,
    p: &Params,
) -> Result<Option<(CodeChallenge, Method)>, String> {
    let challenge = nonempty(p, "code_challenge");
    let method = nonempty(p, "code_challenge_method");
    let Some(challenge) = challenge else {
        if method.is_some() {
            return Err("code_challenge_method without code_challenge".into());
        }
        let public = client.auth_method == AuthMethod::None;
        if public && !app.has(Defect::PkceOptionalForPublic) {
            return Err("code_challenge is required for public clients".into());
        }
        if !public
            && app.pkce_required_confidential
            && !app.has(Defect::PkceOptionalForConfidential)
        {
            return Err("code_challenge is required for every client".into());
        }
        return Ok(None);
    };
    let method = match method {
        // RFC 7636 §4.3: absent means plain, which this server does not allow; the fixture
        // switch takes it as S256 (a safe deviation), the defect lets plain through.
        None if app.absent_method_s256 => Method::S256,
        None if app.has(Defect::MethodAbsentAccepted) => {
            return parse_challenge(app, challenge, Method::Plain);
        }
        None => Method::Plain,
        Some(m) => match Method::parse(m) {
            Ok(m) => m,
            Err(_) if app.has(Defect::AcceptsUnknownMethod) => Method::S256,
            Err(e) => return Err(format!("{e} (transform algorithm not supported)")),
        },
    };
    if method == Method::Plain && !app.has(Defect::AcceptsPlain) {
        return Err("code_challenge_method plain is not supported; use S256".into());
    }
    parse_challenge(app, challenge, method)
}

/// The challenge as stored with its method (RFC 7636 §4.2 grammar).
fn parse_challenge(
    app: &App,
    challenge: &str,
    method: Method,
) -> Result<Option<(CodeChallenge, Method)>, String> {
    let parsed = match CodeChallenge::parse(challenge) {
        Ok(c) => c,
        // The defect keeps whatever was sent; a value outside the grammar then never verifies
        // unless the token endpoint is broken too. Truncate to what the type can hold.
        Err(_) if app.has(Defect::NoChallengeAbnf) => {
            CodeChallenge::parse(&pad_to_grammar(challenge)).map_err(|e| e.to_string())?
        }
        Err(e) => return Err(e.to_string()),
    };
    Ok(Some((parsed, method)))
}

/// Maps an out-of-grammar challenge into the grammar (for the `no-challenge-abnf` defect only).
fn pad_to_grammar(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if crate::pkce::is_unreserved(c) {
                c
            } else {
                '~'
            }
        })
        .take(128)
        .collect();
    while out.len() < 43 {
        out.push('~');
    }
    out
}

/// Exact string comparison (RFC 9700 §4.1.3), with the loopback port exception of RFC 8252
/// §7.3. The defects re-create the comparison bugs of BUG-13..BUG-19.
pub(super) fn redirect_matches(app: &App, registered: &str, given: &str) -> bool {
    let mut given = given.to_owned();
    if app.has(Defect::FragmentRedirectAccepted)
        && let Some(i) = given.find('#')
    {
        given.truncate(i);
    }
    if app.has(Defect::UserinfoRedirect) {
        given = strip_userinfo_naively(&given);
    }
    if given == registered
        || (app.has(Defect::PrefixRedirectMatch) && given.starts_with(registered))
        || (app.has(Defect::CaseInsensitiveRedirect) && given.eq_ignore_ascii_case(registered))
    {
        return true;
    }
    if app.has(Defect::LoopbackHostConfusion) {
        let is_loopback_given = given.starts_with("http://127.0.0.1")
            || given.starts_with("http://[::1]")
            || given.starts_with("http://localhost");
        if is_loopback_given && raw_after_authority(&given) == raw_after_authority(registered) {
            return true;
        }
    }
    if app.has(Defect::LoopbackPortStrict) || given.contains('#') {
        return false;
    }
    match (Url::parse(registered), Url::parse(&given)) {
        (Ok(r), Ok(g)) => {
            let loopback = matches!(r.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
                || matches!(r.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
            loopback
                && r.scheme() == "http"
                && g.scheme() == r.scheme()
                && g.host() == r.host()
                && g.username().is_empty()
                && g.password().is_none()
                && g.path() == r.path()
                && g.query() == r.query()
                // `Url` normalises the path; compare the raw text after the authority too.
                && raw_after_authority(&given) == raw_after_authority(registered)
        }
        _ => false,
    }
}

fn raw_after_authority(s: &str) -> &str {
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    rest.find('/').map_or("", |i| &rest[i..])
}

/// The BUG-17 parser: reads `scheme://host:port@evil/path` as `scheme://host:port/path`.
fn strip_userinfo_naively(s: &str) -> String {
    let Some((scheme, rest)) = s.split_once("://") else {
        return s.to_owned();
    };
    let end = rest.find('/').unwrap_or(rest.len());
    match rest[..end].find('@') {
        Some(at) => format!("{scheme}://{}{}", &rest[..at], &rest[end..]),
        None => s.to_owned(),
    }
}

fn nonempty<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
    p.get(name).filter(|v| !v.is_empty())
}

fn error_params(
    app: &App,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> Vec<(String, String)> {
    let mut out = vec![
        ("error".to_owned(), error.to_owned()),
        ("error_description".to_owned(), description.to_owned()),
    ];
    if let Some(s) = state {
        out.push(("state".into(), s.to_owned()));
    }
    if !app.has(Defect::NoIss) {
        out.push(("iss".into(), iss_of(app)));
    }
    out
}

/// A redirect to the client with `params` added to the redirect URI's query.
fn to_client(
    app: &App,
    status: StatusCode,
    redirect_uri: &str,
    params: Vec<(String, String)>,
) -> Response {
    match Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in &params {
                    q.append_pair(k, v);
                }
            }
            redirect(status, url.as_str(), &[])
        }
        Err(_) => error_page(app, "redirect_uri is not a valid URL"),
    }
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (name, value) = c.trim().split_once('=')?;
            (name == SESSION_COOKIE).then(|| value.to_owned())
        })
}

/// Looks up the pending request of `tx` and checks it belongs to this browser session.
pub(super) fn pending_for(
    app: &App,
    headers: &HeaderMap,
    tx: &str,
) -> Result<(String, String), Response> {
    let sid = session_id(headers).ok_or_else(|| error_page(app, "no session cookie"))?;
    let store = app.store();
    let pending = store
        .pending
        .get(tx)
        .ok_or_else(|| error_page(app, "unknown or finished authorization request"))?;
    if pending.session != sid {
        return Err(error_page(
            app,
            "authorization request belongs to another session",
        ));
    }
    Ok((sid, pending.csrf.clone()))
}

/// `GET /login?tx=`.
pub(super) async fn login_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let tx = Params::parse(q.as_deref().unwrap_or(""))
        .get("tx")
        .unwrap_or("")
        .to_owned();
    done(
        pending_for(&app, &headers, &tx).map(|(_, csrf)| match app.login_page {
            LoginPage::Script => login_pages::script_login(&app, &tx, &csrf),
            _ => login_form(&app, &tx, &csrf, ""),
        }),
    )
}

fn login_form(app: &App, tx: &str, csrf: &str, message: &str) -> Response {
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
        if p.get("username") != Some(super::USERNAME) || p.get("password") != Some(super::PASSWORD)
        {
            return Ok(login_form(&app, &tx, &csrf, "Wrong user name or password."));
        }
        app.store().sessions.entry_or_default(sid).user = Some(super::USERNAME.to_owned());
        // RFC 9700 §4.12: never 307 after a POST that carried credentials.
        let status = if app.has(Defect::Login307) {
            StatusCode::TEMPORARY_REDIRECT
        } else {
            StatusCode::SEE_OTHER
        };
        Ok(redirect(status, &format!("/consent?tx={tx}"), &[]))
    })())
}

/// `GET /consent?tx=`.
pub(super) async fn consent_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let tx = Params::parse(q.as_deref().unwrap_or(""))
        .get("tx")
        .unwrap_or("")
        .to_owned();
    done(consent_form(&app, &headers, &tx))
}

fn consent_form(app: &App, headers: &HeaderMap, tx: &str) -> Reply {
    let (sid, csrf) = pending_for(app, headers, tx)?;
    let store = app.store();
    if store
        .sessions
        .get(&sid)
        .and_then(|s| s.user.as_ref())
        .is_none()
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
            Some(_) => {
                let pending = app.store().pending.remove(&tx);
                let Some(pending) = pending else {
                    return Err(error_page(&app, "unknown authorization request"));
                };
                let params = error_params(
                    &app,
                    "access_denied",
                    "the user denied the request",
                    pending.state.as_deref(),
                );
                return Ok(to_client(
                    &app,
                    StatusCode::SEE_OTHER,
                    &pending.redirect_uri,
                    params,
                ));
            }
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

/// Ends a pending request with a code (RFC 6749 §4.1.2, RFC 9207 `iss`).
pub(super) fn issue_code(app: &App, tx: &str, status: StatusCode) -> Reply {
    let mut store = app.store();
    let pending = store
        .pending
        .remove(tx)
        .ok_or_else(|| error_page(app, "unknown authorization request"))?;
    let code = if app.has(Defect::WeakCodes) {
        store.counter += 1;
        format!("c{:06}", store.counter)
    } else {
        fresh()?
    };
    store.codes.insert(
        code.clone(),
        super::state::CodeRecord {
            client_id: pending.client_id,
            redirect_uri: pending
                .redirect_uri_sent
                .then(|| pending.redirect_uri.clone()),
            challenge: pending.challenge.clone(),
            expires: std::time::Instant::now() + app.code_lifetime,
            used: false,
            issued: Vec::new(),
            openid: pending.openid,
            nonce: pending.nonce.clone(),
            pushed: pending.pushed,
            dpop_jkt: pending.dpop_jkt.clone(),
        },
    );
    drop(store);
    let mut params = vec![("code".to_owned(), code)];
    if let (true, Some((challenge, _))) = (
        app.has(Defect::ReflectsChallenge),
        pending.challenge.as_ref(),
    ) {
        params.push(("code_challenge".into(), challenge.as_str().to_owned()));
    }
    if let Some(s) = pending.state {
        params.push(("state".into(), s));
    }
    if !app.has(Defect::NoIss) {
        params.push(("iss".into(), iss_of(app)));
    }
    Ok(to_client(app, status, &pending.redirect_uri, params))
}

/// The `iss` of an authorization response (RFC 9207 §2): the issuer, unless a defect says
/// otherwise.
fn iss_of(app: &App) -> String {
    if app.has(Defect::WrongIssUnannounced) {
        format!("{}/elsewhere", app.issuer)
    } else {
        app.issuer.clone()
    }
}
