//! Pushed authorization requests (RFC 9126): `POST /par` stores an authorization request for an
//! authenticated client and answers a `request_uri`; the authorization endpoint then takes the
//! request from there, once, before it expires, for that client only, and from nowhere else.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::pages::{Reply, done, error_page, json, oauth_error, post_only};
use super::state::{App, Pushed};
use super::tls::PeerCert;
use super::token::{Strength, authenticate_client, issue};
use crate::defect::Defect;
use crate::params::Params;

/// RFC 9126 §2.2: the prefix of the request URIs this server hands out.
const URN: &str = "urn:ietf:params:oauth:request_uri:";

/// Whether `request_uri` is one this server handed out for a pushed request (RFC 9126 §2.2),
/// not a URL to fetch a request object from.
pub(super) fn is_pushed(request_uri: &str) -> bool {
    request_uri.starts_with(URN)
}

/// Parameters that authenticate the client at the PAR endpoint, not part of the request.
const CLIENT_AUTH: &[&str] = &["client_secret", "client_assertion", "client_assertion_type"];

/// `POST /par` (RFC 9126 §2).
pub(super) async fn push(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<PeerCert>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::parse(&String::from_utf8_lossy(&body));
    super::registration::keys_for_assertion(&app, p.get("client_assertion")).await;
    done(push_inner(&app, &headers, &p, &peer))
}

/// `GET /par`: RFC 9126 §2 defines the push as a POST; the defect takes the query instead.
pub(super) async fn push_get(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<PeerCert>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if app.has(Defect::ParGetAccepted) {
        let p = Params::parse(q.as_deref().unwrap_or(""));
        return done(push_inner(&app, &headers, &p, &peer));
    }
    post_only(&app, "PAR")
}

/// RFC 9449 §10.1: a DPoP proof on the push binds the code to its key, as `dpop_jkt` does; a
/// server that supports both MUST take either, and refuse a push whose `dpop_jkt` names another
/// key than its proof. The key the code is bound to, if the push brings a proof.
fn proof_key(app: &App, headers: &HeaderMap, p: &Params) -> Result<Option<String>, Response> {
    if !headers.contains_key("dpop") {
        return Ok(None);
    }
    if app.has(Defect::ParDpopHeaderRefused) {
        return Err(oauth_error(
            app,
            "invalid_request",
            "a DPoP proof is not taken at the PAR endpoint",
        ));
    }
    let proof = super::dpop::check(
        app,
        headers,
        "POST",
        &app.url("/par"),
        None,
        app.dpop_nonce_required,
    )
    .map_err(|refusal| super::dpop::token_refusal(app, &refusal))?;
    let Some(proof) = proof else {
        return Ok(None);
    };
    if p.get("dpop_jkt").is_some_and(|sent| sent != proof.jkt)
        && !app.has(Defect::ParDpopJktMismatchAccepted)
    {
        return Err(oauth_error(
            app,
            "invalid_dpop_proof",
            "dpop_jkt names another key than the DPoP proof's",
        ));
    }
    Ok((!app.has(Defect::ParDpopProofIgnored)).then_some(proof.jkt))
}

