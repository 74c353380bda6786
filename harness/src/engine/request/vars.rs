//! Template variables: what `{{name}}` in a scenario stands for in the current state, and
//! parameter mutations filled from them.

use std::collections::HashMap;

use crate::engine::context::{Flow, ResolvedTarget};
use crate::params::Params;
use crate::scenario::model::{Mutations, Template, ValueSpec};
use crate::target::ClientConfig;

/// Template variables by name.
pub type Vars = HashMap<&'static str, String>;

/// The template variables of the current scenario state.
pub fn vars(target: &ResolvedTarget, flow: Option<&Flow>, client: Option<&ClientConfig>) -> Vars {
    let mut v = HashMap::new();
    v.insert("issuer", target.issuer.clone().unwrap_or_default());
    v.insert("authorization_endpoint", target.authorization.to_string());
    // RFC 6749 §3.3: the order of scope values does not matter, so a reversed one must do.
    if let Some(scope) = &target.scope {
        v.insert("scope", scope.clone());
        let words: Vec<&str> = scope.split(' ').filter(|w| !w.is_empty()).rev().collect();
        v.insert("scope_reversed", words.join(" "));
    }
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
