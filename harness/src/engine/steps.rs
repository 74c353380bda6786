//! Runs one step: builds the request its YAML describes, sends it through the context (which
//! records redacted evidence), and checks the response.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use url::Url;

use super::context::{Ctx, Flow, Tokens};
use super::http::{Request, Response};
use crate::callback::Outcome;
use crate::checks;
use crate::login::{Ending, drive};
use crate::params::Params;
use crate::pkce::{Method, s256_of_text};
use crate::redact::Secret;
use crate::scenario::model::*;
use crate::target::{AuthMethod, ClientConfig};

/// Why a scenario stops early.
#[derive(Debug)]
pub enum Halt {
    /// An expectation did not hold.
    Unmet(String),
    /// The harness could not judge.
    Error(String),
}

/// What the scenario does after a step.
#[derive(Debug)]
pub enum Next {
    /// Run the next step.
    Continue,
    /// Stop here: the scenario passes for this reason.
    Pass(String),
}

type StepResult = Result<Next, Halt>;

/// Runs `step`.
pub async fn run(ctx: &mut Ctx, step: &Step) -> StepResult {
    match step {
        Step::Discovery(d) => discovery(ctx, d).await,
        Step::Authorize(a) => authorize(ctx, a).await.map(|(next, _)| next),
        Step::Token(t) => token(ctx, t).await,
        Step::Refresh(r) => refresh(ctx, r).await,
        Step::Userinfo(r) => userinfo(ctx, r).await,
        Step::Introspect(i) => introspect(ctx, i).await,
        Step::Sleep(s) => {
            let mut secs = s.seconds;
            if s.past_code_lifetime {
                secs += ctx.target.policy.code_lifetime_seconds + 0.3;
            }
            tokio::time::sleep(Duration::from_secs_f64(secs.max(0.0))).await;
            Ok(Next::Continue)
        }
        Step::Probe(p) => probe(ctx, p).await,
        Step::Codes(c) => codes(ctx, c).await,
        Step::Race(r) => race(ctx, r).await,
    }
}

fn client_config(ctx: &Ctx, kind: ClientKind) -> Result<ClientConfig, Halt> {
    ctx.target
        .client(kind)
        .cloned()
        .ok_or_else(|| Halt::Error(format!("the target configures no {} client", kind.as_str())))
}

/// Template variables for the current scenario state.
fn vars(
    ctx: &Ctx,
    flow: Option<&Flow>,
    client: Option<&ClientConfig>,
) -> HashMap<&'static str, String> {
    let mut v = HashMap::new();
    v.insert("issuer", ctx.target.issuer.clone().unwrap_or_default());
    v.insert(
        "authorization_endpoint",
        ctx.target.authorization.to_string(),
    );
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

fn render(vars: &HashMap<&'static str, String>, t: &Template) -> String {
    t.render(|name| vars.get(name).cloned().unwrap_or_default())
}

fn value(vars: &HashMap<&'static str, String>, spec: &ValueSpec) -> Option<String> {
    match spec {
        ValueSpec::Omit => None,
        ValueSpec::Empty => Some(String::new()),
        ValueSpec::Literal(t) => Some(render(vars, t)),
    }
}

