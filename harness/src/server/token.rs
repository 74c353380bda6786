//! The token endpoint (RFC 6749 §3.2, §4.1.3, §5, §6; RFC 7636 §4.5-§4.6; RFC 9700 §2.1.1,
//! §2.2.2, §4.8.2; OAuth 2.1 code reuse rules).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;

use super::claims::Released;
use super::config::RegisteredClient;
use super::dpop::Proof;
use super::pages::{Reply, done, fresh, invalid_client, json, oauth_error, post_only};
use super::state::{App, Expiring, Node, OpenIdGrant, RefreshRecord, Registration, TokenRecord};
use super::tls::PeerCert;
use crate::defect::Defect;
use crate::params::Params;
use crate::pkce::{CodeChallenge, CodeVerifier, Method, s256_of_text, verify};
use crate::target::AuthMethod;

/// How long a server with a short memory (`spent-mark-short-lived`,
/// `replay-revocation-forgotten`) remembers a redeemed code's use or the tokens it gave.
const SHORT_MEMORY: Duration = Duration::from_millis(300);

const KNOWN_PARAMS: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "client_id",
    "client_secret",
    "code_verifier",
    "refresh_token",
    "scope",
    "client_assertion",
    "client_assertion_type",
];

/// `OPTIONS /token`.
pub(super) async fn preflight() -> Response {
    let mut r = Response::new(axum::body::Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

/// `GET /token`: RFC 6749 §3.2 requires POST.
pub(super) async fn token_get(
    State(app): State<Arc<App>>,
    Extension(node): Extension<Node>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if app.has(Defect::TokenGetAllowed) {
        return done(handle(
            &app,
            &headers,
            &Params::parse(q.as_deref().unwrap_or("")),
            &Params::new(),
            Redeem::Normal,
            None,
            Caller { cert: None, node },
        ));
    }
    post_only(&app, "token")
}

/// `POST /token`.
pub(super) async fn token(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<PeerCert>,
    Extension(node): Extension<Node>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let peer = Caller {
        cert: peer.0.as_deref(),
        node,
    };
    app.store().arrivals.push(std::time::Instant::now());
    let _serving = match Serving::enter(&app) {
        Ok(s) => s,
        Err(locked) => return locked,
    };
    if app.busy.is_some() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let query = Params::parse(q.as_deref().unwrap_or(""));
    let body = Params::parse(&String::from_utf8_lossy(&body));
    super::registration::keys_for_assertion(&app, body.get("client_assertion")).await;
    // Checked once per request (a proof is single use), before the grant is looked at.
    let proof = match super::dpop::check(
        &app,
        &headers,
        "POST",
        &app.url("/token"),
        None,
        app.dpop_nonce_required,
    ) {
        Ok(p) => p,
        Err(refusal) => return super::dpop::token_refusal(&app, &refusal),
    };
    let proof = proof.as_ref();
    // FAPI 2.0: only sender-constrained tokens, so a token request carries a proof.
    if app.dpop_nonce_required && proof.is_none() && !app.has(Defect::DpopNotRequired) {
        return super::pages::oauth_error(
            &app,
            "invalid_dpop_proof",
            "this server issues DPoP-bound tokens only: send a DPoP proof",
        );
    }
    let racy = match body.get("grant_type") {
        Some("authorization_code") => app.has(Defect::CodeRaceWindow),
        Some("refresh_token") => app.has(Defect::RefreshRaceWindow),
        _ => false,
    };
    if racy {
        // BUG-12: check, yield while other requests run, then consume without checking again.
        if let Err(refused) = handle(
            &app,
            &headers,
            &body,
            &query,
            Redeem::CheckOnly,
            proof,
            peer,
        ) {
            return refused;
        }
        let until = Instant::now() + app.race_window;
        while Instant::now() < until {
            tokio::task::yield_now().await;
        }
        return done(handle(
            &app,
            &headers,
            &body,
            &query,
            Redeem::SkipSingleUse,
            proof,
            peer,
        ));
    }
    done(handle(
        &app,
        &headers,
        &body,
        &query,
        Redeem::Normal,
        proof,
        peer,
    ))
}

/// A token request being served, for the `busy_under_load` fixture: the second at a time is
/// refused with 500; leaving frees the slot.
struct Serving<'a>(Option<&'a std::sync::atomic::AtomicUsize>);

impl<'a> Serving<'a> {
    fn enter(app: &'a App) -> Result<Self, Response> {
        use std::sync::atomic::Ordering;
        let Some(busy) = &app.busy else {
            return Ok(Self(None));
        };
        if busy.fetch_add(1, Ordering::SeqCst) > 0 {
            busy.fetch_sub(1, Ordering::SeqCst);
            let mut r = super::pages::server_error("database is locked");
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            return Err(r);
        }
        Ok(Self(Some(busy)))
    }
}

impl Drop for Serving<'_> {
    fn drop(&mut self) {
        if let Some(busy) = self.0 {
            busy.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// How a code redemption treats single use: normally checked and consumed in one critical
/// section; the `code-race-window` defect splits that in two.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Redeem {
    Normal,
    /// Every check, no consumption (the response is discarded).
    CheckOnly,
    /// Consume without checking that the code is unused.
    SkipSingleUse,
}

/// Who sent a token request, as the connection says: the client certificate's thumbprint (if
/// any) and the node it reached.
#[derive(Clone, Copy)]
struct Caller<'a> {
    cert: Option<&'a str>,
    node: Node,
}

fn handle(
    app: &App,
    headers: &HeaderMap,
    body: &Params,
    query: &Params,
    redeem: Redeem,
    proof: Option<&Proof>,
    Caller { cert: peer, node }: Caller<'_>,
) -> Reply {
    let mut p = body.clone();
    if query.get("client_secret").is_some() {
        // RFC 6749 §2.3.1: credentials MUST NOT be in the request URI.
        if !app.has(Defect::SecretInQuery) {
            return Err(oauth_error(
                app,
                "invalid_request",
                "client credentials must not be sent in the query string",
            ));
        }
        for (k, v) in query.iter() {
            p.push(k, v);
        }
    }
    if !app.has(Defect::RepeatedParamsAccepted)
        && let Some(name) = p.repeated().first()
    {
        return Err(oauth_error(
            app,
            "invalid_request",
            &format!("{name} is repeated"),
        ));
    }
    if app.has(Defect::RejectsUnknownParams)
        && let Some((name, _)) = p.iter().find(|(n, _)| !KNOWN_PARAMS.contains(n))
    {
        return Err(oauth_error(
            app,
            "invalid_request",
            &format!("unknown parameter {name}"),
        ));
    }
    let grant_type = nonempty(&p, "grant_type");
    let client = authenticate(app, headers, &p, peer)?;
    // RFC 8705 §3: an mTLS client's tokens are bound to the certificate it authenticated with.
    let bound = Binding {
        proof,
        x5t: client
            .as_ref()
            .filter(|c| c.auth_method.is_mtls() && !app.has(Defect::MtlsBindingUnchecked))
            .and(peer),
    };
    let grant = || Grant {
        client: client.as_ref(),
        p: &p,
        redeem,
        bound,
        node,
    };
    match grant_type {
        Some("authorization_code") => authorization_code(app, grant()),
        Some("refresh_token") => refresh(app, grant()),
        Some("password") if app.has(Defect::PasswordGrantAccepted) => {
            password(app, client.as_ref(), &p)
        }
        None => Err(oauth_error(app, "invalid_request", "grant_type is missing")),
        Some(_) if app.has(Defect::WrongGrantErrors) => {
            Err(oauth_error(app, "invalid_request", "bad grant_type"))
        }
        Some(_) => Err(oauth_error(
            app,
            "unsupported_grant_type",
            "grant_type not supported",
        )),
    }
}

/// The resource owner password grant (RFC 6749 §4.3), which RFC 9700 §2.4 rules out: only
/// with the `password-grant-accepted` defect.
fn password(app: &App, client: Option<&RegisteredClient>, p: &Params) -> Reply {
    let Some(client) = client else {
        return Err(oauth_error(app, "invalid_request", "client_id is missing"));
    };
    if p.get("username") != Some(super::config::USERNAME)
        || p.get("password") != Some(super::config::PASSWORD)
    {
        return Err(oauth_error(
            app,
            "invalid_grant",
            "wrong user name or password",
        ));
    }
    let access = lone_access_token(
        app,
        &mut app.store(),
        &client.client_id,
        Released::default(),
    )?;
    Ok(json(
        app,
        StatusCode::OK,
        &serde_json::json!({"access_token": access, "token_type": "Bearer", "expires_in": app.access_token_lifetime.as_secs()}),
        &[],
    ))
}

fn nonempty<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
    p.get(name).filter(|v| !v.is_empty())
}

