//! Metadata (RFC 8414), userinfo (a protected resource) and introspection (RFC 7662).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::pages::{done, invalid_client, json};
use super::state::App;
use super::tls::PeerCert;
use super::token::{authenticate_client, is_confidential};
use crate::defect::Defect;
use crate::params::Params;

/// `GET /.well-known/oauth-authorization-server` and `/.well-known/openid-configuration`.
pub(super) async fn metadata(State(app): State<Arc<App>>) -> Response {
    let issuer = if app.has(Defect::MetadataWrongIssuer) {
        format!("{}/", app.issuer)
    } else {
        app.issuer.clone()
    };
    let mut m = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": app.url("/authorize"),
        "token_endpoint": app.url("/token"),
        "userinfo_endpoint": app.url("/userinfo"),
        "introspection_endpoint": app.url("/introspect"),
        "revocation_endpoint": app.url("/revoke"),
        "registration_endpoint": app.url("/register"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "jwt", "query.jwt"],
        // JARM responses are signed with the server's own key alone.
        "authorization_signing_alg_values_supported": [crate::jose::alg_name(app.keys.id_token.alg())],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "jwks_uri": app.url("/jwks"),
        "pushed_authorization_request_endpoint": app.url("/par"),
        "require_pushed_authorization_requests": app.require_par,
        "dpop_signing_alg_values_supported": super::dpop::algs(&app),
        "scopes_supported": ["openid", "profile", "email", "address", "phone"],
        "claims_parameter_supported": true,
        "claims_supported": ["sub", "name", "given_name", "family_name", "preferred_username", "locale", "updated_at", "email", "email_verified", "address", "phone_number", "phone_number_verified"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": super::oidc::id_token_algs(&app),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": client_algs(&app),
        "code_challenge_methods_supported": ["S256"],
        "request_parameter_supported": true,
        "request_uri_parameter_supported": true,
        "require_request_uri_registration": false,
        "request_object_signing_alg_values_supported": request_object_algs(&app),
        "authorization_response_iss_parameter_supported": true,
    });
    if let Some(o) = m.as_object_mut() {
        if app.issuer.starts_with("https:") {
            // RFC 8705 §2.1.1, §2.2.1, §3.3: client certificates taken, tokens bound to them.
            o.insert(
                "tls_client_certificate_bound_access_tokens".into(),
                serde_json::json!(true),
            );
            if let Some(serde_json::Value::Array(methods)) =
                o.get_mut("token_endpoint_auth_methods_supported")
            {
                methods.push(serde_json::json!("self_signed_tls_client_auth"));
            }
        }
        if app.has(Defect::WrongIssUnannounced) {
            o.remove("authorization_response_iss_parameter_supported");
        }
        if app.has(Defect::MetadataRs256Only) {
            for list in [
                "id_token_signing_alg_values_supported",
                "token_endpoint_auth_signing_alg_values_supported",
                "dpop_signing_alg_values_supported",
            ] {
                o.insert(list.into(), serde_json::json!(["RS256"]));
            }
        }
        if app.has(Defect::MetadataSecretAuthOnly) {
            o.insert(
                "token_endpoint_auth_methods_supported".into(),
                serde_json::json!(["client_secret_basic", "client_secret_post"]),
            );
        }
        if app.has(Defect::MetadataScopesWithoutOpenid) {
            o.insert(
                "scopes_supported".into(),
                serde_json::json!(["profile", "email", "address", "phone"]),
            );
        }
        if app.has(Defect::MetadataWithoutSubjectTypes) {
            o.remove("subject_types_supported");
        }
        if app.has(Defect::MetadataIncomplete) {
            o.remove("code_challenge_methods_supported");
            o.remove("response_types_supported");
            o.insert(
                "grant_types_supported".into(),
                serde_json::json!(["refresh_token"]),
            );
        }
        if app.has(Defect::AcceptsPlain) {
            o.insert(
                "code_challenge_methods_supported".into(),
                serde_json::json!(["S256", "plain"]),
            );
        }
    }
    let mut r = json(&app, StatusCode::OK, &m, &[]);
    r.headers_mut().remove(header::PRAGMA);
    r.headers_mut().remove(header::CACHE_CONTROL);
    r
}