fn mutate(params: &mut Params, m: &Mutations, vars: &HashMap<&'static str, String>) {
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

async fn discovery(ctx: &mut Ctx, d: &DiscoveryStep) -> StepResult {
    let url = ctx.target.metadata_url.clone().ok_or_else(|| {
        Halt::Error("no metadata URL: the target has no issuer, or discovery failed".into())
    })?;
    let resp = ctx
        .send(Request::get(url))
        .await
        .map_err(|e| Halt::Error(e.to_string()))?;
    let v = vars(ctx, None, None);
    checks::http(&d.expect, &resp, &|s| {
        Template::parse(s).map_or_else(|_| s.to_owned(), |t| render(&v, &t))
    })
    .map_err(Halt::Unmet)?;
    Ok(Next::Continue)
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

/// The authorization step; also returns the code, for `codes`.
async fn authorize(ctx: &mut Ctx, a: &AuthorizeStep) -> Result<(Next, Option<Secret>), Halt> {
    let kind = a.client.unwrap_or(ctx.client);
    let client = client_config(ctx, kind)?;
    if !a.same_session {
        ctx.http = ctx
            .http
            .fresh_session()
            .map_err(|e| Halt::Error(e.to_string()))?;
    }
    let mut flow = Flow {
        client: Some(kind),
        ..Flow::default()
    };
    let v0 = vars(ctx, None, Some(&client));

    // PKCE.
    let method_sent = value(&v0, &a.pkce.method);
    if !matches!(a.pkce.challenge, ChallengeSpec::Omit) {
        let verifier = match &a.pkce.verifier {
            Some(t) => render(&v0, t),
            None => ctx
                .verifier(a.pkce.verifier_length)
                .map_err(|e| Halt::Error(format!("pkce.verifier_length: {e}")))?
                .expose_secret()
                .to_owned(),
        };
        ctx.secret(&verifier);
        let derive_with = method_sent
            .as_deref()
            .and_then(|m| Method::parse(m).ok())
            .or(a.pkce.derive_with)
            .unwrap_or(Method::S256);
        let derived = match derive_with {
            Method::S256 => s256_of_text(&verifier),
            Method::Plain => verifier.clone(),
        };
        flow.challenge = match &a.pkce.challenge {
            ChallengeSpec::Derived | ChallengeSpec::Duplicated => Some(derived),
            ChallengeSpec::Omit => None,
            ChallengeSpec::Empty => Some(String::new()),
            ChallengeSpec::Padded => Some(format!("{derived}=")),
            ChallengeSpec::Length(n) => Some(derived.chars().cycle().take(*n).collect()),
            ChallengeSpec::StandardAlphabet => Some(format!("+/{}", &derived[2..])),
            ChallengeSpec::Literal(t) => Some(render(&v0, t)),
        };
        flow.verifier = Some(verifier);
    }
    flow.state = match &a.state {
        StateSpec::Random => Some(ctx.random_string(22)),
        StateSpec::Omit => None,
        StateSpec::Literal(t) => Some(render(&v0, t)),
        StateSpec::Length(n) => Some(ctx.random_string(*n)),
    };
    flow.redirect_uri = match &a.redirect_uri {
        RedirectSpec::Registered => Some(client.redirect_uri.0.to_string()),
        RedirectSpec::Omit => None,
        RedirectSpec::Mutate(m) => Some(mutate_redirect(&client.redirect_uri.0, *m)),
        RedirectSpec::Literal(t) => Some(render(&v0, t)),
    };

    let mut params = Params::new();
    if let Some(rt) = value(&v0, &a.response_type) {
        params.push("response_type", rt);
    }
    params.push("client_id", client.client_id.0.clone());
    if let Some(r) = &flow.redirect_uri {
        params.push("redirect_uri", r.clone());
    }
    if let Some(scope) = &ctx.target.scope {
        params.push("scope", scope.clone());
    }
    if let Some(s) = &flow.state {
        params.push("state", s.clone());
    }
    if let Some(c) = &flow.challenge {
        params.push("code_challenge", c.clone());
        if matches!(a.pkce.challenge, ChallengeSpec::Duplicated) {
            params.push(
                "code_challenge",
                format!("{}x", &c[..c.len().saturating_sub(1)]),
            );
        }
    }
    if let Some(m) = &method_sent
        && (flow.challenge.is_some() || !matches!(a.pkce.method, ValueSpec::Literal(_)))
    {
        params.push("code_challenge_method", m.clone());
    }
    let v = vars(ctx, Some(&flow), Some(&client));
    mutate(&mut params, &a.params, &v);

    let mut url = ctx.target.authorization.clone();
    let mut all = url.query().map(Params::parse).unwrap_or_default();
    for (k, val) in params.iter() {
        all.push(k, val);
    }
    url.set_query(Some(&all.encode()));

    let mut targets: Vec<Url> = [
        Some(&ctx.target.clients.public),
        Some(&ctx.target.clients.confidential),
        ctx.target.clients.confidential2.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|c| c.redirect_uri.0.clone())
    .collect();
    if let Some(sent) = flow
        .redirect_uri
        .as_deref()
        .and_then(|r| Url::parse(r).ok())
    {
        targets.push(sent);
    }
    let d = drive(ctx, url, &targets).await.map_err(Halt::Error)?;
    let e = &a.expect;

    let refused = match &d.ending {
        Ending::Callback(r) => matches!(r.outcome, Outcome::Error { .. }),
        Ending::Page { .. } => true,
    };
    if refused && let Some(reason) = &e.refusal_passes {
        return Ok((
            Next::Pass(format!(
                "{reason} (the server refused the authorization request: {})",
                describe(&d.ending)
            )),
            None,
        ));
    }
    let unmet = |msg: String| Err(Halt::Unmet(msg));
    match (e.outcome, &d.ending) {
        (AuthOutcome::Code, Ending::Callback(r))
            if matches!(r.outcome, Outcome::Success { .. }) => {}
        (AuthOutcome::ErrorRedirect, Ending::Callback(r))
            if matches!(r.outcome, Outcome::Error { .. }) => {}
        (AuthOutcome::Refused, Ending::Callback(r))
            if matches!(r.outcome, Outcome::Error { .. }) => {}
        (AuthOutcome::Refused | AuthOutcome::ErrorPage, Ending::Page { .. }) => {}
        (expected, ending) => {
            let want = match expected {
                AuthOutcome::Code => "a redirect to the client with a code",
                AuthOutcome::ErrorRedirect => "a redirect to the client with an error",
                AuthOutcome::ErrorPage => "an error page and no redirect",
                AuthOutcome::Refused => "a refusal (error redirect or error page)",
            };
            return unmet(format!("expected {want}, got {}", describe(ending)));
        }
    }
    if let Ending::Callback(r) = &d.ending {
        if let (Some(errors), Outcome::Error { error, .. }) = (&e.error, &r.outcome)
            && !errors.0.contains(error)
        {
            return unmet(format!(
                "expected error {}, got error {error}",
                errors.0.join(" or ")
            ));
        }
        if e.state_echoed && r.outcome.state() != flow.state.as_deref() {
            return unmet(format!(
                "state was not echoed exactly: sent {:?}, got {:?}",
                flow.state,
                r.outcome.state()
            ));
        }
        if e.iss {
            let issuer = ctx
                .target
                .issuer
                .clone()
                .ok_or_else(|| Halt::Error("iss check needs the target's issuer".into()))?;
            match r.outcome.iss() {
                Some(iss) if iss == issuer => {}
                Some(iss) => return unmet(format!("iss {iss:?} differs from the issuer {issuer:?} (RFC 9207 §2.4)")),
                None => return unmet("no iss parameter in the authorization response although the metadata announces RFC 9207 support".into()),
            }
        }
        if e.error_format {
            checks::authorization_error_format(&r.findings).map_err(Halt::Unmet)?;
        }
        if e.challenge_not_reflected
            && let Some(c) = flow.challenge.as_deref().filter(|c| !c.is_empty())
            && let Some((name, _)) = r.params.iter().find(|(_, v)| v.contains(c))
        {
            return unmet(format!(
                "the code_challenge is reflected in response parameter {name}"
            ));
        }
    }
    if !e.page_headers.is_empty() {
        if d.pages.is_empty() {
            return Err(Halt::Error(
                "no login or consent page was shown, so page headers could not be checked".into(),
            ));
        }
        for page in &d.pages {
            checks::headers(&e.page_headers, page)
                .map_err(|m| Halt::Unmet(format!("on a login/consent page: {m}")))?;
        }
    }
    if e.pages_not_frameable {
        if d.pages.is_empty() {
            return Err(Halt::Error(
                "no login or consent page was shown, so framing protection could not be checked"
                    .into(),
            ));
        }
        for page in &d.pages {
            let xfo = page.header("x-frame-options").is_some_and(|v| {
                ["deny", "sameorigin"].contains(&v.trim().to_ascii_lowercase().as_str())
            });
            let csp = page
                .header_all("content-security-policy")
                .any(|v| v.to_ascii_lowercase().contains("frame-ancestors"));
            if !xfo && !csp {
                return unmet("a login/consent page has neither X-Frame-Options nor a CSP frame-ancestors directive (RFC 9700 §4.16)".into());
            }
        }
    }
    if let Some(s) = d
        .post_redirects
        .iter()
        .find(|s| e.post_redirect_not.contains(s))
    {
        return unmet(format!(
            "a form POST was answered with a {s} redirect (RFC 9700 §4.12: 303, never 307)"
        ));
    }
    if e.consent_shown && d.pages.is_empty() {
        return unmet(
            "no consent page was shown: the server approved the public client automatically".into(),
        );
    }
    let code = match &d.ending {
        Ending::Callback(r) => match &r.outcome {
            Outcome::Success { code, .. } => Some(code.clone()),
            Outcome::Error { .. } => None,
        },
        Ending::Page { .. } => None,
    };
    flow.code = code.clone();
    ctx.flows.insert(a.flow.clone(), flow);
    Ok((Next::Continue, code))
}

fn describe(ending: &Ending) -> String {
    match ending {
        Ending::Callback(r) => match &r.outcome {
            Outcome::Success { .. } => format!(
                "a redirect to {} with a code",
                crate::engine::http::without_query(&r.target)
            ),
            Outcome::Error {
                error,
                error_description,
                ..
            } => format!(
                "a redirect to {} with error={error}{}",
                crate::engine::http::without_query(&r.target),
                error_description
                    .as_deref()
                    .map(|d| format!(" ({})", checks::preview(d)))
                    .unwrap_or_default()
            ),
        },
        Ending::Page { status, title } => format!(
            "a page (HTTP {status}{})",
            title
                .as_deref()
                .map(|t| format!(", {t:?}"))
                .unwrap_or_default()
        ),
    }
}

/// Adds client authentication to a token-endpoint request.
fn authenticate(
    req: &mut Request,
    params: &mut Params,
    client: &ClientConfig,
    auth: AuthSpec,
) -> Result<(), Halt> {
    let secret = || {
        client
            .client_secret
            .as_ref()
            .map(|s| s.0.expose().to_owned())
            .ok_or_else(|| {
                Halt::Error(format!(
                    "auth {auth:?} needs a client secret, and client {} has none",
                    client.client_id.0
                ))
            })
    };
    let basic = |id: &str, secret: &str| {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                enc(id),
                enc(secret)
            ))
        )
    };
    let id = client.client_id.0.clone();
    let configured = match client.auth_method {
        AuthMethod::None => AuthSpec::ClientIdOnly,
        AuthMethod::ClientSecretBasic => AuthSpec::Basic,
        AuthMethod::ClientSecretPost => AuthSpec::Post,
    };
    let effective = if auth == AuthSpec::Default {
        configured
    } else {
        auth
    };
    match effective {
        AuthSpec::Default | AuthSpec::ClientIdOnly => params.push("client_id", id),
        AuthSpec::Basic => req
            .headers
            .push(("Authorization".into(), basic(&id, &secret()?))),
        AuthSpec::Post => {
            params.push("client_id", id);
            params.push("client_secret", secret()?);
        }
        AuthSpec::Omit => {}
        AuthSpec::Both => {
            let s = secret()?;
            req.headers.push(("Authorization".into(), basic(&id, &s)));
            params.push("client_secret", s);
        }
        AuthSpec::WrongSecret => {
            let wrong = format!("{}-wrong", secret()?);
            match configured {
                AuthSpec::Post => {
                    params.push("client_id", id);
                    params.push("client_secret", wrong);
                }
                _ => req
                    .headers
                    .push(("Authorization".into(), basic(&id, &wrong))),
            }
        }
        AuthSpec::Query => {
            let s = secret()?;
            req.url
                .query_pairs_mut()
                .append_pair("client_id", &id)
                .append_pair("client_secret", &s);
        }
    }
    Ok(())
}

