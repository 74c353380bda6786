//! Response builders shared by the handlers: HTML pages with the anti-framing headers of
//! RFC 9700 §4.16, redirects, and RFC 6749 §5.2 JSON errors.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::state::App;
use crate::defect::Defect;

/// Every handler's result: the error side is a finished response too.
pub(super) type Reply = Result<Response, Response>;

/// Collapses a [`Reply`].
pub(super) fn done(r: Reply) -> Response {
    r.unwrap_or_else(|e| e)
}

/// Escapes text for HTML element content and attribute values.
pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn build(status: StatusCode, headers: &[(header::HeaderName, String)], body: Body) -> Response {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            r.headers_mut().append(name.clone(), v);
        }
    }
    r
}

/// An HTML page of the authorization flow (login, consent, error).
pub(super) fn page(
    app: &App,
    status: StatusCode,
    title: &str,
    body: &str,
    extra: &[(header::HeaderName, String)],
) -> Response {
    let assets = app.foreign_assets.as_deref().map_or_else(String::new, |o| {
        let o = esc(o);
        format!(
            "<link rel=\"preconnect\" href=\"{o}\"><link rel=\"dns-prefetch\" href=\"{o}\"><link rel=\"stylesheet\" href=\"{o}/style.css\"><img src=\"{o}/logo.png\" alt=\"\"><script src=\"{o}/lib.js\"></script><script>window.open('{o}/popup');</script>"
        )
    });
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head><body><h1>{t}</h1>{assets}{body}</body></html>",
        t = esc(title)
    );
    let mut headers = vec![
        (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
        (header::CACHE_CONTROL, "no-store".to_owned()),
    ];
    if !app.has(Defect::NoReferrerPolicy) {
        headers.push((header::REFERRER_POLICY, "no-referrer".to_owned()));
    }
    if !app.has(Defect::Frameable) {
        headers.push((header::X_FRAME_OPTIONS, "DENY".to_owned()));
        if !app.has(Defect::FrameOptionsOnly) {
            headers.push((
                header::CONTENT_SECURITY_POLICY,
                "frame-ancestors 'none'".to_owned(),
            ));
        }
    }
    headers.extend(extra.iter().cloned());
    build(status, &headers, Body::from(html))
}

/// An error page: the user is told, nobody is redirected (RFC 6749 §3.1.2.4, §4.1.2.1).
pub(super) fn error_page(app: &App, message: &str) -> Response {
    page(
        app,
        StatusCode::BAD_REQUEST,
        "Authorization error",
        &format!("<p>{}</p>", esc(message)),
        &[],
    )
}

/// A redirect with `Location`.
pub(super) fn redirect(
    status: StatusCode,
    location: &str,
    extra: &[(header::HeaderName, String)],
) -> Response {
    let mut headers = vec![
        (header::LOCATION, location.to_owned()),
        (header::CACHE_CONTROL, "no-store".to_owned()),
    ];
    headers.extend(extra.iter().cloned());
    build(status, &headers, Body::empty())
}

/// A JSON response with the token endpoint's cache headers (RFC 6749 §5.1).
pub(super) fn json(
    app: &App,
    status: StatusCode,
    value: &serde_json::Value,
    extra: &[(header::HeaderName, String)],
) -> Response {
    let mut headers = vec![(header::CONTENT_TYPE, "application/json".to_owned())];
    if !app.has(Defect::NoCacheHeaders) {
        headers.push((header::CACHE_CONTROL, "no-store".to_owned()));
        headers.push((header::PRAGMA, "no-cache".to_owned()));
    }
    headers.extend(extra.iter().cloned());
    build(status, &headers, Body::from(value.to_string()))
}

/// 405 to another method than POST at an endpoint defined for POST only (the token endpoint,
/// RFC 6749 §3.2; the PAR endpoint, RFC 9126 §2), as an `invalid_request` error.
pub(super) fn post_only(app: &App, endpoint: &str) -> Response {
    let mut r = oauth_error(
        app,
        "invalid_request",
        &format!("the {endpoint} endpoint accepts POST only"),
    );
    *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    r
}

/// An RFC 6749 §5.2 error: 400, or 401 with `WWW-Authenticate` for a failed Basic login.
pub(super) fn oauth_error(app: &App, error: &str, description: &str) -> Response {
    let (error, description) = if app.has(Defect::BadErrorFormat) {
        (
            if error == "invalid_grant" {
                "invalid_code"
            } else {
                error
            },
            format!("{description}\n\tsee logs"),
        )
    } else {
        (error, description.to_owned())
    };
    json(
        app,
        StatusCode::BAD_REQUEST,
        &serde_json::json!({"error": error, "error_description": description}),
        &[],
    )
}

/// `invalid_client` after failed authentication (RFC 6749 §5.2): 401, and `WWW-Authenticate`
/// matching the scheme the client tried when it used Basic.
pub(super) fn invalid_client(app: &App, used_basic: bool, description: &str) -> Response {
    if app.has(Defect::InvalidClient400) {
        return oauth_error(app, "invalid_client", description);
    }
    let extra: Vec<(header::HeaderName, String)> = if used_basic {
        let scheme = if app.has(Defect::ChallengeSchemeBearer) {
            "Bearer"
        } else {
            "Basic"
        };
        vec![(
            header::WWW_AUTHENTICATE,
            format!("{scheme} realm=\"pkce-harness reference\""),
        )]
    } else {
        Vec::new()
    };
    json(
        app,
        StatusCode::UNAUTHORIZED,
        &serde_json::json!({"error": "invalid_client", "error_description": description}),
        &extra,
    )
}

/// A fresh random value, or a 500 response if the OS cannot supply entropy.
pub(super) fn fresh() -> Result<String, Response> {
    super::state::random_token().map_err(|e| server_error(&format!("no entropy: {e}")))
}

/// A 500 page for faults of the server itself.
pub(super) fn server_error(message: &str) -> Response {
    build(
        StatusCode::INTERNAL_SERVER_ERROR,
        &[(header::CONTENT_TYPE, "text/plain".to_owned())],
        Body::from(message.to_owned()),
    )
}