/// What client assertions and request objects may be signed with: the FAPI 2.0 set-up's
/// algorithms (§5.4.1), and outside it RS256 and HS256 too.
fn client_algs(app: &App) -> Vec<&'static str> {
    if app.require_par && !app.has(Defect::Rs256Accepted) {
        vec!["ES256", "PS256"]
    } else {
        vec!["ES256", "PS256", "RS256", "HS256"]
    }
}

/// The algorithms request objects may be signed with: the clients', and `none` where the
/// server takes unsigned ones.
fn request_object_algs(app: &App) -> Vec<&'static str> {
    let mut algs = client_algs(app);
    if super::request_object::takes_unsigned(app) {
        algs.push("none");
    }
    algs
}

/// The defect `jwt-access-token-unverified`: a JWT access token this server did not issue is
/// taken on its claims alone (its `sub`, an `exp` still ahead), whatever its `alg` or
/// signature, as resource servers that decode without verifying do. Its subject, if taken.
fn unverified_jwt(app: &App, token: &str) -> Option<String> {
    if !app.has(Defect::JwtAccessTokenUnverified) {
        return None;
    }
    let claims: serde_json::Value = token
        .split('.')
        .nth(1)
        .and_then(crate::jose::unb64)
        .and_then(|b| serde_json::from_slice(&b).ok())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    (claims.get("exp")?.as_u64()? > now)
        .then(|| claims.get("sub")?.as_str().map(str::to_owned))
        .flatten()
}

/// An access token within the lifetime its `expires_in` declared (RFC 6749 §5.1); a server
/// with `access-token-outlives-expires-in` takes it for ever.
fn current(app: &App, token: &super::state::TokenRecord) -> bool {
    token.issued.elapsed() <= app.access_token_lifetime
        || app.has(Defect::AccessTokenOutlivesExpiresIn)
}