async fn token(ctx: &mut Ctx, t: &TokenStep) -> StepResult {
    let flow = ctx
        .flows
        .get(&t.flow)
        .ok_or_else(|| Halt::Error(format!("flow {} did not start", t.flow)))?;
    let kind = t.client.or(flow.client).unwrap_or(ctx.client);
    let client = client_config(ctx, kind)?;
    let v = vars(ctx, Some(flow), Some(&client));
    let mut params = Params::new();
    if let Some(g) = value(&v, &t.grant_type) {
        params.push("grant_type", g);
    }
    match &t.code {
        CodeSpec::Flow => {
            let code = flow
                .code
                .as_ref()
                .ok_or_else(|| Halt::Error(format!("flow {} got no code to redeem", t.flow)))?;
            params.push("code", code.expose());
        }
        CodeSpec::Omit => {}
        CodeSpec::Garbled => {
            let code = flow.code.as_ref().map_or("garbled-code", |c| c.expose());
            let mut g: String = code.chars().rev().collect();
            g.push('x');
            params.push("code", g);
        }
    }
    match &t.redirect_uri {
        RedirectSpec::Registered => {
            if let Some(r) = &flow.redirect_uri {
                params.push("redirect_uri", r.clone());
            }
        }
        RedirectSpec::Omit => {}
        RedirectSpec::Mutate(m) => {
            params.push("redirect_uri", mutate_redirect(&client.redirect_uri.0, *m))
        }
        RedirectSpec::Literal(tpl) => params.push("redirect_uri", render(&v, tpl)),
    }
    let flow_verifier = flow.verifier.clone();
    let flow_challenge = flow.challenge.clone();
    let verifier = match &t.verifier {
        VerifierSpec::Flow => flow_verifier,
        VerifierSpec::Omit => None,
        VerifierSpec::Empty => Some(String::new()),
        VerifierSpec::Wrong | VerifierSpec::Fresh => Some(
            ctx.verifier(43)
                .map_err(|e| Halt::Error(e.to_string()))?
                .expose_secret()
                .to_owned(),
        ),
        VerifierSpec::Reversed => flow_verifier.map(|s| s.chars().rev().collect()),
        VerifierSpec::Challenge => flow_challenge,
        VerifierSpec::Literal(tpl) => Some(render(&v, tpl)),
    };
    if let Some(ver) = verifier {
        ctx.secret(&ver);
        params.push("code_verifier", ver);
    }
    let mut req = Request {
        method: t.http_method.clone(),
        url: ctx.target.token.clone(),
        headers: Vec::new(),
        form: None,
    };
    authenticate(&mut req, &mut params, &client, t.auth)?;
    mutate(&mut params, &t.params, &v);
    finish_token_request(
        ctx,
        req,
        params,
        &t.expect,
        t.save_as.as_deref().unwrap_or(&t.flow),
        kind,
    )
    .await
}