fn push_inner(app: &App, headers: &HeaderMap, p: &Params, peer: &PeerCert) -> Reply {
    let claimed = p.get("client_id").and_then(|id| app.client(id));
    let client = match claimed {
        Some(client) if app.has(Defect::ParClientAuthUnchecked) => client,
        _ => authenticate_client(app, headers, p, peer)?,
    };
    if p.get("request_uri").is_some() && !app.has(Defect::ParRequestUriAccepted) {
        // §2.1: the request itself cannot be a reference.
        return Err(oauth_error(
            app,
            "invalid_request",
            "request_uri must not be pushed",
        ));
    }
    // RFC 9126 §3: a pushed request object is the request; what is beside it authenticates.
    // RFC 9101 §10.5: a client registered with require_signed_request_object pushes its
    // request in a signed request object, never as plain parameters.
    if client.require_signed_request_object
        && p.get("request").is_none()
        && !app.has(Defect::SignedRequestRequirementIgnored)
    {
        return Err(oauth_error(
            app,
            "invalid_request",
            "this client's requests must come in a signed request object (require_signed_request_object)",
        ));
    }
    let unpacked;
    let p = if p.get("request").is_some() {
        unpacked = super::request_object::unpack(app, &client, p)
            .map_err(|refused| oauth_error(app, "invalid_request_object", &refused.to_string()))?;
        &unpacked
    } else {
        p
    };
    let bound_to = proof_key(app, headers, p)?;
    // §2.4: the redirect URI is checked here as the authorization endpoint would.
    if !app.has(Defect::ParRedirectUnchecked) {
        let registered: Vec<&String> = std::iter::once(&client.redirect_uri)
            .chain(&client.more_redirect_uris)
            .collect();
        match p.get("redirect_uri").filter(|v| !v.is_empty()) {
            Some(given)
                if !registered
                    .iter()
                    .any(|r| super::grant::redirect_matches(app, r, given)) =>
            {
                return Err(oauth_error(
                    app,
                    "invalid_request",
                    "redirect_uri does not match a registered redirect URI",
                ));
            }
            None if registered.len() > 1 => {
                return Err(oauth_error(
                    app,
                    "invalid_request",
                    "redirect_uri is required: this client has several",
                ));
            }
            // FAPI 2.0 §5.3.2.2 (the set-up that requires PAR): always required.
            None if app.require_par && !app.has(Defect::ParRedirectUriOptional) => {
                return Err(oauth_error(
                    app,
                    "invalid_request",
                    "redirect_uri is required in a pushed request (FAPI 2.0)",
                ));
            }
            _ => {}
        }
    }
    let mut params = Params::new();
    for (k, v) in p
        .iter()
        .filter(|(k, _)| !CLIENT_AUTH.contains(k) && !["client_id", "request_uri"].contains(k))
    {
        params.push(k, v);
    }
    params.push("client_id", client.client_id.clone());
    if let (Some(jkt), None) = (bound_to, params.get("dpop_jkt")) {
        params.push("dpop_jkt", jkt);
    }
    let strength = if app.has(Defect::WeakRequestUris) {
        Strength::Counter
    } else if app.has(Defect::RequestUris128Bits) {
        Strength::Bits128
    } else {
        Strength::Full
    };
    let reference = issue(&mut app.store().counter, strength, "r")?;
    let request_uri = format!("{URN}{reference}");
    let lifetime = app.request_uri_lifetime;
    app.store().pushed.insert(
        request_uri.clone(),
        Pushed {
            client_id: client.client_id.clone(),
            params,
            expires: Instant::now() + lifetime,
            used: false,
        },
    );
    Ok(json(
        app,
        StatusCode::CREATED,
        &serde_json::json!({ "request_uri": request_uri, "expires_in": lifetime.as_secs() }),
        &[],
    ))
}

/// The authorization request `p` (`client_id` and `request_uri`) stands for: the pushed
/// parameters, if the reference is known, unused, unexpired and the client's own (RFC 9126 §4,
/// §7.3). Anything else is an error page: the pushed redirect URI is not trusted for a request
/// that cannot be resolved.
pub(super) fn resolve(app: &App, p: &Params) -> Result<Params, Response> {
    let uri = p.get("request_uri").unwrap_or("");
    let mut store = app.store();
    let Some(pushed) = store.pushed.get_mut(uri) else {
        return Err(error_page(app, "unknown request_uri"));
    };
    if pushed.used && !app.has(Defect::ParReusable) {
        return Err(error_page(app, "request_uri was used already"));
    }
    if Instant::now() > pushed.expires && !app.has(Defect::ParNeverExpires) {
        return Err(error_page(app, "request_uri expired"));
    }
    if p.get("client_id") != Some(pushed.client_id.as_str())
        && !app.has(Defect::ParNotBoundToClient)
    {
        return Err(error_page(app, "request_uri was pushed by another client"));
    }
    if app.has(Defect::RequestUriSpentOnVisit) {
        pushed.used = true;
    }
    let mut effective = pushed.params.clone();
    if app.has(Defect::ParFrontChannelOverrides) {
        // Parameters beside the reference win over the pushed ones: the front channel can
        // change what the client authenticated.
        for (k, v) in p
            .iter()
            .filter(|(k, _)| *k != "request_uri" && *k != "client_id")
        {
            effective.set(k, v);
        }
    }
    Ok(effective)
}
