//! The authorization endpoint with its login and consent pages (RFC 6749 §3.1, §4.1.1-§4.1.2.1;
//! RFC 7636 §4.3-§4.4; RFC 9207; RFC 9700 §2.1, §4.1.3, §4.12, §4.16).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::config::{LoginPage, RegisteredClient};
use super::grant::{
    SESSION_COOKIE, deny, error_params, issue_code, redirect_matches, session_id, to_client,
};
use super::login_pages;
use super::pages::{Reply, done, error_page, fresh, redirect};
use super::state::{App, Consent, FrontResponse, Pending};
use crate::defect::Defect;
use crate::params::Params;
use crate::pkce::{CodeChallenge, Method};
use crate::target::AuthMethod;

/// The parameters this server reads (beside [`OIDC_OPTIONAL_PARAMS`]), what the
/// `rejects-unknown-params` defect takes as known.
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
    "max_age",
    "request",
];

/// OpenID Connect Core §15.1 parameters every provider takes, at the least by not failing on
/// them (`login_hint` from §3.1.2.1 too, and §5.5's `claims`, which a provider that does not
/// support it ignores); the defect refuses them.
const OIDC_OPTIONAL_PARAMS: &[&str] = &[
    "claims",
    "display",
    "ui_locales",
    "claims_locales",
    "acr_values",
    "login_hint",
    "id_token_hint",
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
    let by_reference = front
        .get("request_uri")
        .filter(|uri| !super::par::is_pushed(uri))
        .map(str::to_owned);
    let mut r = done(if let Some(uri) = by_reference {
        // OpenID Connect Core §6.2: the request object is at the client's URL.
        match fetched_request_object(&app, &front, &uri).await {
            Ok(front) => unpack_request_object(&app, &front)
                .and_then(|p| authorize_inner(&app, &headers, &p, None, None)),
            Err(refused) => Err(refused),
        }
    } else if front.get("request_uri").is_some() {
        // RFC 9126 §4: the request is the pushed one.
        super::par::resolve(&app, &front)
            .and_then(|p| authorize_inner(&app, &headers, &p, front.get("request_uri"), None))
    } else if front.get("request").is_some() {
        // RFC 9101 §6.3: the request is the one the request object carries. A server with
        // `request-object-redirect-uri-beside-used` checks the object's redirect URI, then
        // delivers the code to the one beside it.
        let beside = front
            .get("redirect_uri")
            .filter(|_| app.has(Defect::RequestObjectRedirectUriBesideUsed));
        unpack_request_object(&app, &front)
            .and_then(|p| authorize_inner(&app, &headers, &p, None, beside))
    } else if plain_refused(&app, &front) {
        Err(error_page(
            &app,
            "invalid_request: this client's requests must come in a signed request object (require_signed_request_object)",
        ))
    } else {
        authorize_inner(&app, &headers, &front, None, None)
    });
    if app.has(Defect::CorsOnAuthorize) {
        add_cors(&mut r);
    }
    r
}

/// RFC 9101 §10.5: plain parameters from a client registered with
/// `require_signed_request_object` are refused (unless `signed-request-requirement-ignored`).
fn plain_refused(app: &App, front: &Params) -> bool {
    nonempty(front, "client_id")
        .and_then(|id| app.client(id))
        .is_some_and(|c| c.require_signed_request_object)
        && !app.has(Defect::SignedRequestRequirementIgnored)
}

/// The known client a request object (by value or by reference) names beside it, or an
/// error page saying `what` needs one.
fn object_client(app: &App, front: &Params, what: &str) -> Result<RegisteredClient, Response> {
    nonempty(front, "client_id")
        .and_then(|id| app.client(id))
        .ok_or_else(|| {
            error_page(
                app,
                &format!("{what} needs the client_id of a known client beside it"),
            )
        })
}

/// A request object refused with `error`: an error redirect to the client's registered
/// redirect URI when it has only one (the object's own redirect_uri is not to be trusted),
/// else an error page.
fn object_refused(
    app: &App,
    client: &RegisteredClient,
    front: &Params,
    (error, why): (&str, &str),
) -> Response {
    if client.more_redirect_uris.is_empty() {
        to_client(
            app,
            StatusCode::FOUND,
            &client.redirect_uri,
            error_params(app, error, why, front.get("state")),
        )
    } else {
        error_page(app, &format!("{error}: {why}"))
    }
}