async fn finish_token_request(
    ctx: &mut Ctx,
    mut req: Request,
    params: Params,
    expect: &HttpExpect,
    save_as: &str,
    kind: ClientKind,
) -> StepResult {
    if req.method == "GET" {
        let mut all = req.url.query().map(Params::parse).unwrap_or_default();
        for (k, val) in params.iter() {
            all.push(k, val);
        }
        req.url.set_query(Some(&all.encode()));
    } else {
        req.form = Some(params.encode());
    }
    let resp = ctx
        .send(req)
        .await
        .map_err(|e| Halt::Error(e.to_string()))?;
    save_tokens(ctx, &resp, save_as, kind);
    check(ctx, expect, &resp)
}

fn check(ctx: &Ctx, expect: &HttpExpect, resp: &Response) -> StepResult {
    let v = vars(ctx, None, None);
    checks::http(expect, resp, &|s| {
        Template::parse(s).map_or_else(|_| s.to_owned(), |t| render(&v, &t))
    })
    .map_err(Halt::Unmet)?;
    Ok(Next::Continue)
}

fn save_tokens(ctx: &mut Ctx, resp: &Response, name: &str, kind: ClientKind) {
    if resp.status != 200 {
        return;
    }
    let Some(body) = resp.json() else { return };
    let get = |k: &str| body.get(k).and_then(|v| v.as_str()).map(Secret::new);
    if let Some(access) = get("access_token") {
        ctx.tokens.insert(
            name.to_owned(),
            Tokens {
                client: kind,
                access: Some(access),
                refresh: get("refresh_token"),
            },
        );
    }
}

