//! Request building, as pure functions: template variables, parameter mutations, PKCE values as
//! a scenario asks for them (also the malformed ones), redirect URI mutations, client
//! authentication, and the token request body. Nothing here sends, draws randomness or keeps
//! state; the step glue in `steps` feeds in what the context holds and sends what comes out.

use std::collections::HashMap;

use base64::Engine as _;
use url::Url;

use super::context::{Flow, ResolvedTarget};
use crate::outcome::Fault;
use crate::params::Params;
use crate::pkce::{Method, s256_of_text};
use crate::scenario::model::{
    AuthSpec, AuthorizeExpect, AuthorizeStep, ChallengeSpec, CodeSpec, DpopBinding, Mutations,
    NonceSpec, ParSpec, PkceSpec, RedirectMutation, RedirectSpec, StateSpec, Template, TokenStep,
    ValueSpec, VerifierSpec,
};
use crate::target::{AuthMethod, ClientConfig};
use crate::wire::{HttpMethod, Request};

/// Template variables by name.
pub type Vars = HashMap<&'static str, String>;

/// The template variables of the current scenario state.
pub fn vars(target: &ResolvedTarget, flow: Option<&Flow>, client: Option<&ClientConfig>) -> Vars {
    let mut v = HashMap::new();
    v.insert("issuer", target.issuer.clone().unwrap_or_default());
    v.insert("authorization_endpoint", target.authorization.to_string());
    if let Some(c) = client {
        v.insert("redirect_uri", c.redirect_uri.0.to_string());
        v.insert("client_id", c.client_id.0.clone());
    }
    if let Some(f) = flow {
        v.insert("state", f.state.clone().unwrap_or_default());
        v.insert("code_challenge", f.challenge.clone().unwrap_or_default());
    }
    v
}

/// A template with its variables filled in (unknown ones empty).
pub fn render(vars: &Vars, t: &Template) -> String {
    t.render(|name| vars.get(name).cloned().unwrap_or_default())
}

/// A string that may hold a template, rendered; one that does not parse is taken as written.
pub fn render_str(vars: &Vars, s: &str) -> String {
    Template::parse(s).map_or_else(|_| s.to_owned(), |t| render(vars, &t))
}

/// The value a [`ValueSpec`] sends, `None` to leave the parameter out.
pub fn value(vars: &Vars, spec: &ValueSpec) -> Option<String> {
    match spec {
        ValueSpec::Omit => None,
        ValueSpec::Empty => Some(String::new()),
        ValueSpec::Literal(t) => Some(render(vars, t)),
    }
}

/// Applies a scenario's parameter mutations: omissions, then replacements, then repeats.
pub fn mutate(params: &mut Params, m: &Mutations, vars: &Vars) {
    for name in &m.omit {
        params.remove(name);
    }
    for (name, t) in &m.set {
        params.set(name, render(vars, t));
    }
    for name in &m.repeat {
        let v = params.get(name).unwrap_or("").to_owned();
        params.push(name.clone(), v);
    }
}

/// The method a challenge is derived with: the one sent if the harness knows it, else the
/// scenario's `derive_with`, else S256.
pub fn derive_with(method_sent: Option<&str>, pkce: &PkceSpec) -> Method {
    method_sent
        .and_then(|m| Method::parse(m).ok())
        .or(pkce.derive_with)
        .unwrap_or(Method::S256)
}

/// The `code_challenge` a [`ChallengeSpec`] sends for `verifier`, `None` to leave it out. The
/// malformed variants work on characters, never on byte offsets, so any verifier text (a
/// scenario's literal may be one character, or not ASCII) gives a value.
pub fn challenge(
    spec: &ChallengeSpec,
    verifier: &str,
    method: Method,
    vars: &Vars,
) -> Option<String> {
    let derived = match method {
        Method::S256 => s256_of_text(verifier),
        Method::Plain => verifier.to_owned(),
    };
    match spec {
        ChallengeSpec::Derived | ChallengeSpec::Duplicated => Some(derived),
        ChallengeSpec::Omit => None,
        ChallengeSpec::Empty => Some(String::new()),
        ChallengeSpec::Padded => Some(format!("{derived}=")),
        ChallengeSpec::Length(n) => Some(derived.chars().cycle().take(*n).collect()),
        ChallengeSpec::StandardAlphabet => {
            Some(format!("+/{}", derived.chars().skip(2).collect::<String>()))
        }
        ChallengeSpec::Literal(t) => Some(render(vars, t)),
    }
}