/// What a token response's tokens are bound to: the DPoP key of the request's proof (RFC 9449),
/// the certificate an mTLS client authenticated with (RFC 8705 §3).
#[derive(Clone, Copy)]
struct Binding<'a> {
    proof: Option<&'a Proof>,
    x5t: Option<&'a str>,
}

/// What a grant that is used once (a code, a rotated refresh token) is handled with: the
/// authenticated client, the request's parameters, how far the single use is checked (the race
/// defects split it in two), and what the tokens are bound to.
struct Grant<'a> {
    client: Option<&'a RegisteredClient>,
    p: &'a Params,
    redeem: Redeem,
    bound: Binding<'a>,
    /// The node the request reached.
    node: Node,
}

impl<'a> Grant<'a> {
    fn parts(
        self,
    ) -> (
        Option<&'a RegisteredClient>,
        &'a Params,
        Redeem,
        Binding<'a>,
        Node,
    ) {
        (self.client, self.p, self.redeem, self.bound, self.node)
    }
}

impl Binding<'_> {
    /// Bound to nothing: a bearer token.
    fn none() -> Self {
        Self {
            proof: None,
            x5t: None,
        }
    }
}

/// Who is calling: RFC 6749 §2.3. `Ok(None)` means "no client_id at all", allowed only with the
/// `public-client-id-optional` defect (the code then names the client).
fn authenticate(
    app: &App,
    headers: &HeaderMap,
    p: &Params,
    peer: Option<&str>,
) -> Result<Option<RegisteredClient>, Response> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    let basic = match basic {
        Some(b) => Some(
            decode_basic(b)
                .ok_or_else(|| invalid_client(app, true, "malformed Basic credentials"))?,
        ),
        None => None,
    };
    let body_secret = nonempty(p, "client_secret");
    if let Some(assertion) = nonempty(p, "client_assertion") {
        // RFC 6749 §2.3: one authentication method per request.
        if basic.is_some() || body_secret.is_some() {
            return Err(oauth_error(
                app,
                "invalid_request",
                "more than one client authentication method",
            ));
        }
        return super::oidc::authenticate_assertion(
            app,
            nonempty(p, "client_assertion_type"),
            assertion,
            nonempty(p, "client_id"),
        )
        .map(Some);
    }
    if basic.is_some() && body_secret.is_some() && !app.has(Defect::MultipleAuthAccepted) {
        return Err(oauth_error(
            app,
            "invalid_request",
            "more than one client authentication method",
        ));
    }
    let (client_id, secret, used_basic) = match &basic {
        Some((id, secret)) => (Some(id.as_str()), Some(secret.as_str()), true),
        None => (nonempty(p, "client_id"), body_secret, false),
    };
    let Some(client_id) = client_id else {
        if app.has(Defect::PublicClientIdOptional) {
            return Ok(None);
        }
        return Err(oauth_error(app, "invalid_request", "client_id is missing"));
    };
    if used_basic && nonempty(p, "client_id").is_some_and(|id| id != client_id) {
        return Err(oauth_error(
            app,
            "invalid_request",
            "client_id differs from the authenticated client",
        ));
    }
    let client = app
        .client(client_id)
        .ok_or_else(|| invalid_client(app, used_basic, "unknown client"))?;
    if client.auth_method.is_mtls() {
        // RFC 8705 §2.2: the connection's certificate is the one registered for the client.
        let registered = client.tls_thumbprint.as_deref();
        if (peer.is_none() || peer != registered) && !app.has(Defect::MtlsCertificateUnchecked) {
            return Err(invalid_client(
                app,
                used_basic,
                "the TLS client certificate is missing or not the one registered for this client",
            ));
        }
        return Ok(Some(client));
    }
    if matches!(
        client.auth_method,
        AuthMethod::PrivateKeyJwt | AuthMethod::ClientSecretJwt
    ) && !app.has(Defect::ClientAuthOptional)
    {
        // Registered for assertions: a secret (or nothing) does not authenticate it.
        return Err(invalid_client(
            app,
            used_basic,
            "this client authenticates with a client assertion",
        ));
    }
    match (&client.secret, secret) {
        (Some(expected), Some(given))
            if !crate::pkce::ct_eq(expected.expose().as_bytes(), given.as_bytes()) =>
        {
            return Err(invalid_client(
                app,
                used_basic,
                "client authentication failed",
            ));
        }
        (Some(_), None) if !app.has(Defect::ClientAuthOptional) => {
            return Err(invalid_client(
                app,
                used_basic,
                "client authentication required",
            ));
        }
        _ => {}
    }
    Ok(Some(client))
}