/// The front channel with the request object fetched from `uri` (OpenID Connect Core §6.2) in
/// `request`, as if passed by value; or the refusal.
async fn fetched_request_object(app: &App, front: &Params, uri: &str) -> Result<Params, Response> {
    let client = object_client(app, front, "a request_uri")?;
    let fetched = if app.has(Defect::RequestUriNotFetched) {
        Err((
            "request_uri_not_supported",
            "request objects by reference are not supported".to_owned(),
        ))
    } else {
        super::fetch::fetch(uri)
            .await
            .map_err(|why| ("invalid_request_uri", why))
    };
    match fetched {
        Ok(object) => {
            let mut params = Params::new();
            for (name, value) in front.iter().filter(|(n, _)| *n != "request_uri") {
                params.push(name, value);
            }
            params.push("request", object.trim());
            Ok(params)
        }
        Err((error, why)) => Err(object_refused(app, &client, front, (error, &why))),
    }
}

/// The request a request object passed by value stands for (RFC 9101), or the refusal
/// `invalid_request_object` (§6.2).
fn unpack_request_object(app: &App, front: &Params) -> Result<Params, Response> {
    let client = object_client(app, front, "a request object")?;
    super::request_object::unpack(app, &client, front).map_err(|refused| {
        object_refused(
            app,
            &client,
            front,
            ("invalid_request_object", &refused.to_string()),
        )
    })
}