/// The second value of a duplicated challenge: the first with its last character replaced, so
/// the two differ whatever the first is.
pub fn other_challenge(first: &str) -> String {
    let mut chars = first.chars();
    let last = chars.next_back();
    let replacement = if last == Some('x') { 'y' } else { 'x' };
    format!("{}{replacement}", chars.as_str())
}

/// The registered redirect URI changed by `m` (the mutation corpus of RFC 9700 §4.1.3).
pub fn mutate_redirect(registered: &Url, m: RedirectMutation) -> String {
    let s = registered.as_str();
    let (base, query) = s.split_once('?').map_or((s, None), |(b, q)| (b, Some(q)));
    let q = query.map(|q| format!("?{q}")).unwrap_or_default();
    let host = registered.host_str().unwrap_or("");
    let port = registered
        .port()
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    let path = registered.path();
    let scheme = registered.scheme();
    match m {
        RedirectMutation::ExtraQuery => {
            format!("{s}{}extra=1", if query.is_some() { "&" } else { "?" })
        }
        RedirectMutation::PathSuffix => format!("{}/x{q}", base.trim_end_matches('/')),
        RedirectMutation::TrailingSlash => match base.strip_suffix('/') {
            Some(b) => format!("{b}{q}"),
            None => format!("{base}/{q}"),
        },
        RedirectMutation::PathCase => format!("{scheme}://{host}{port}{}{q}", path.to_uppercase()),
        RedirectMutation::EncodedTraversal => {
            format!("{}/..%2Fevil{q}", base.trim_end_matches('/'))
        }
        RedirectMutation::DoubleEncoded => {
            format!("{}%252F..%252Fevil{q}", base.trim_end_matches('/'))
        }
        RedirectMutation::Userinfo => format!("{scheme}://{host}{port}@evil.example{path}{q}"),
        RedirectMutation::Fragment => format!("{s}#frag"),
        RedirectMutation::Subdomain => format!("{scheme}://{host}.evil.example{port}{path}{q}"),
        RedirectMutation::OtherPort => {
            let other = registered
                .port_or_known_default()
                .map_or(8443, |p| if p == 65535 { 1025 } else { p + 1 });
            format!("{scheme}://{host}:{other}{path}{q}")
        }
        RedirectMutation::OtherHost => format!("{scheme}://evil.example{port}{path}{q}"),
        RedirectMutation::LoopbackHost => format!("http://127.0.0.1{port}{path}{q}"),
        RedirectMutation::SchemeSwap => {
            let other = if scheme == "https" { "http" } else { "https" };
            format!("{other}://{host}{port}{path}{q}")
        }
    }
}

/// The `redirect_uri` a [`RedirectSpec`] sends for `client`, `None` to leave it out.
pub fn redirect_uri(spec: &RedirectSpec, client: &ClientConfig, vars: &Vars) -> Option<String> {
    match spec {
        RedirectSpec::Registered => Some(client.redirect_uri.0.to_string()),
        RedirectSpec::Omit => None,
        RedirectSpec::Mutate(m) => Some(mutate_redirect(&client.redirect_uri.0, *m)),
        RedirectSpec::Literal(t) => Some(render(vars, t)),
    }
}

/// The `state` a [`StateSpec`] sends; `random(n)` draws `n` random characters.
pub fn state(
    spec: &StateSpec,
    vars: &Vars,
    random: impl FnOnce(usize) -> String,
) -> Option<String> {
    match spec {
        StateSpec::Random => Some(random(22)),
        StateSpec::Omit => None,
        StateSpec::Literal(t) => Some(render(vars, t)),
        StateSpec::Length(n) => Some(random(*n)),
    }
}