/// A new token (or PAR request URI): random, or with a `weak-*` defect the next value of the
/// server's counter behind a fixed prefix (guessable, as RFC 6749 §10.10 forbids).
pub(super) fn issue(
    counter: &mut u64,
    strength: Strength,
    prefix: &str,
) -> Result<String, Response> {
    match strength {
        Strength::Counter => {
            *counter += 1;
            Ok(format!("{prefix}-{:012}", *counter))
        }
        Strength::Bits128 => {
            let mut octets = [0u8; 16];
            getrandom::fill(&mut octets)
                .map_err(|e| super::pages::server_error(&format!("no entropy: {e}")))?;
            Ok(crate::jose::b64(octets))
        }
        Strength::Full => fresh(),
    }
}

/// An unbound access token of `client_id` that is a grant of its own, with no refresh token:
/// the password grant's, and the front channel's under the `front-channel-tokens` defect.
pub(super) fn lone_access_token(
    app: &App,
    store: &mut super::state::Store,
    client_id: &str,
    claims: Released,
) -> Result<String, Response> {
    let family = store.counter;
    store.counter += 1;
    access_token(app, store, client_id, (family, claims), Binding::none())
}

/// A new access token of `client_id` from the grant `family` with its claims, recorded with
/// what it is bound to.
fn access_token(
    app: &App,
    store: &mut super::state::Store,
    client_id: &str,
    (family, claims): (u64, Released),
    bound: Binding<'_>,
) -> Result<String, Response> {
    let access = mint_access(app, (&mut store.counter, &store.registered), client_id)?;
    store.access_tokens.insert(
        access.clone(),
        TokenRecord {
            client_id: client_id.to_owned(),
            active: true,
            issued: Instant::now(),
            family,
            jkt: bound.proof.map(|p| p.jkt.clone()),
            x5t: bound.x5t.map(str::to_owned),
            claims,
        },
    );
    Ok(access)
}

