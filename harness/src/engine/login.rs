//! Login drivers: from an authorization request to the redirect back to the client.
//!
//! The harness never listens on a redirect URI. It follows the server's redirects itself and
//! stops at the first one that leaves the server for a client (a registered redirect URI, the
//! one the request named, or any other origin). On the way, the form driver fills in the login
//! and consent pages: hidden inputs keep their values, configured fields are filled by name, the
//! first submit button is pressed. It gives up after a bounded number of requests and then says
//! where it was stuck and which forms it saw.

use url::Url;

use super::context::Ctx;
use crate::callback::{Ending, parse_form_post, parse_location, resolve_location};
use crate::forms::{self, Form};
use crate::outcome::{Fault, Halt, LoginFault};
use crate::target::{FormLogin, LoginConfig};
use crate::wire::{HttpMethod, Request, Response, without_query};

/// What happened on the way.
#[derive(Debug)]
pub struct Drive {
    /// The ending.
    pub ending: Ending,
    /// HTML form pages shown (login, consent): their responses.
    pub pages: Vec<Response>,
    /// Statuses of redirects that answered a POST.
    pub post_redirects: Vec<u16>,
}

/// Runs the authorization request at `url` to its end.
pub async fn drive(ctx: &mut Ctx, url: Url, client_targets: &[Url]) -> Result<Drive, Halt> {
    let max_steps = match &ctx.target.login {
        LoginConfig::Form(f) => f.max_steps,
        LoginConfig::Auto {} => 8,
    };
    let as_origins = [ctx.target.authorization.origin(), ctx.target.token.origin()];
    let leaves = |u: &Url| {
        client_targets.iter().any(|t| same_endpoint(t, u)) || !as_origins.contains(&u.origin())
    };
    let mut req = Request::get(url).in_browser();
    let mut pages = Vec::new();
    let mut post_redirects = Vec::new();
    let mut submitted: Vec<String> = Vec::new();
    for _ in 0..max_steps {
        let resp = ctx
            .send(req.clone())
            .await
            .map_err(|error| Fault::Http { error })?;
        if resp.is_redirect() {
            if req.method == HttpMethod::Post {
                post_redirects.push(resp.status);
            }
            let loc = resp
                .header("location")
                .ok_or_else(|| LoginFault::NoLocation {
                    method: req.method.to_string(),
                    url: without_query(&req.url),
                    status: resp.status,
                })?;
            let next = resolve_location(&req.url, loc).map_err(|e| LoginFault::BadLocation {
                reason: e.to_string(),
            })?;
            if leaves(&next) {
                let response =
                    parse_location(&req.url, loc).map_err(|e| LoginFault::UnreadableCallback {
                        target: without_query(&next),
                        reason: e.to_string(),
                    })?;
                return Ok(Drive {
                    ending: Ending::Callback(Box::new(response)),
                    pages,
                    post_redirects,
                });
            }
            req = if matches!(resp.status, 307 | 308) && req.method == HttpMethod::Post {
                Request { url: next, ..req }
            } else {
                Request::get(next).in_browser()
            };
            continue;
        }
        let forms = forms::forms(&resp.body);
        // form_post response mode: an auto-submitting form whose action is the client.
        if forms
            .iter()
            .any(|f| f.method == "post" && action_of(&req.url, f).is_some_and(|a| leaves(&a)))
        {
            let response = parse_form_post(&req.url, &resp.body).map_err(|e| {
                LoginFault::UnreadableFormPost {
                    reason: e.to_string(),
                }
            })?;
            return Ok(Drive {
                ending: Ending::Callback(Box::new(response)),
                pages,
                post_redirects,
            });
        }
        let LoginConfig::Form(config) = &ctx.target.login else {
            return Ok(Drive {
                ending: page(&resp),
                pages,
                post_redirects,
            });
        };
        let Some(form) = pick(config, &forms) else {
            return Ok(Drive {
                ending: page(&resp),
                pages,
                post_redirects,
            });
        };
        let Some(action) = action_of(&req.url, form) else {
            return Err(LoginFault::UnusableAction {
                page: without_query(&req.url),
                action: form.action.clone(),
            }
            .into());
        };
        let key = format!("{}|{}", without_query(&req.url), action);
        if submitted.iter().filter(|k| **k == key).count() >= 2 {
            return Err(stuck(&req.url, &resp, &forms).into());
        }
        submitted.push(key);
        let body = fill(config, form);
        pages.push(resp);
        req = Request::post_form(action, body).in_browser();
    }
    Err(LoginFault::NotReached {
        max_steps,
        method: req.method.to_string(),
        url: without_query(&req.url),
    }
    .into())
}

fn page(resp: &Response) -> Ending {
    Ending::Page {
        status: resp.status,
        title: forms::title(&resp.body),
        heading: forms::heading(&resp.body),
        login_form: forms::has_login_form(&resp.body),
    }
}

/// Same scheme, host, port and path: a redirect to this URL reaches that redirect URI.
fn same_endpoint(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
        && a.path() == b.path()
}

fn action_of(page: &Url, form: &Form) -> Option<Url> {
    page.join(form.action.as_deref().unwrap_or("")).ok()
}

fn pick<'a>(config: &FormLogin, forms: &'a [Form]) -> Option<&'a Form> {
    let post = || forms.iter().filter(|f| f.method == "post");
    match &config.select {
        Some(sel) => post()
            .find(|f| {
                sel.id.as_ref().is_none_or(|id| f.id.as_ref() == Some(id))
                    && sel
                        .action_contains
                        .as_ref()
                        .is_none_or(|a| f.action.as_deref().is_some_and(|x| x.contains(a.as_str())))
            })
            .or_else(|| post().next()),
        None => post().next(),
    }
}

/// The form's body: hidden and pre-filled inputs as they are, configured fields by name, the
/// first submit button; unchecked checkboxes are left out, as a browser would.
fn fill(config: &FormLogin, form: &Form) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    let mut pressed = false;
    for input in &form.inputs {
        match input.kind.as_str() {
            "submit" | "button" | "image" => {
                if !pressed {
                    ser.append_pair(&input.name, &input.value);
                    pressed = true;
                }
            }
            "checkbox" | "radio" if !config.fields.contains_key(&input.name) => {}
            _ => {
                let value = config
                    .fields
                    .get(&input.name)
                    .map_or(input.value.as_str(), |v| v.0.expose());
                ser.append_pair(&input.name, value);
            }
        }
    }
    ser.finish()
}

fn stuck(url: &Url, resp: &Response, forms: &[Form]) -> LoginFault {
    let seen: Vec<String> = forms
        .iter()
        .map(|f| {
            let names: Vec<&str> = f.inputs.iter().map(|i| i.name.as_str()).collect();
            format!(
                "<form method={} action={:?} inputs=[{}]>",
                f.method,
                f.action.as_deref().unwrap_or(""),
                names.join(",")
            )
        })
        .collect();
    LoginFault::Stuck {
        page: without_query(url),
        status: resp.status,
        title: forms::title(&resp.body).unwrap_or_default(),
        forms: if seen.is_empty() {
            "none".into()
        } else {
            seen.join(" ")
        },
    }
}