/// The authorization request's parameters, in the order a client sends them, then the
/// scenario's mutations: what goes on the front channel, or in the body of a pushed request.
pub fn authorize_params(
    target: &ResolvedTarget,
    step: &AuthorizeStep,
    client: &ClientConfig,
    flow: &Flow,
    method_sent: Option<&str>,
) -> Params {
    let v0 = vars(target, None, Some(client));
    let mut params = Params::new();
    if let Some(rt) = value(&v0, &step.response_type) {
        params.push("response_type", rt);
    }
    params.push("client_id", client.client_id.0.clone());
    if let Some(r) = &flow.redirect_uri {
        params.push("redirect_uri", r.clone());
    }
    if let Some(scope) = &target.scope {
        params.push("scope", scope.clone());
    }
    if let Some(s) = &flow.state {
        params.push("state", s.clone());
    }
    if let Some(n) = &flow.nonce {
        params.push("nonce", n.clone());
    }
    if let (true, Some(key)) = (flow.dpop_jkt, &flow.dpop_key)
        && let Some(jkt) = key.thumbprint()
    {
        params.push("dpop_jkt", jkt);
    }
    if let Some(c) = &flow.challenge {
        params.push("code_challenge", c.clone());
        if matches!(step.pkce.challenge, ChallengeSpec::Duplicated) {
            params.push("code_challenge", other_challenge(c));
        }
    }
    if let Some(m) = method_sent
        && (flow.challenge.is_some() || !matches!(step.pkce.method, ValueSpec::Literal(_)))
    {
        params.push("code_challenge_method", m);
    }
    mutate(
        &mut params,
        &step.params,
        &vars(target, Some(flow), Some(client)),
    );
    params
}

/// The authorization request URL: the endpoint's own query, then `params`.
pub fn authorization_url(target: &ResolvedTarget, params: &Params) -> Url {
    let mut url = target.authorization.clone();
    let mut all = url.query().map(Params::parse).unwrap_or_default();
    for (k, val) in params.iter() {
        all.push(k, val);
    }
    url.set_query(Some(&all.encode()));
    url
}

/// The authorization request URL: the endpoint's own query, then the flow's parameters in the
/// order a client sends them, then the scenario's mutations.
pub fn authorize_url(
    target: &ResolvedTarget,
    step: &AuthorizeStep,
    client: &ClientConfig,
    flow: &Flow,
    method_sent: Option<&str>,
) -> Url {
    authorization_url(
        target,
        &authorize_params(target, step, client, flow, method_sent),
    )
}

/// The front-channel request of a pushed one (RFC 9126 §4): `client_id` and `request_uri`,
/// then the step's `front_params`.
pub fn pushed_url(
    target: &ResolvedTarget,
    step: &AuthorizeStep,
    client: &ClientConfig,
    flow: &Flow,
    request_uri: &str,
) -> Url {
    let mut params = Params::new();
    params.push("client_id", client.client_id.0.clone());
    params.push("request_uri", request_uri);
    mutate(
        &mut params,
        &step.front_params,
        &vars(target, Some(flow), Some(client)),
    );
    authorization_url(target, &params)
}

/// The URLs a redirect may reach a client at: every registered redirect URI, and the one the
/// request named.
pub fn client_targets(target: &ResolvedTarget, sent: Option<&str>) -> Vec<Url> {
    let clients = &target.clients;
    [
        Some(&clients.public),
        Some(&clients.confidential),
        clients.confidential2.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|c| c.redirect_uri.0.clone())
    .chain(sent.and_then(|r| Url::parse(r).ok()))
    .collect()
}

/// HTTP Basic credentials as RFC 6749 §2.3.1 builds them: id and secret form-encoded first.
pub fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

/// RFC 7521 §4.2: the `client_assertion_type` of a JWT client assertion.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What is wrong with a client assertion on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flaw {
    /// Nothing: the assertion a correct client sends.
    None,
    /// `exp` five minutes ago.
    Expired,
    /// Signed with a key the server does not know (HMAC: a wrong secret).
    OtherKey,
    /// `alg: none`.
    Unsigned,
    /// `aud` another server's token endpoint.
    OtherAudience,
}

impl Flaw {
    /// The flaw a step's authentication asks for.
    pub fn of(auth: AuthSpec) -> Self {
        match auth {
            AuthSpec::ExpiredAssertion => Self::Expired,
            AuthSpec::AssertionOtherKey | AuthSpec::WrongSecret => Self::OtherKey,
            AuthSpec::UnsignedAssertion => Self::Unsigned,
            AuthSpec::AssertionOtherAudience => Self::OtherAudience,
            _ => Self::None,
        }
    }
}