/// A new access token of `client_id`: random (as hard to guess as [`access_strength`] says),
/// or where the server issues JWT access tokens one of RFC 9068 §2.2 (`typ: at+jwt`; `iss`,
/// `sub`, `aud` the UserInfo endpoint, `client_id`, `iat`, `exp`, a random `jti`), signed with
/// the ID Token key.
fn mint_access(
    app: &App,
    (counter, registered): (&mut u64, &Expiring<Registration>),
    client_id: &str,
) -> Result<String, Response> {
    let random = issue(counter, access_strength(app), "at")?;
    if !app.jwt_access_tokens {
        return Ok(random);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = serde_json::json!({
        "iss": app.issuer, "sub": super::oidc::subject(app, registered, client_id),
        "aud": app.url("/userinfo"), "client_id": client_id,
        "iat": now, "exp": now + app.access_token_lifetime.as_secs(), "jti": random,
    });
    let mut header = serde_json::Map::new();
    header.insert("typ".into(), "at+jwt".into());
    app.keys
        .id_token
        .sign(&claims, &header)
        .map_err(|e| super::pages::server_error(&e.to_string()))
}

/// How hard to guess a token is: as this server makes them, or as a defect makes them.
#[derive(Clone, Copy)]
pub(super) enum Strength {
    /// [`fresh`]: 256 random bits.
    Full,
    /// 16 random octets: the 128 bits RFC 6749 §10.10 requires, not the 160 it recommends.
    Bits128,
    /// A counter's next value.
    Counter,
}

/// The strength of access tokens under `app`'s defects.
fn access_strength(app: &App) -> Strength {
    if app.has(Defect::WeakAccessTokens) {
        Strength::Counter
    } else {
        Strength::Full
    }
}

/// The strength of refresh tokens under `app`'s defects.
fn refresh_strength(app: &App) -> Strength {
    if app.has(Defect::WeakRefreshTokens) {
        Strength::Counter
    } else if app.has(Defect::RefreshTokens128Bits) {
        Strength::Bits128
    } else {
        Strength::Full
    }
}

/// RFC 6749 §2.3.1: `client_id:client_secret`, each form-urlencoded, then base64.
pub(super) fn decode_basic(b64: &str) -> Option<(String, String)> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    let dec = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((dec(id)?, dec(secret)?))
}