async fn refresh(ctx: &mut Ctx, r: &RefreshStep) -> StepResult {
    let tokens = ctx
        .tokens
        .get(&r.tokens)
        .cloned()
        .ok_or_else(|| Halt::Error(format!("no tokens saved as {}", r.tokens)))?;
    let rt = tokens.refresh.ok_or_else(|| {
        Halt::Error(format!(
            "the token response saved as {} had no refresh_token",
            r.tokens
        ))
    })?;
    let kind = r.client.unwrap_or(tokens.client);
    let client = client_config(ctx, kind)?;
    let mut params = Params::new();
    params.push("grant_type", "refresh_token");
    params.push("refresh_token", rt.expose());
    let mut req = Request {
        method: "POST".into(),
        url: ctx.target.token.clone(),
        headers: Vec::new(),
        form: None,
    };
    authenticate(&mut req, &mut params, &client, r.auth)?;
    let save_as = r
        .save_as
        .clone()
        .unwrap_or_else(|| format!("{}-refreshed", r.tokens));
    finish_token_request(ctx, req, params, &r.expect, &save_as, kind).await
}

async fn userinfo(ctx: &mut Ctx, r: &ResourceStep) -> StepResult {
    let url = ctx
        .target
        .userinfo
        .clone()
        .ok_or_else(|| Halt::Error("the target has no userinfo endpoint".into()))?;
    let tokens = ctx
        .tokens
        .get(&r.tokens)
        .cloned()
        .ok_or_else(|| Halt::Error(format!("no tokens saved as {}", r.tokens)))?;
    let at = tokens
        .access
        .ok_or_else(|| Halt::Error("no access token".into()))?;
    let mut req = Request::get(url);
    req.headers
        .push(("Authorization".into(), format!("Bearer {}", at.expose())));
    let resp = ctx
        .send(req)
        .await
        .map_err(|e| Halt::Error(e.to_string()))?;
    check(ctx, &r.expect, &resp)
}