/// An authorization request's parameters (`request_uri`: the pushed request they came from;
/// `deliver_to`: where a defect sends the code instead of the checked redirect URI).
fn authorize_inner(
    app: &App,
    headers: &HeaderMap,
    p: &Params,
    request_uri: Option<&str>,
    deliver_to: Option<&str>,
) -> Reply {
    let pushed = request_uri.is_some();
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
            let to = if app.has(Defect::RedirectsToUnregistered) {
                Some(given)
            } else if app.has(Defect::RedirectErrorsToRegistered) {
                Some(client.redirect_uri.as_str())
            } else {
                None
            };
            if let Some(to) = to {
                let state = p.get("state").map(str::to_owned);
                return Err(to_client(
                    app,
                    StatusCode::FOUND,
                    to,
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
    // An unsupported response mode is answered in the plain one (the client asked for what
    // the server cannot give).
    let jwt_response = super::jarm::asks_for_jwt(p.get("response_mode"));
    let fail = |error: &str, description: &str| {
        if app.has(Defect::RefusalPages) {
            return Err(error_page(app, &format!("{error}: {description}")));
        }
        let params = error_params(app, error, description, state.as_deref());
        let jwt = *jwt_response.as_ref().unwrap_or(&false);
        let params = super::jarm::encode(app, jwt, &client.client_id, params)?;
        Err(to_client(app, StatusCode::FOUND, &redirect_uri, params))
    };
    let jwt_response = match &jwt_response {
        Ok(jwt) => *jwt,
        Err(why) => return fail("invalid_request", why),
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
        && let Some((name, _)) = p
            .iter()
            .find(|(n, _)| !KNOWN_PARAMS.contains(n) && !OIDC_OPTIONAL_PARAMS.contains(n))
    {
        return fail("invalid_request", &format!("unknown parameter {name}"));
    }
    let scope = p.get("scope").unwrap_or_default();
    let mut scopes = scope.split(' ');
    let openid = if app.has(Defect::OpenidScopeFirstOnly) {
        scopes.next() == Some("openid")
    } else {
        scopes.any(|w| w == "openid")
    };
    let claims = if openid {
        let asked = super::claims::Released::of_scope(scope);
        if app.has(Defect::ClaimsParameterIgnored) {
            asked
        } else {
            asked.and_requested(p.get("claims"))
        }
    } else {
        super::claims::Released::default()
    };
    if app.has(Defect::ClaimsParameterUnknownClaimRefused)
        && let Some(name) = super::claims::Released::unknown_in(p.get("claims"))
    {
        return fail("invalid_request", &format!("unknown claim {name}"));
    }
    if app.has(Defect::OidcParamsRefused)
        && let Some(name) = OIDC_OPTIONAL_PARAMS.iter().find(|n| p.get(n).is_some())
    {
        return fail("invalid_request", &format!("{name} is not supported"));
    }
    if app.has(Defect::NonceRequired) && openid && nonempty(p, "nonce").is_none() {
        return fail("invalid_request", "nonce is required");
    }
    if app.has(Defect::NonceLengthCapped)
        && nonempty(p, "nonce").is_some_and(|n| n.chars().count() > 48)
    {
        return fail("invalid_request", "nonce is longer than 48 characters");
    }
    if app.has(Defect::StateRequired) && nonempty(p, "state").is_none() {
        return fail("invalid_request", "Missing parameter: state");
    }
    let front = match nonempty(p, "response_type") {
        Some("code") => FrontResponse::Code,
        Some("token") if app.has(Defect::FrontChannelTokens) => FrontResponse::Token,
        Some("code id_token") if app.has(Defect::FrontChannelTokens) => FrontResponse::CodeIdToken,
        _ if app.has(Defect::ResponseTypeUnchecked) => FrontResponse::Code,
        None => return fail("invalid_request", "response_type is missing"),
        Some(_) => {
            return fail(
                "unsupported_response_type",
                "only response_type=code is supported",
            );
        }
    };
    let challenge = match pkce_params(app, &client, p, pushed) {
        Ok(c) => c,
        Err(description) => return fail("invalid_request", &description),
    };

    let (sid, new_session) =
        session_id(headers).map_or_else(|| fresh().map(|s| (s, true)), |s| Ok((s, false)))?;
    let tx = fresh()?;
    let csrf = fresh()?;
    let login_since = login_since(app, p);
    let (logged_in, approved) = {
        let mut store = app.store();
        let session = store.sessions.entry_or_default(sid.clone());
        let logged_in = session.signed_in_since(login_since);
        let approved = session.approved.contains(&client.client_id);
        store.pending.insert(
            tx.clone(),
            Pending {
                client_id: client.client_id.clone(),
                redirect_uri: deliver_to.map_or_else(|| redirect_uri.clone(), str::to_owned),
                redirect_uri_sent: nonempty(p, "redirect_uri").is_some(),
                state: state.clone(),
                challenge,
                csrf,
                session: sid.clone(),
                ticket: None,
                openid,
                claims,
                front,
                nonce: nonempty(p, "nonce").map(str::to_owned),
                request_uri: request_uri.map(str::to_owned),
                dpop_jkt: nonempty(p, "dpop_jkt").map(str::to_owned),
                jwt_response,
                login_since,
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
    // Client mode: the user is signed in and consents; the client is what is judged.
    match app.auto_consent {
        Some(Consent::Approve) => return issue_code(app, &tx, StatusCode::FOUND),
        Some(Consent::Deny) => return deny(app, &tx, StatusCode::FOUND),
        None => {}
    }
    // OpenID Connect Core §3.1.2.1: prompt=none shows no page. Without a signed-in user who
    // already consented, the answer is an error (§3.1.2.6); the defect shows the pages anyway.
    let prompt_none = p
        .get("prompt")
        .is_some_and(|v| v.split(' ').any(|w| w == "none"));
    if prompt_none && !app.has(Defect::PromptNoneIgnored) {
        let error = match (logged_in, approved) {
            (true, true) => return issue_code(app, &tx, StatusCode::FOUND),
            (false, _) => "login_required",
            (true, false) => "consent_required",
        };
        app.store().pending.remove(&tx);
        return fail(error, "prompt=none, and the request needs a page");
    }
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

/// The time after which the session must have signed in for this request (OpenID Connect Core
/// §3.1.2.1): `prompt=login` asks for a login now, `max_age` for one at most that many seconds
/// old. A server that ignores either (`prompt-login-ignored`, `max-age-ignored`) takes any
/// signed-in session.
fn login_since(app: &App, p: &Params) -> Option<std::time::SystemTime> {
    let now = std::time::SystemTime::now();
    let prompt_login = p
        .get("prompt")
        .is_some_and(|v| v.split(' ').any(|w| w == "login"));
    if prompt_login && !app.has(Defect::PromptLoginIgnored) {
        return Some(now);
    }
    let max_age = p.get("max_age").and_then(|v| v.parse::<u64>().ok());
    match max_age {
        Some(age) if !app.has(Defect::MaxAgeIgnored) => {
            now.checked_sub(std::time::Duration::from_secs(age))
        }
        _ => None,
    }
}

/// RFC 7636 §4.3/§4.4.1 at the authorization endpoint. An empty value counts as absent
/// (RFC 6749 §3.1).
fn pkce_params(
    app: &App,
    client: &RegisteredClient,
    p: &Params,
    pushed: bool,
) -> Result<Option<(CodeChallenge, Method)>, String> {
    let challenge = nonempty(p, "code_challenge");
    let method = nonempty(p, "code_challenge_method");
    let Some(challenge) = challenge else {
        if method.is_some() {
            return Err("code_challenge_method without code_challenge".into());
        }
        let public = client.auth_method == AuthMethod::None;
        let optional = app.has(Defect::PkceOptionalForPublic)
            || (pushed && app.has(Defect::ParChallengeOptional));
        if public && !optional {
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
    let plain_taken = app.has(Defect::AcceptsPlain) || (pushed && app.has(Defect::ParAcceptsPlain));
    if method == Method::Plain && !plain_taken {
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

fn nonempty<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
    p.get(name).filter(|v| !v.is_empty())
}
