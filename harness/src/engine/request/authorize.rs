//! The authorization request: PKCE values as a scenario asks for them (also the malformed
//! ones), `state`, redirect URI mutations, the front-channel URL or the pushed one.

use url::Url;

use super::vars::{Vars, mutate, render, value, vars};
use crate::engine::context::{Flow, ResolvedTarget};
use crate::params::Params;
use crate::pkce::{Method, s256_of_text};
use crate::scenario::model::{
    AuthSpec, AuthorizeExpect, AuthorizeStep, ChallengeSpec, DpopBinding, Mutations, NonceSpec,
    ParProof, ParSpec, PkceSpec, RedirectMutation, RedirectSpec, RequestObjectSpec, StateSpec,
    Template, ValueSpec,
};
use crate::target::ClientConfig;

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
        RedirectMutation::PathSuffix => appended(registered, "/x"),
        RedirectMutation::TrailingSlash => match base.strip_suffix('/') {
            Some(b) => format!("{b}{q}"),
            None => format!("{base}/{q}"),
        },
        RedirectMutation::PathCase => format!("{scheme}://{host}{port}{}{q}", path.to_uppercase()),
        RedirectMutation::EncodedTraversal => appended(registered, "/..%2Fevil"),
        RedirectMutation::DoubleEncoded => appended(registered, "%252F..%252Fevil"),
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
        RedirectSpec::Appended(suffix) => Some(appended(&client.redirect_uri.0, suffix)),
    }
}

/// `registered` with `suffix` appended to its path (its trailing `/` dropped), the query after.
fn appended(registered: &Url, suffix: &str) -> String {
    let s = registered.as_str();
    let (base, query) = s.split_once('?').map_or((s, None), |(b, q)| (b, Some(q)));
    let q = query.map(|q| format!("?{q}")).unwrap_or_default();
    format!("{}{suffix}{q}", base.trim_end_matches('/'))
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
    if let Some(mode) = step.response_mode.or(target.response_mode) {
        params.push("response_mode", mode.as_str());
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
    front_url(target, step, client, flow, params)
}

/// The front-channel request made of what stands for the request (a `request_uri`, a request
/// object) and the step's `front_params`: what an attacker on the front channel may add.
pub fn front_url(
    target: &ResolvedTarget,
    step: &AuthorizeStep,
    client: &ClientConfig,
    flow: &Flow,
    mut params: Params,
) -> Url {
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
    target
        .clients
        .all()
        .map(|c| c.redirect_uri.0.clone())
        .chain(sent.and_then(|r| Url::parse(r).ok()))
        .collect()
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
        par_auth: AuthSpec::Default,
        id_token_hint: None,
        par_method: crate::wire::HttpMethod::Post,
        front_params: Mutations::default(),
        dpop: DpopBinding::Auto,
        par_dpop: ParProof::None,
        reload: false,
        consent: crate::scenario::model::ConsentAnswer::Approve,
        request_object: RequestObjectSpec::Auto,
        request_by: crate::scenario::model::RequestBy::Value,
        response_mode: None,
        expect: AuthorizeExpect::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path-confusion spelling goes on the path, before the registered query, and its
    /// percent signs stay as written.
    #[test]
    fn a_suffix_is_appended_to_the_path_before_the_query() {
        let plain = Url::parse("https://c.example/cb/").expect("url");
        assert_eq!(
            appended(&plain, "%2FFAKEPATH%2F.."),
            "https://c.example/cb%2FFAKEPATH%2F.."
        );
        let with_query = Url::parse("https://c.example/cb?x=1").expect("url");
        assert_eq!(
            appended(&with_query, "/..%2FFAKEPATH"),
            "https://c.example/cb/..%2FFAKEPATH?x=1"
        );
        assert_eq!(
            mutate_redirect(&with_query, RedirectMutation::PathSuffix),
            "https://c.example/cb/x?x=1"
        );
    }
}