/// A client assertion (RFC 7523 §3, OpenID Connect Core §9): `iss` and `sub` the client_id,
/// `aud` the token endpoint, a fresh `jti`, issued `now` and valid for 60 seconds, signed with
/// the client's key, or flawed as asked.
pub fn assertion(
    client: &ClientConfig,
    audience: &str,
    now: u64,
    jti: &str,
    flaw: Flaw,
) -> Result<String, Fault> {
    let key = client.signing_key.as_ref().ok_or_else(|| {
        Fault::config(format!(
            "client {} has no assertion key (auth_method {})",
            client.client_id.0,
            client.auth_method.as_str()
        ))
    })?;
    let (iat, exp) = match flaw {
        Flaw::Expired => (now.saturating_sub(600), now.saturating_sub(300)),
        _ => (now, now + 60),
    };
    let aud = match flaw {
        Flaw::OtherAudience => "https://other-server.example/token",
        _ => audience,
    };
    let id = &client.client_id.0;
    let claims = serde_json::json!({
        "iss": id, "sub": id, "aud": aud, "jti": jti, "iat": iat, "exp": exp,
    });
    let signed = |key: &crate::jose::SigningKey,
                  extra: serde_json::Map<String, serde_json::Value>| {
        key.sign(&claims, &extra)
            .map_err(|e| Fault::harness(format!("signing the client assertion: {e}")))
    };
    match flaw {
        Flaw::Unsigned => Ok(crate::jose::jws::unsigned(&claims)),
        Flaw::OtherKey if client.auth_method == AuthMethod::ClientSecretJwt => {
            let wrong = format!(
                "{}-wrong",
                client.client_secret.as_ref().map_or("", |s| s.0.expose())
            );
            let other = crate::jose::SigningKey::hmac(wrong.as_bytes(), Some(key.alg()))
                .map_err(|e| Fault::harness(e.to_string()))?;
            signed(&other, serde_json::Map::new())
        }
        Flaw::OtherKey => {
            // A key of the same kind where one can be made; the registered key's `kid`, so the
            // server finds the client's key and the signature alone is wrong.
            let alg = match key.alg() {
                a @ (crate::jose::Algorithm::ES256 | crate::jose::Algorithm::EdDSA) => a,
                _ => crate::jose::Algorithm::ES256,
            };
            let (other, _) = crate::jose::SigningKey::generate(alg)
                .map_err(|e| Fault::harness(e.to_string()))?;
            let mut extra = serde_json::Map::new();
            if let Some(kid) = key.kid() {
                extra.insert("kid".into(), kid.into());
            }
            signed(&other, extra)
        }
        _ => signed(key, serde_json::Map::new()),
    }
}

