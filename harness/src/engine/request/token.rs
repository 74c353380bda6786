//! Back-channel requests and the token request body.

use url::Url;

use super::authorize::redirect_uri;
use super::vars::{Vars, render, value};
use crate::engine::context::Flow;
use crate::outcome::Fault;
use crate::params::Params;
use crate::scenario::model::{CodeSpec, RedirectSpec, TokenStep, VerifierSpec};
use crate::target::ClientConfig;
use crate::wire::{HttpMethod, Request};

/// A request to `url` with no body yet.
pub fn bare(method: HttpMethod, url: Url) -> Request {
    Request {
        channel: crate::wire::Channel::Back,
        method,
        url,
        headers: Vec::new(),
        body: None,
        identity: None,
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