fn authorization_code(app: &App, grant: Grant<'_>) -> Reply {
    let (client, p, redeem, Binding { proof, x5t }, node) = grant.parts();
    let Some(code) = nonempty(p, "code") else {
        let error = if app.has(Defect::WrongGrantErrors) {
            "invalid_grant"
        } else {
            "invalid_request"
        };
        return Err(oauth_error(app, error, "code is missing"));
    };
    let mut guard = app.store();
    // The store's fields borrowed apart: the code's record and the counter at once.
    let store = &mut *guard;
    if let Some(v) = nonempty(p, "code_verifier") {
        store.verifiers.push(v.to_owned());
    }
    let Some(record) = store.codes.get_mut(code) else {
        let error = if app.has(Defect::WrongGrantErrors) {
            "invalid_request"
        } else {
            "invalid_grant"
        };
        return Err(oauth_error(app, error, "unknown code"));
    };
    let client_id = client.map_or_else(|| record.client_id.clone(), |c| c.client_id.clone());
    // Every check that judges the request itself comes first: a replay with invalid parameters
    // must not revoke the legitimate client's tokens (OAuth 2.1, "Reuse of Authorization Codes").
    if record.client_id != client_id && !app.has(Defect::CodeNotBoundToClient) {
        return Err(oauth_error(
            app,
            "invalid_grant",
            "code was issued to another client",
        ));
    }
    if !app.has(Defect::TokenRedirectUriUnchecked)
        && let Some(expected) = &record.redirect_uri
    {
        match nonempty(p, "redirect_uri") {
            None => {
                return Err(oauth_error(
                    app,
                    "invalid_request",
                    "redirect_uri is required: the authorization request had one",
                ));
            }
            Some(given) if given != expected => {
                return Err(oauth_error(
                    app,
                    "invalid_grant",
                    "redirect_uri differs from the authorization request",
                ));
            }
            Some(_) => {}
        }
    }
    // RFC 9449 §10: a code bound to a key is redeemed only with a proof of that key.
    if let Some(jkt) = &record.dpop_jkt
        && !app.has(Defect::DpopJktUnchecked)
        && proof.map(|p| &p.jkt) != Some(jkt)
    {
        return Err(oauth_error(
            app,
            "invalid_grant",
            "the code is bound to another DPoP key (dpop_jkt)",
        ));
    }
    let pkce = if record.pushed && app.has(Defect::ParSkipsPkce) {
        Ok(())
    } else {
        check_pkce(app, record.challenge.as_ref(), nonempty(p, "code_verifier"))
    };
    if let Err(description) = pkce {
        // RFC 7636 leaves it open; BUG-5's fix: a failed attempt burns the code.
        if !app.has(Defect::FailedAttemptKeepsCode) {
            record.spent.mark(node);
        }
        if app.has(Defect::RevokeOnInvalidReplay) {
            let issued = std::mem::take(&mut record.issued);
            revoke(store, &issued);
        }
        let error = if record_downgrade(&description) {
            "invalid_request"
        } else {
            "invalid_grant"
        };
        return Err(oauth_error(app, error, &description));
    }
    let local = app.has(Defect::NodeLocalSpentState);
    // How long ago the code was redeemed, against what a server with a short memory keeps: its
    // spent mark (`spent-mark-short-lived`), or the tokens the code gave (the defect
    // `replay-revocation-forgotten`).
    let forgotten = |defect| {
        app.has(defect)
            && record
                .spent
                .since()
                .is_some_and(|since| since > SHORT_MEMORY)
    };
    if record.spent.seen_at(node, local)
        && !app.has(Defect::ReusableCode)
        && !forgotten(Defect::SpentMarkShortLived)
        && redeem != Redeem::SkipSingleUse
    {
        let issued =
            if app.has(Defect::NoRevokeOnReplay) || forgotten(Defect::ReplayRevocationForgotten) {
                Vec::new()
            } else {
                std::mem::take(&mut record.issued)
            };
        revoke(store, &issued);
        if app.replay_forbidden {
            return Err(super::pages::json(
                app,
                StatusCode::FORBIDDEN,
                &serde_json::json!({"error": "access_denied", "error_description": "code was already used"}),
                &[],
            ));
        }
        return Err(oauth_error(app, "invalid_grant", "code was already used"));
    }
    if Instant::now() > record.expires && !app.has(Defect::CodeNeverExpires) {
        return Err(oauth_error(app, "invalid_grant", "code expired"));
    }
    if redeem == Redeem::CheckOnly {
        return Ok(Response::default());
    }
    record.spent.mark(node);
    let claims = record.claims;
    let access = mint_access(app, (&mut store.counter, &store.registered), &client_id)?;
    let refresh = issue(&mut store.counter, refresh_strength(app), "rt")?;
    record.issued.extend([access.clone(), refresh.clone()]);
    let family = store.counter;
    store.counter += 1;
    let jkt = proof.map(|p| p.jkt.clone());
    store.access_tokens.insert(
        access.clone(),
        TokenRecord {
            client_id: client_id.clone(),
            active: true,
            issued: Instant::now(),
            family,
            jkt: jkt.clone(),
            x5t: x5t.map(str::to_owned),
            claims,
        },
    );
    let public = app
        .client_in(store, &client_id)
        .is_some_and(|c| c.auth_method == AuthMethod::None);
    // RFC 9449 §5: a public client's refresh token is bound to its key.
    let refresh_jkt = jkt.filter(|_| public && !app.has(Defect::DpopRefreshUnbound));
    let id_token = match store.codes.get(code) {
        Some(record) if record.openid && !app.has(Defect::IdTokenMissing) => {
            let grant = super::oidc::Grant {
                client_id: &client_id,
                nonce: record.nonce.as_deref(),
                auth_time: record.auth_time,
                access_token: Some(&access),
                code: Some(code),
            };
            Some(super::oidc::id_token(app, store, &grant)?)
        }
        _ => None,
    };
    let openid = store
        .codes
        .get(code)
        .filter(|r| r.openid)
        .map(|r| OpenIdGrant {
            auth_time: r.auth_time,
        });
    store.refresh_tokens.insert(
        refresh.clone(),
        RefreshRecord {
            client_id,
            active: true,
            rotated: Default::default(),
            family,
            jkt: refresh_jkt,
            claims,
            openid,
        },
    );
    drop(guard);
    Ok(token_response(
        app,
        &access,
        &refresh,
        id_token.as_deref(),
        proof.is_some(),
    ))
}