/// Adds client authentication to a token-endpoint request: the configured method, or the one
/// the scenario forces (also the wrong ones). `assertion` is the client assertion to send when
/// the client authenticates with one (the caller signs it: it needs the clock and a fresh `jti`).
pub fn authenticate(
    req: &mut Request,
    params: &mut Params,
    client: &ClientConfig,
    auth: AuthSpec,
    assertion: Option<String>,
) -> Result<(), Fault> {
    let secret = || {
        client
            .client_secret
            .as_ref()
            .map(|s| s.0.expose().to_owned())
            .ok_or_else(|| {
                Fault::config(format!(
                    "auth {auth:?} needs a client secret, and client {} has none",
                    client.client_id.0
                ))
            })
    };
    let id = client.client_id.0.clone();
    let uses_assertion = client.uses_assertion();
    if auth.is_assertion_attack() && !uses_assertion {
        return Err(Fault::config(format!(
            "auth {auth:?} needs a client that authenticates with a JWT assertion, and client {id} uses {}",
            client.auth_method.as_str()
        )));
    }
    if (uses_assertion && matches!(auth, AuthSpec::Default | AuthSpec::WrongSecret))
        || auth.is_assertion_attack()
    {
        let assertion = assertion.ok_or_else(|| {
            Fault::harness("a JWT client's request was built without its assertion")
        })?;
        params.push("client_id", id);
        params.push("client_assertion_type", JWT_BEARER);
        params.push("client_assertion", assertion);
        return Ok(());
    }
    let configured = match client.auth_method {
        AuthMethod::None => AuthSpec::ClientIdOnly,
        AuthMethod::ClientSecretBasic => AuthSpec::Basic,
        AuthMethod::ClientSecretPost | AuthMethod::ClientSecretJwt | AuthMethod::PrivateKeyJwt => {
            AuthSpec::Post
        }
    };
    let effective = if auth == AuthSpec::Default {
        configured
    } else {
        auth
    };
    let header = |v: String| ("Authorization".to_owned(), v);
    match effective {
        AuthSpec::Default | AuthSpec::ClientIdOnly => params.push("client_id", id),
        AuthSpec::Basic => req.headers.push(header(basic(&id, &secret()?))),
        AuthSpec::Post => {
            params.push("client_id", id);
            params.push("client_secret", secret()?);
        }
        AuthSpec::Omit => {}
        AuthSpec::Both => {
            let s = secret()?;
            req.headers.push(header(basic(&id, &s)));
            params.push("client_secret", s);
        }
        AuthSpec::WrongSecret => {
            let wrong = format!("{}-wrong", secret()?);
            if configured == AuthSpec::Post {
                params.push("client_id", id);
                params.push("client_secret", wrong);
            } else {
                req.headers.push(header(basic(&id, &wrong)));
            }
        }
        AuthSpec::Query => {
            let s = secret()?;
            req.url
                .query_pairs_mut()
                .append_pair("client_id", &id)
                .append_pair("client_secret", &s);
        }
        // Handled above: an assertion attack on a client without assertions is refused.
        AuthSpec::ExpiredAssertion
        | AuthSpec::AssertionOtherKey
        | AuthSpec::UnsignedAssertion
        | AuthSpec::AssertionOtherAudience
        | AuthSpec::ReplayedAssertion => {}
    }
    Ok(())
}

/// The DPoP proof of `req` (RFC 9449 §4.2) with `key`, flawed as `spec` asks: `htm` and `htu`
/// from the request (or another method or server), `iat` now (or ten minutes ago), the
/// server's `nonce` (or one it never gave), `ath` when an access token is presented.
pub fn dpop_proof(
    key: &crate::jose::SigningKey,
    spec: crate::scenario::model::DpopProof,
    req: &Request,
    now: u64,
    jti: &str,
    access_token: Option<&str>,
    nonce: Option<&str>,
) -> Result<String, Fault> {
    use crate::scenario::model::DpopProof as P;
    let method = req.method.to_string();
    let htm = match (spec, method.as_str()) {
        (P::WrongMethod, "GET") => "POST",
        (P::WrongMethod, _) => "GET",
        _ => method.as_str(),
    };
    let htu = match spec {
        P::WrongUrl => "https://other-server.example/token".to_owned(),
        _ => crate::jose::dpop::htu(&req.url),
    };
    let iat = match spec {
        P::Stale => now.saturating_sub(600),
        _ => now,
    };
    let nonce = match spec {
        P::WrongNonce => Some("a-nonce-this-server-never-gave"),
        _ => nonce,
    };
    let claims = crate::jose::dpop::ProofClaims {
        htm,
        htu: &htu,
        iat,
        jti,
        access_token,
        nonce,
    };
    crate::jose::dpop::proof(key, &claims)
        .map_err(|e| Fault::harness(format!("signing a DPoP proof: {e}")))
}

/// A request to `url` with no body yet.
pub fn bare(method: HttpMethod, url: Url) -> Request {
    Request {
        channel: crate::wire::Channel::Back,
        method,
        url,
        headers: Vec::new(),
        body: None,
    }
}

/// Puts `params` where the method carries them: the query of a GET, the form body otherwise.
pub fn with_params(mut req: Request, params: &Params) -> Request {
    if req.method == HttpMethod::Get {
        let mut all = req.url.query().map(Params::parse).unwrap_or_default();
        for (k, val) in params.iter() {
            all.push(k, val);
        }
        req.url.set_query(Some(&all.encode()));
    } else {
        req.body = Some(crate::wire::Body::Form(params.encode()));
    }
    req
}