async fn introspect(ctx: &mut Ctx, i: &IntrospectStep) -> StepResult {
    let url = ctx
        .target
        .introspection
        .clone()
        .ok_or_else(|| Halt::Error("the target has no introspection endpoint".into()))?;
    let tokens = ctx
        .tokens
        .get(&i.tokens)
        .cloned()
        .ok_or_else(|| Halt::Error(format!("no tokens saved as {}", i.tokens)))?;
    let token = match i.token {
        TokenKind::AccessToken => tokens.access,
        TokenKind::RefreshToken => tokens.refresh,
    }
    .ok_or_else(|| Halt::Error(format!("the tokens saved as {} lack that token", i.tokens)))?;
    let client = client_config(ctx, ClientKind::Confidential)?;
    let mut params = Params::new();
    params.push("token", token.expose());
    let mut req = Request {
        method: "POST".into(),
        url,
        headers: Vec::new(),
        form: None,
    };
    authenticate(&mut req, &mut params, &client, AuthSpec::Default)?;
    req.form = Some(params.encode());
    let resp = ctx
        .send(req)
        .await
        .map_err(|e| Halt::Error(e.to_string()))?;
    check(ctx, &i.expect, &resp)
}

async fn probe(ctx: &mut Ctx, p: &ProbeStep) -> StepResult {
    let url = match p.endpoint {
        Endpoint::Authorization => ctx.target.authorization.clone(),
        Endpoint::Token => ctx.target.token.clone(),
    };
    let v = vars(ctx, None, None);
    let headers = p
        .headers
        .iter()
        .map(|(k, t)| (k.clone(), render(&v, t)))
        .collect();
    let resp = ctx
        .send(Request {
            method: p.method.clone(),
            url,
            headers,
            form: None,
        })
        .await
        .map_err(|e| Halt::Error(e.to_string()))?;
    check(ctx, &p.expect, &resp)
}