const DOWNGRADE: &str = "code_verifier sent, but the authorization request had no code_challenge";

fn record_downgrade(description: &str) -> bool {
    description == DOWNGRADE
}

/// RFC 7636 §4.6 with the stored method, RFC 9700 §4.8.2 downgrade protection, and the verifier
/// grammar (§4.1) enforced as RFC 9700 and OAuth 2.1 servers do.
fn check_pkce(
    app: &App,
    stored: Option<&(CodeChallenge, Method)>,
    verifier: Option<&str>,
) -> Result<(), String> {
    let Some((challenge, method)) = stored else {
        return match verifier {
            Some(_) if !app.has(Defect::PkceDowngrade) => Err(DOWNGRADE.into()),
            _ => Ok(()),
        };
    };
    let Some(verifier) = verifier else {
        return if app.has(Defect::VerifierOptional) {
            Ok(())
        } else {
            Err("code_verifier is missing".into())
        };
    };
    if app.has(Defect::AcceptsWrongVerifier) {
        return Ok(());
    }
    if app.has(Defect::PlainSubstitution) && verifier == challenge.as_str() {
        return Ok(());
    }
    let ok = match CodeVerifier::parse(verifier) {
        Ok(v) if app.has(Defect::BrokenS256) && *method == Method::S256 => {
            // Hashes with standard base64 and padding: never equal to a valid challenge.
            let wrong = base64::engine::general_purpose::STANDARD.encode(sha2::Digest::finalize(
                <sha2::Sha256 as sha2::Digest>::new_with_prefix(v.expose_secret().as_bytes()),
            ));
            wrong == challenge.as_str()
        }
        Ok(v) => verify(challenge, *method, &v),
        Err(_) if app.has(Defect::NoVerifierAbnf) => {
            let derived = match method {
                Method::S256 => s256_of_text(verifier),
                Method::Plain => verifier.to_owned(),
            };
            derived == challenge.as_str()
        }
        Err(e) => return Err(e.to_string()),
    };
    if ok {
        Ok(())
    } else {
        Err("code_verifier does not match the code_challenge".into())
    }
}