/// The body of a token request for `flow` as the step describes it (client authentication
/// apart): grant type, code, redirect URI and verifier, each as given or malformed on purpose.
/// `fresh` draws a new verifier when the step asks for one.
pub fn token_params(
    t: &TokenStep,
    flow: &Flow,
    client: &ClientConfig,
    vars: &Vars,
    fresh: impl FnOnce() -> Result<String, Fault>,
) -> Result<Params, Fault> {
    let mut params = Params::new();
    if let Some(g) = value(vars, &t.grant_type) {
        params.push("grant_type", g);
    }
    match &t.code {
        CodeSpec::Flow => {
            let code = flow.code.as_ref().ok_or_else(|| {
                Fault::precondition(format!("flow {} got no code to redeem", t.flow))
            })?;
            params.push("code", code.expose());
        }
        CodeSpec::Omit => {}
        CodeSpec::Garbled => params.push(
            "code",
            garble(flow.code.as_ref().map_or("garbled-code", |c| c.expose())),
        ),
    }
    let redirect = match &t.redirect_uri {
        RedirectSpec::Registered => flow.redirect_uri.clone(),
        other => redirect_uri(other, client, vars),
    };
    if let Some(r) = redirect {
        params.push("redirect_uri", r);
    }
    let verifier = match &t.verifier {
        VerifierSpec::Flow => flow.verifier.clone(),
        VerifierSpec::Omit => None,
        VerifierSpec::Empty => Some(String::new()),
        VerifierSpec::Wrong | VerifierSpec::Fresh => Some(fresh()?),
        VerifierSpec::Reversed => flow.verifier.as_ref().map(|s| s.chars().rev().collect()),
        VerifierSpec::Challenge => flow.challenge.clone(),
        VerifierSpec::Literal(tpl) => Some(render(vars, tpl)),
    };
    if let Some(ver) = verifier {
        params.push("code_verifier", ver);
    }
    Ok(params)
}

/// A code that is not the one issued: reversed, one character longer.
pub fn garble(code: &str) -> String {
    let mut g: String = code.chars().rev().collect();
    g.push('x');
    g
}