/// RFC 6749 §10.10: collects codes and estimates their entropy as length × log2(alphabet seen).
async fn codes(ctx: &mut Ctx, c: &CodesStep) -> StepResult {
    let mut codes = Vec::new();
    for i in 0..c.count {
        let step = default_authorize(format!("codes-{i}"));
        let (_, code) = authorize(ctx, &step).await?;
        codes.push(code.ok_or_else(|| Halt::Error("an authorization gave no code".into()))?);
    }
    let shortest = codes
        .iter()
        .map(|c| c.expose().chars().count())
        .min()
        .unwrap_or(0);
    if shortest < c.min_length {
        return Err(Halt::Unmet(format!(
            "a code of {shortest} characters is shorter than {} (RFC 6749 §10.10)",
            c.min_length
        )));
    }
    let mut alphabet: Vec<char> = codes.iter().flat_map(|c| c.expose().chars()).collect();
    alphabet.sort_unstable();
    alphabet.dedup();
    let prefix = common_prefix(&codes);
    let bits = (shortest - prefix) as f64 * (alphabet.len().max(1) as f64).log2();
    if bits < c.min_entropy_bits {
        return Err(Halt::Unmet(format!(
            "estimated {bits:.0} bits per code ({} varying characters over an alphabet of {} seen in {} codes, shared prefix {prefix}), below {} (RFC 6749 §10.10)",
            shortest - prefix,
            alphabet.len(),
            codes.len(),
            c.min_entropy_bits
        )));
    }
    Ok(Next::Continue)
}

fn common_prefix(codes: &[Secret]) -> usize {
    let Some(first) = codes.first() else { return 0 };
    let first: Vec<char> = first.expose().chars().collect();
    codes
        .iter()
        .skip(1)
        .map(|c| {
            c.expose()
                .chars()
                .zip(&first)
                .take_while(|(a, b)| a == *b)
                .count()
        })
        .min()
        .unwrap_or(0)
}

/// An authorization with every default, for steps that need a fresh code.
fn default_authorize(flow: String) -> AuthorizeStep {
    AuthorizeStep {
        flow,
        client: None,
        pkce: PkceSpec::default(),
        redirect_uri: RedirectSpec::Registered,
        state: StateSpec::Random,
        response_type: ValueSpec::Literal(Template::literal("code")),
        params: Mutations::default(),
        same_session: true,
        expect: AuthorizeExpect::default(),
    }
}

