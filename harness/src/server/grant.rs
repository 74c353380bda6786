//! What the authorization endpoint and its login and consent pages share: the pending request
//! and the browser session it belongs to, the registered redirect URI matched, and the end of
//! an authorization, to the client with a code or an error (RFC 6749 §4.1.2, RFC 9207 `iss`).

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use url::Url;

use super::pages::{Reply, error_page, fresh, redirect};
use super::state::{App, CodeRecord, FrontResponse};
use crate::defect::Defect;

/// The browser session's cookie.
pub(super) const SESSION_COOKIE: &str = "pkce_ref_sid";

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
        || (app.has(Defect::RedirectQueryIgnored)
            && without_query(&given) == without_query(registered))
        || (app.has(Defect::PrefixRedirectMatch) && given.starts_with(registered))
        || (app.has(Defect::RegistrationWildcardMatched) && wildcard_matches(registered, &given))
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

/// The `registration-wildcard-matched` defect: `*` in a registered URI stands for any text
/// without a `/` (a host label, a path segment), as pattern-matching servers read it.
fn wildcard_matches(registered: &str, given: &str) -> bool {
    let Some((before, after)) = registered.split_once('*') else {
        return false;
    };
    given
        .strip_prefix(before)
        .and_then(|rest| rest.strip_suffix(after))
        .is_some_and(|middle| !middle.contains('/'))
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

pub(super) fn error_params(
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

/// The user denied the pending request `tx`: RFC 6749 §4.1.2.1 `access_denied` at the
/// client's redirect URI (in a JARM response if it asked for one).
pub(super) fn deny(app: &App, tx: &str, status: StatusCode) -> Reply {
    let pending = app.store().pending.remove(tx);
    let Some(pending) = pending else {
        return Err(error_page(app, "unknown authorization request"));
    };
    let params = error_params(
        app,
        "access_denied",
        "the user denied the request",
        pending.state.as_deref(),
    );
    let params = super::jarm::encode(app, pending.jwt_response, &pending.client_id, params)?;
    Ok(to_client(app, status, &pending.redirect_uri, params))
}

/// `uri` up to its query (the defect `redirect-query-ignored` compares that much).
fn without_query(uri: &str) -> &str {
    uri.split(['?', '#']).next().unwrap_or(uri)
}

/// A redirect to the client with `params` added to the redirect URI's query.
pub(super) fn to_client(
    app: &App,
    status: StatusCode,
    redirect_uri: &str,
    params: Vec<(String, String)>,
) -> Response {
    match Url::parse(redirect_uri) {
        Ok(mut url) => {
            if app.has(Defect::RedirectQueryDropped) {
                url.set_query(None);
            }
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

pub(super) fn session_id(headers: &HeaderMap) -> Option<String> {
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

/// Ends a pending request with a code (RFC 6749 §4.1.2, RFC 9207 `iss`).
pub(super) fn issue_code(app: &App, tx: &str, status: StatusCode) -> Reply {
    let mut store = app.store();
    let pending = store
        .pending
        .remove(tx)
        .ok_or_else(|| error_page(app, "unknown authorization request"))?;
    // RFC 9126 §4: a request_uri is used once; it is spent here, when its code is issued, so
    // a reload of the authorization page before then is served (the MAY of the same section).
    // The defect spent it at the first load already.
    if let Some(uri) = &pending.request_uri
        && !app.has(Defect::RequestUriSpentOnVisit)
        && let Some(pushed) = store.pushed.get_mut(uri)
    {
        if pushed.used && !app.has(Defect::ParReusable) {
            return Err(error_page(app, "request_uri was used already"));
        }
        pushed.used = true;
    }
    let auth_time = store
        .sessions
        .get(&pending.session)
        .and_then(|s| s.signed_in_at)
        .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    let code = if app.has(Defect::WeakCodes) {
        store.counter += 1;
        format!("c{:06}", store.counter)
    } else if app.has(Defect::Codes128Bits) {
        let mut octets = [0u8; 16];
        getrandom::fill(&mut octets).map_err(|_| error_page(app, "no randomness"))?;
        crate::jose::b64(octets)
    } else {
        fresh()?
    };
    store.codes.insert(
        code.clone(),
        CodeRecord {
            client_id: pending.client_id.clone(),
            redirect_uri: pending
                .redirect_uri_sent
                .then(|| pending.redirect_uri.clone()),
            challenge: pending.challenge.clone(),
            expires: std::time::Instant::now()
                + if app.has(Defect::CodeLifetimeOverAMinute) {
                    std::time::Duration::from_secs(120)
                } else {
                    app.code_lifetime
                },
            spent: Default::default(),
            issued: Vec::new(),
            openid: pending.openid,
            claims: pending.claims,
            nonce: pending.nonce.clone(),
            pushed: pending.request_uri.is_some(),
            dpop_jkt: pending.dpop_jkt.clone(),
            auth_time,
        },
    );
    // The `front-channel-tokens` defect: the implicit and hybrid responses' tokens.
    let front_tokens = match pending.front {
        FrontResponse::Code => Vec::new(),
        FrontResponse::Token => {
            let at = super::token::lone_access_token(
                app,
                &mut store,
                &pending.client_id,
                pending.claims,
            )?;
            vec![
                ("access_token".to_owned(), at),
                ("token_type".into(), "Bearer".into()),
            ]
        }
        FrontResponse::CodeIdToken => {
            let grant = super::oidc::Grant {
                client_id: &pending.client_id,
                nonce: pending.nonce.as_deref(),
                auth_time,
                access_token: None,
                code: Some(&code),
            };
            vec![(
                "id_token".to_owned(),
                super::oidc::id_token(app, &store, &grant)?,
            )]
        }
    };
    drop(store);
    let mut params = if pending.front == FrontResponse::Token {
        front_tokens
    } else {
        let mut p = vec![("code".to_owned(), code)];
        p.extend(front_tokens);
        p
    };
    if let (true, Some((challenge, _))) = (
        app.has(Defect::ReflectsChallenge),
        pending.challenge.as_ref(),
    ) {
        params.push(("code_challenge".into(), challenge.as_str().to_owned()));
    }
    if let Some(s) = pending.state {
        let s = if app.has(Defect::StateReplaced) {
            let mut chars = s.chars();
            let first = if chars.next() == Some('x') { 'y' } else { 'x' };
            std::iter::once(first).chain(chars).collect()
        } else {
            s
        };
        params.push(("state".into(), s));
    }
    if !app.has(Defect::NoIss) {
        params.push(("iss".into(), iss_of(app)));
    }
    let params = super::jarm::encode(app, pending.jwt_response, &pending.client_id, params)?;
    if pending.front != FrontResponse::Code {
        return Ok(in_fragment(app, status, &pending.redirect_uri, &params));
    }
    Ok(to_client(app, status, &pending.redirect_uri, params))
}

/// A redirect to the client with `params` in the fragment, as implicit and hybrid responses
/// come (RFC 6749 §4.2.2; OpenID Connect Core §3.3.2.5).
fn in_fragment(
    app: &App,
    status: StatusCode,
    redirect_uri: &str,
    params: &[(String, String)],
) -> Response {
    match Url::parse(redirect_uri) {
        Ok(mut url) => {
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params)
                .finish();
            url.set_fragment(Some(&encoded));
            redirect(status, url.as_str(), &[])
        }
        Err(_) => error_page(app, "redirect_uri is not a valid URL"),
    }
}

/// The `iss` of an authorization response (RFC 9207 §2): the issuer, unless a defect says
/// otherwise.
fn iss_of(app: &App) -> String {
    if app.has(Defect::WrongIssUnannounced) || app.has(Defect::WrongIss) {
        format!("{}/elsewhere", app.issuer)
    } else {
        app.issuer.clone()
    }
}