/// An authorization with every default, for steps that need a fresh code.
pub fn default_authorize(flow: String) -> AuthorizeStep {
    AuthorizeStep {
        flow,
        client: None,
        pkce: PkceSpec::default(),
        redirect_uri: RedirectSpec::Registered,
        state: StateSpec::Random,
        response_type: ValueSpec::Literal(Template::literal("code")),
        params: Mutations::default(),
        same_session: true,
        nonce: NonceSpec::Random,
        par: ParSpec::Auto,
        front_params: Mutations::default(),
        dpop: DpopBinding::Auto,
        expect: AuthorizeExpect::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pkce::{CodeChallenge, CodeVerifier, verify};
    use crate::target::parse_target;
    use proptest::prelude::*;

    fn target() -> ResolvedTarget {
        let text = "format: 1\nissuer: \"https://as.example\"\nendpoints: {authorization: \"https://as.example/authorize?tenant=1\", token: \"https://as.example/token\"}\nscope: openid\nclients:\n  public: {client_id: p, redirect_uri: \"http://127.0.0.1:9/cb\"}\n  confidential: {client_id: \"c:1\", client_secret: \"s&cret\", auth_method: client_secret_basic, redirect_uri: \"https://c.example/cb?x=1\"}\nlogin: {auto: {}}\n";
        ResolvedTarget::new(parse_target("t.yaml", text).expect("valid"), None, None)
            .expect("resolves")
    }

    #[test]
    fn the_default_authorization_request() {
        let t = target();
        let step = default_authorize("f".into());
        let flow = Flow {
            state: Some("st".into()),
            challenge: Some("ch".into()),
            redirect_uri: Some("http://127.0.0.1:9/cb".into()),
            ..Flow::default()
        };
        let url = authorize_url(&t, &step, &t.clients.public, &flow, Some("S256"));
        assert_eq!(
            url.query(),
            Some(
                "tenant=1&response_type=code&client_id=p&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&scope=openid&state=st&code_challenge=ch&code_challenge_method=S256"
            )
        );
    }

    #[test]
    fn mutations_omit_set_and_repeat() {
        let mut p = Params::parse("a=1&b=2");
        let m: Mutations = crate::diagnostics::parse_yaml(
            "m.yaml",
            "{omit: [a], set: {c: \"{{issuer}}\"}, repeat: [b]}",
        )
        .expect("valid");
        let v = vars(&target(), None, None);
        mutate(&mut p, &m, &v);
        assert_eq!(p.encode(), "b=2&c=https%3A%2F%2Fas.example&b=2");
    }

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        let mut req = bare(HttpMethod::Post, target().token.clone());
        let mut params = Params::new();
        authenticate(
            &mut req,
            &mut params,
            &target().clients.confidential,
            AuthSpec::Default,
            None,
        )
        .expect("has a secret");
        let (_, v) = &req.headers[0];
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(v.strip_prefix("Basic ").expect("basic"))
            .expect("base64");
        assert_eq!(decoded, b"c%3A1:s%26cret");
        assert!(params.is_empty());
    }

    #[test]
    fn forced_methods() {
        let t = target();
        let c = &t.clients.confidential;
        let run = |auth| {
            let mut req = bare(HttpMethod::Post, t.token.clone());
            let mut params = Params::new();
            authenticate(&mut req, &mut params, c, auth, None).map(|()| (req, params))
        };
        let (req, p) = run(AuthSpec::Post).expect("ok");
        assert!(req.headers.is_empty() && p.get("client_secret") == Some("s&cret"));
        let (req, p) = run(AuthSpec::WrongSecret).expect("ok");
        assert_eq!(req.headers[0].1, basic("c:1", "s&cret-wrong"));
        assert!(p.is_empty());
        let (req, _) = run(AuthSpec::Query).expect("ok");
        assert!(
            req.url
                .query()
                .is_some_and(|q| q.contains("client_secret=s%26cret"))
        );
        let (req, p) = run(AuthSpec::Both).expect("ok");
        assert_eq!(req.headers.len(), 1);
        assert_eq!(p.get("client_secret"), Some("s&cret"));
        let mut req = bare(HttpMethod::Post, t.token.clone());
        let e = authenticate(
            &mut req,
            &mut Params::new(),
            &t.clients.public,
            AuthSpec::Basic,
            None,
        )
        .expect_err("no secret");
        assert!(matches!(e, Fault::Config { .. }), "{e:?}");
    }

    #[test]
    fn get_requests_carry_params_in_the_query() {
        let p = Params::parse("a=1");
        let get = with_params(bare(HttpMethod::Get, target().authorization.clone()), &p);
        assert_eq!(get.url.query(), Some("tenant=1&a=1"));
        let post = with_params(bare(HttpMethod::Post, target().token.clone()), &p);
        assert_eq!(post.form(), Some("a=1"));
    }

    /// Found by the property test below: path-case cannot change a path without letters, and the
    /// engine then skips the scenario rather than send the registered URI as a "mutation".
    #[test]
    fn path_case_without_letters_changes_nothing() {
        let u = Url::parse("http://127.0.0.1:8765/").expect("url");
        assert_eq!(mutate_redirect(&u, RedirectMutation::PathCase), u.as_str());
    }

    #[test]
    fn token_bodies_as_the_step_asks() {
        let t = target();
        let flow = Flow {
            verifier: Some("verifier-abc".into()),
            challenge: Some("challenge-xyz".into()),
            redirect_uri: Some("http://127.0.0.1:9/cb".into()),
            code: Some(crate::redact::Secret::new("c0de")),
            ..Flow::default()
        };
        let body = |yaml: &str| {
            let step: TokenStep = crate::diagnostics::parse_yaml("t.yaml", yaml).expect("valid");
            let v = vars(&t, Some(&flow), Some(&t.clients.public));
            token_params(&step, &flow, &t.clients.public, &v, || {
                Ok("fresh-one".into())
            })
            .map(|p| p.encode())
        };
        assert_eq!(
            body("{}").expect("ok"),
            "grant_type=authorization_code&code=c0de&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&code_verifier=verifier-abc"
        );
        assert!(
            body("{verifier: reversed}")
                .expect("ok")
                .ends_with("code_verifier=cba-reifirev")
        );
        assert!(
            body("{verifier: challenge}")
                .expect("ok")
                .ends_with("code_verifier=challenge-xyz")
        );
        assert!(
            body("{verifier: wrong}")
                .expect("ok")
                .ends_with("code_verifier=fresh-one")
        );
        assert!(
            !body("{verifier: omit}")
                .expect("ok")
                .contains("code_verifier")
        );
        assert!(body("{code: garbled}").expect("ok").contains("code=ed0cx&"));
        assert!(
            body("{redirect_uri: omit, grant_type: ~}")
                .expect("ok")
                .starts_with("code=c0de&code_verifier")
        );
        let no_code = Flow {
            code: None,
            ..flow.clone()
        };
        let step: TokenStep = crate::diagnostics::parse_yaml("t.yaml", "{}").expect("valid");
        let e = token_params(&step, &no_code, &t.clients.public, &Vars::new(), || {
            Ok(String::new())
        })
        .expect_err("no code");
        assert!(matches!(e, Fault::Precondition { .. }), "{e:?}");
    }

    proptest! {
        /// The derived challenge is what the reference implementation verifies the verifier
        /// against, for both methods.
        #[test]
        fn derived_challenges_verify(len in 43usize..=128, seed in any::<u64>()) {
            let mut x = seed;
            let v = CodeVerifier::from_random(len, |buf| {
                for b in buf { x = x.wrapping_mul(6364136223846793005).wrapping_add(1); *b = (x >> 33) as u8; }
                Ok(())
            }).expect("in range");
            for method in [Method::S256, Method::Plain] {
                let c = challenge(&ChallengeSpec::Derived, v.expose_secret(), method, &Vars::new()).expect("sent");
                let c = CodeChallenge::parse(&c).expect("valid challenge");
                prop_assert!(verify(&c, method, &v));
            }
        }

        /// Malformed challenges never panic, whatever the verifier text, and have the shape asked.
        #[test]
        fn malformed_challenges_from_any_text(verifier in "\\PC{0,20}", n in 0usize..300) {
            for method in [Method::S256, Method::Plain] {
                let v = Vars::new();
                prop_assert_eq!(challenge(&ChallengeSpec::Length(n), &verifier, method, &v).map(|c| c.chars().count()),
                    Some(if method == Method::Plain && verifier.is_empty() { 0 } else { n }));
                let std = challenge(&ChallengeSpec::StandardAlphabet, &verifier, method, &v).expect("sent");
                prop_assert!(std.starts_with("+/"));
                let padded = challenge(&ChallengeSpec::Padded, &verifier, method, &v).expect("sent");
                prop_assert!(padded.ends_with('='));
                let dup = challenge(&ChallengeSpec::Duplicated, &verifier, method, &v).expect("sent");
                prop_assert_ne!(other_challenge(&dup), dup);
            }
        }

        /// No redirect mutation gives back the registered URI (path-case needs a letter in the
        /// path to change anything, so paths here have one).
        #[test]
        fn redirect_mutations_differ(port in 1u16..=65535, path in "(/[a-z]{1,8}){1,3}/?", query in proptest::option::of("[a-z]{1,5}=[0-9]{1,3}")) {
            let q = query.map(|q| format!("?{q}")).unwrap_or_default();
            let registered = Url::parse(&format!("https://client.example:{port}{path}{q}")).expect("url");
            for m in RedirectMutation::ALL {
                let mutated = mutate_redirect(&registered, *m);
                prop_assert_ne!(&mutated, registered.as_str(), "{:?}", m);
            }
        }

        /// Basic credentials decode back to the id and the secret, whatever they hold.
        #[test]
        fn basic_round_trips(id in "\\PC{0,30}", secret in "\\PC{0,30}") {
            let header = basic(&id, &secret);
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(header.strip_prefix("Basic ").expect("basic")).expect("base64");
            let text = String::from_utf8(decoded).expect("utf-8");
            let (i, s) = text.split_once(':').expect("a colon");
            let dec = |v: &str| url::form_urlencoded::parse(format!("x={v}").as_bytes()).next().map(|(_, v)| v.into_owned());
            prop_assert_eq!(dec(i), Some(id));
            prop_assert_eq!(dec(s), Some(secret));
        }
    }
}