/// `GET` or `POST /userinfo` (OpenID Connect Core §5.3.1: both MUST be supported) with a
/// Bearer token in the header (RFC 6750 §2.1, the scheme case-insensitive as RFC 9110 §11.1
/// makes every scheme; a token in the query is not taken, RFC 9700 §4.3.2, nor one in a form
/// body, which RFC 6750 §2.2 leaves to the server).
pub(super) async fn userinfo(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<PeerCert>,
    method: axum::http::Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if method == axum::http::Method::POST && app.has(Defect::UserinfoGetOnly) {
        return json(
            &app,
            StatusCode::METHOD_NOT_ALLOWED,
            &serde_json::json!({"error": "invalid_request"}),
            &[(header::ALLOW, "GET".to_owned())],
        );
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let in_query = Params::parse(query.as_deref().unwrap_or(""))
        .get("access_token")
        .map(str::to_owned)
        .filter(|_| {
            app.has(Defect::TokenInQueryAccepted) || app.has(Defect::QueryTokenServedCacheable)
        });
    let (scheme, token) = match authorization.and_then(|v| v.split_once(' ')) {
        Some((scheme, token)) => (scheme, Some(token)),
        None => match &in_query {
            Some(t) => ("Bearer", Some(t.as_str())),
            None => ("", None),
        },
    };
    // Schemes compare case-insensitively, unless the defect compares them as written.
    let scheme = if app.has(Defect::BearerSchemeCaseSensitive) {
        scheme
    } else if scheme.eq_ignore_ascii_case("bearer") {
        "Bearer"
    } else if scheme.eq_ignore_ascii_case("dpop") {
        "DPoP"
    } else {
        scheme
    };
    let known = token.and_then(|t| {
        let store = app.store();
        let recorded = store.access_tokens.get(t).map(|r| {
            (
                r.active
                    && current(&app, r)
                    && r.x5t.as_ref().is_none_or(|x| peer.0.as_ref() == Some(x)),
                (
                    r.jkt.clone(),
                    r.claims,
                    super::oidc::subject(&app, &store.registered, &r.client_id),
                ),
            )
        });
        recorded
            .or_else(|| unverified_jwt(&app, t).map(|sub| (true, (None, Default::default(), sub))))
    });
    if app.revoked_userinfo_fails && matches!(known, Some((false, _))) {
        return json(
            &app,
            StatusCode::INTERNAL_SERVER_ERROR,
            &serde_json::json!({"error": "server_error"}),
            &[],
        );
    }
    let record = known.filter(|(active, _)| *active).map(|(_, bound)| bound);
    // RFC 9449 §7: a DPoP-bound token comes with the DPoP scheme and a proof of its key.
    let active = match (&record, scheme) {
        (None, _) => false,
        (Some(_), _) if app.has(Defect::DpopResourceUnbound) => true,
        (Some((None, _, _)), "Bearer") => true,
        (Some((Some(jkt), _, _)), "DPoP") => {
            match super::dpop::check(
                &app,
                &headers,
                method.as_str(),
                &app.url("/userinfo"),
                token,
                false,
            ) {
                Ok(Some(proof)) => proof.jkt == *jkt,
                Err(_) if app.has(Defect::DpopJwkOptional) => super::dpop::keyless(&headers),
                _ => false,
            }
        }
        _ => false,
    };
    if active {
        let (claims, sub) = match record {
            Some((_, scopes, sub)) => (Some(scopes), sub),
            None => (None, super::USERNAME.to_owned()),
        };
        let sub = if app.has(Defect::UserinfoSubDiffers) {
            "bob".to_owned()
        } else {
            sub
        };
        // OpenID Connect Core §5.4: the claims the grant's scope asked for, beside sub.
        let mut claims = match claims {
            Some(scopes) if !app.has(Defect::ScopeClaimsIgnored) => {
                scopes.claims(app.has(Defect::ClaimTypesWrong))
            }
            _ => serde_json::Map::new(),
        };
        claims.insert("sub".into(), serde_json::json!(sub));
        let mut served = json(
            &app,
            StatusCode::OK,
            &serde_json::Value::Object(claims),
            &[],
        );
        if authorization.is_none() && app.has(Defect::QueryTokenServedCacheable) {
            served.headers_mut().remove(header::CACHE_CONTROL);
            served.headers_mut().remove(header::PRAGMA);
        }
        return served;
    }
    let scheme = if matches!(record, Some((Some(_), _, _))) {
        "DPoP"
    } else {
        "Bearer"
    };
    let challenge = (
        header::WWW_AUTHENTICATE,
        format!("{scheme} error=\"invalid_token\""),
    );
    json(
        &app,
        StatusCode::UNAUTHORIZED,
        &serde_json::json!({"error": "invalid_token"}),
        &[challenge],
    )
}

/// `POST /introspect` (RFC 7662), for confidential clients.
pub(super) async fn introspect(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<PeerCert>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::parse(&String::from_utf8_lossy(&body));
    done((|| {
        let client = authenticate_client(&app, &headers, &p, &peer)?;
        if !is_confidential(&client) {
            return Err(invalid_client(
                &app,
                false,
                "introspection requires a confidential client",
            ));
        }
        let token = p.get("token").unwrap_or("");
        let store = app.store();
        let (active, client_id) = match (
            store.access_tokens.get(token),
            store.refresh_tokens.get(token),
        ) {
            (Some(a), _) => (a.active && current(&app, a), a.client_id.clone()),
            (_, Some(r)) => (r.active && !r.rotated.any(), r.client_id.clone()),
            _ => (false, String::new()),
        };
        drop(store);
        let body = if active {
            serde_json::json!({"active": true, "client_id": client_id})
        } else {
            serde_json::json!({"active": false})
        };
        Ok(json(&app, StatusCode::OK, &body, &[]))
    })())
}