fn revoke(store: &mut super::state::Store, tokens: &[String]) {
    for t in tokens {
        if let Some(a) = store.access_tokens.get_mut(t) {
            a.active = false;
        }
        if let Some(r) = store.refresh_tokens.get_mut(t) {
            r.active = false;
        }
    }
}

fn token_response(
    app: &App,
    access: &str,
    refresh: &str,
    id_token: Option<&str>,
    dpop: bool,
) -> Response {
    // RFC 9449 §5: a token bound to a DPoP key says so.
    let token_type = if dpop && !app.has(Defect::DpopTokenTypeBearer) {
        "DPoP"
    } else {
        "Bearer"
    };
    let mut body = serde_json::json!({
        "access_token": access, "token_type": token_type, "expires_in": app.access_token_lifetime.as_secs(), "refresh_token": refresh,
    });
    if let (Some(t), Some(o)) = (id_token, body.as_object_mut()) {
        o.insert("id_token".into(), serde_json::json!(t));
    }
    if app.has(Defect::NoExpiresIn)
        && let Some(o) = body.as_object_mut()
    {
        o.remove("expires_in");
    }
    if app.has(Defect::BadTokenResponse) {
        if let Some(o) = body.as_object_mut() {
            o.remove("token_type");
        }
        let mut r = json(app, StatusCode::OK, &body, &[]);
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/plain"),
        );
        return r;
    }
    json(app, StatusCode::OK, &body, &[])
}

