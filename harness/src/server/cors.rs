//! Client mode: CORS on the endpoints a single-page app calls from its own origin (metadata,
//! JWK Set, token, UserInfo, PAR), as a server that serves browser-based clients has
//! (RFC 9700 §2.1 asks public clients to use the code flow; OAuth 2.0 for Browser-Based Apps
//! §6.3.3: the token endpoint supports CORS). The authorization endpoint, a navigation, gets
//! none. Outside client mode the request passes untouched. It runs before the recorder, so a
//! preflight is answered here and never taken for the client's request.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::state::App;

pub(super) async fn allow(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let Some(origin) = origin.filter(|_| app.seen.is_some() && req.uri().path() != "/authorize")
    else {
        return next.run(req).await;
    };
    if req.method() == Method::OPTIONS {
        let mut r = Response::new(axum::body::Body::empty());
        *r.status_mut() = StatusCode::NO_CONTENT;
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type, dpop"),
        );
        return r;
    }
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("dpop-nonce, www-authenticate"),
    );
    r
}