/// REQ-58: concurrent redemption. Each trial authorizes afresh and bursts `count` identical
/// token requests for the code; more than `at_most` successes in any burst is unmet.
async fn race(ctx: &mut Ctx, r: &RaceStep) -> StepResult {
    let client = client_config(ctx, ctx.client)?;
    let mut per_trial = Vec::with_capacity(r.trials);
    let mut spreads = Vec::with_capacity(r.trials);
    let mut technique = None;
    for trial in 0..r.trials {
        let name = format!("race-{trial}");
        let (_, code) = authorize(ctx, &default_authorize(name.clone())).await?;
        let code =
            code.ok_or_else(|| Halt::Error("the authorization gave no code to race for".into()))?;
        let flow = ctx
            .flows
            .get(&name)
            .ok_or_else(|| Halt::Error("race flow vanished".into()))?;
        let mut params = Params::new();
        params.push("grant_type", "authorization_code");
        params.push("code", code.expose());
        if let Some(uri) = &flow.redirect_uri {
            params.push("redirect_uri", uri.clone());
        }
        if let Some(v) = &flow.verifier {
            params.push("code_verifier", v.clone());
        }
        let mut req = Request {
            method: "POST".into(),
            url: ctx.target.token.clone(),
            headers: Vec::new(),
            form: None,
        };
        authenticate(&mut req, &mut params, &client, AuthSpec::Default)?;
        req.form = Some(params.encode());
        let form = req.form.clone().unwrap_or_default();
        let burst = super::race::burst(
            ctx.race_technique.or(r.technique),
            super::race::BurstRequest {
                url: &req.url,
                headers: &req.headers,
                form: &form,
                count: r.count,
                timeout: Duration::from_secs(10),
                tls: ctx.http.tls(),
            },
        )
        .await
        .map_err(Halt::Error)?;
        for body in &burst.successes {
            let resp = Response {
                status: 200,
                headers: Vec::new(),
                body: body.clone(),
                truncated: false,
                invalid_utf8: false,
            };
            if let Some(v) = resp.json() {
                for key in ["access_token", "refresh_token", "id_token"] {
                    if let Some(t) = v.get(key).and_then(|t| t.as_str()) {
                        ctx.secret(t);
                    }
                }
            }
            if let Some(name) = &r.save_as {
                save_tokens(ctx, &resp, name, ctx.client);
            }
        }
        let distinct: std::collections::BTreeSet<String> = burst
            .successes
            .iter()
            .filter_map(|b| serde_json::from_str::<serde_json::Value>(b).ok())
            .filter_map(|v| {
                v.get("access_token")
                    .and_then(|t| t.as_str())
                    .map(str::to_owned)
            })
            .collect();
        let spread_us = burst.release.spread().as_micros();
        let summary = format!(
            "trial {}: {} requests released by {} {}: {} ({} distinct access tokens)",
            trial + 1,
            r.count,
            burst.technique.as_str(),
            burst.release.describe(),
            super::race::tally(&burst.statuses),
            distinct.len()
        );
        let status = if burst.successes.is_empty() {
            burst.statuses.iter().flatten().copied().min()
        } else {
            Some(200)
        };
        ctx.push_summary(&req, status, summary);
        per_trial.push(burst.successes.len());
        technique = Some(burst.technique);
        spreads.push(spread_us);
        if burst.successes.len() > r.at_most {
            // Proven: further bursts would only repeat it.
            break;
        }
    }
    spreads.sort_unstable();
    let release = match technique {
        Some(Technique::H2SinglePacket) => "each burst in one write, no send spread".to_owned(),
        _ => format!(
            "send spread median {} µs, max {} µs",
            spreads[spreads.len() / 2],
            spreads.last().copied().unwrap_or(0)
        ),
    };
    let note = format!(
        "race: {} of up to {} trial(s) x {} requests, technique {}, successes per trial {:?}, {release}",
        per_trial.len(),
        r.trials,
        r.count,
        technique.map_or("none", Technique::as_str),
        per_trial,
    );
    let worst = per_trial.iter().copied().max().unwrap_or(0);
    if r.save_as.is_some() && per_trial.last() == Some(&0) {
        return Err(Halt::Error(format!(
            "no request of the last burst succeeded, so there are no tokens to check afterwards; {note}"
        )));
    }
    if worst > r.at_most {
        return Err(Halt::Unmet(format!(
            "one code was redeemed {worst} times in a burst of {} concurrent requests (at most {} allowed); {note}",
            r.count, r.at_most
        )));
    }
    ctx.notes.push(note);
    Ok(Next::Continue)
}