/// RFC 6749 §6 with rotation and reuse detection (RFC 9700 §4.14.2).
fn refresh(app: &App, grant: Grant<'_>) -> Reply {
    let (client, p, redeem, Binding { proof, x5t }, node) = grant.parts();
    let Some(client) = client else {
        return Err(oauth_error(app, "invalid_request", "client_id is missing"));
    };
    let Some(rt) = nonempty(p, "refresh_token") else {
        return Err(oauth_error(
            app,
            "invalid_request",
            "refresh_token is missing",
        ));
    };
    let mut store = app.store();
    let Some(record) = store.refresh_tokens.get(rt) else {
        return Err(oauth_error(app, "invalid_grant", "unknown refresh token"));
    };
    if record.client_id != client.client_id && !app.has(Defect::RefreshNotBoundToClient) {
        return Err(oauth_error(
            app,
            "invalid_grant",
            "refresh token was issued to another client",
        ));
    }
    if !record.active {
        return Err(oauth_error(
            app,
            "invalid_grant",
            "refresh token is revoked",
        ));
    }
    if let Some(jkt) = &record.jkt
        && proof.map(|p| &p.jkt) != Some(jkt)
    {
        return Err(oauth_error(
            app,
            "invalid_grant",
            "the refresh token is bound to another DPoP key",
        ));
    }
    let bound = record.jkt.clone();
    let rotate = !app.has(Defect::NoRefreshRotation);
    let local = app.has(Defect::NodeLocalSpentState);
    if record.rotated.seen_at(node, local) && rotate && redeem != Redeem::SkipSingleUse {
        // Reuse of a rotated token: revoke the whole lineage.
        let family = record.family;
        for r in store
            .refresh_tokens
            .values_mut()
            .filter(|r| r.family == family)
        {
            r.active = false;
        }
        return Err(oauth_error(
            app,
            "invalid_grant",
            "refresh token reuse detected; lineage revoked",
        ));
    }
    if redeem == Redeem::CheckOnly {
        return Ok(Response::default());
    }
    let (family, claims, openid) = (record.family, record.claims, record.openid);
    let access = access_token(
        app,
        &mut store,
        &client.client_id,
        (family, claims),
        Binding { proof, x5t },
    )?;
    let new_rt = if rotate {
        let new_rt = issue(&mut store.counter, refresh_strength(app), "rt")?;
        if let Some(r) = store.refresh_tokens.get_mut(rt) {
            r.rotated.mark(node);
        }
        store.refresh_tokens.insert(
            new_rt.clone(),
            RefreshRecord {
                client_id: client.client_id.clone(),
                active: true,
                rotated: Default::default(),
                family,
                jkt: bound,
                claims,
                openid,
            },
        );
        new_rt
    } else {
        rt.to_owned()
    };
    // OpenID Connect Core §12.2: a new ID Token of the same authentication.
    let id_token = match openid {
        Some(grant) if !app.has(Defect::IdTokenMissing) => Some(super::oidc::id_token(
            app,
            &store,
            &super::oidc::Grant {
                client_id: &client.client_id,
                nonce: None,
                auth_time: grant.auth_time,
                access_token: Some(&access),
                code: None,
            },
        )?),
        _ => None,
    };
    drop(store);
    Ok(token_response(
        app,
        &access,
        &new_rt,
        id_token.as_deref(),
        proof.is_some(),
    ))
}

/// Whether `client` authenticates with a secret (used by introspection).
pub(super) fn is_confidential(client: &RegisteredClient) -> bool {
    client.auth_method != AuthMethod::None
}

/// Client authentication for other endpoints (introspection, revocation): same rules as the
/// token endpoint.
pub(super) fn authenticate_client(
    app: &App,
    headers: &HeaderMap,
    p: &Params,
    peer: &PeerCert,
) -> Result<RegisteredClient, Response> {
    match authenticate(app, headers, p, peer.0.as_deref())? {
        Some(c) => Ok(c),
        None => Err(oauth_error(app, "invalid_request", "client_id is missing")),
    }
}
