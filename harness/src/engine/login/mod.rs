//! Login drivers: from an authorization request to the redirect back to the client.
//!
//! The harness never listens on a redirect URI. It follows the server's redirects itself and
//! stops at the first one that leaves the server for a client (a registered redirect URI, the
//! one the request named, or any other origin). What happens on the pages between is the
//! driver's business: `form` fills in HTML forms ([`form`]), `steps` replays a JavaScript
//! login's API calls ([`script`]), `browser` lets Chromium run the pages ([`browser`]). Each
//! driver gives up after a bounded number of requests and says where it was stuck; each keeps a
//! trail of the pages and steps it went through, which `check` prints and reports keep.

pub mod browser;
mod form;
mod script;

use url::Url;

use super::context::Ctx;
use crate::callback::{
    AuthorizationResponse, Ending, parse_form_post, parse_location, resolve_location,
};
use crate::forms::{Page, PageKind};
use crate::outcome::{Fault, Halt, LoginFault};
use crate::target::LoginConfig;
use crate::wire::{HttpMethod, Request, Response, without_query};

/// What happened on the way.
#[derive(Debug)]
pub struct Drive {
    /// The ending.
    pub ending: Ending,
    /// HTML pages shown on the way (login, consent): their responses.
    pub pages: Vec<Response>,
    /// Statuses of redirects that answered a POST.
    pub post_redirects: Vec<u16>,
}

/// Runs the authorization request at `url` to its end with the target's login driver. The
/// pages and steps it went through are added to `ctx.login_trail`.
pub async fn drive(ctx: &mut Ctx, url: Url, client_targets: &[Url]) -> Result<Drive, Halt> {
    let target = std::sync::Arc::clone(&ctx.target);
    let as_origins = [target.authorization.origin(), target.token.origin()];
    let mut walk = Walk {
        client_targets,
        as_origins: &as_origins,
        pages: Vec::new(),
        post_redirects: Vec::new(),
        budget: 0,
        used: 0,
    };
    if let LoginConfig::Browser(config) = &target.login {
        return browser::drive(ctx, url, client_targets, config).await;
    }
    let ending = match &target.login {
        LoginConfig::Auto {} => {
            walk.budget = 8;
            form::drive(ctx, &mut walk, url, None).await
        }
        LoginConfig::Form(config) => {
            walk.budget = config.max_steps;
            form::drive(ctx, &mut walk, url, Some(config)).await
        }
        LoginConfig::Steps(script) => {
            walk.budget = 12 + script.requests.len();
            script::drive(ctx, &mut walk, url, script).await
        }
        LoginConfig::Browser(_) => unreachable!("the browser driver returned above"),
    }?;
    Ok(Drive {
        ending,
        pages: walk.pages,
        post_redirects: walk.post_redirects,
    })
}

/// Where a walk through redirects stopped.
enum Stop {
    /// At a client, with the authorization response.
    Callback(Box<AuthorizationResponse>),
    /// At a page of the server.
    Page(Box<Shown>),
}

/// A page of the server where a walk stopped.
struct Shown {
    /// Its URL.
    url: Url,
    /// The response.
    resp: Response,
    /// The page, parsed.
    page: Page,
}

/// Follows redirects in the user agent, within a request budget shared by a whole drive.
struct Walk<'a> {
    client_targets: &'a [Url],
    as_origins: &'a [url::Origin; 2],
    pages: Vec<Response>,
    post_redirects: Vec<u16>,
    budget: usize,
    used: usize,
}

impl Walk<'_> {
    /// Whether a redirect to `u` leaves the server for a client.
    fn leaves(&self, u: &Url) -> bool {
        self.client_targets.iter().any(|t| same_endpoint(t, u))
            || !self.as_origins.contains(&u.origin())
    }

    /// Sends `req` in the user agent and follows redirects until a client is reached or the
    /// server shows a page. `form_css` picks the form a page is read for.
    async fn follow(
        &mut self,
        ctx: &mut Ctx,
        mut req: Request,
        form_css: Option<&str>,
    ) -> Result<Stop, Halt> {
        loop {
            if self.used >= self.budget {
                return Err(LoginFault::NotReached {
                    max_steps: self.budget,
                    method: req.method.to_string(),
                    url: without_query(&req.url),
                }
                .into());
            }
            self.used += 1;
            let resp = ctx
                .send(req.clone())
                .await
                .map_err(|error| Fault::Http { error })?;
            if !resp.is_redirect() && resp.truncated {
                // A page past the size cap cannot be read whole (its form may be in the part
                // that was dropped): the server's answer is unjudgeable, not a login to drive.
                return Err(Fault::CutBody {
                    request: format!("{} {}", req.method, without_query(&req.url)),
                    cap: resp.body.len(),
                    unmet: format!("a page of HTTP {}", resp.status),
                }
                .into());
            }
            if !resp.is_redirect() {
                let page = Page::parse(&resp.body, form_css);
                ctx.login_trail.push(format!(
                    "{} {} → {}{}",
                    req.method,
                    without_query(&req.url),
                    resp.status,
                    describe(&page)
                ));
                // form_post response mode: an auto-submitting form whose action is the client
                // (never a login form: one that asks for a password is no authorization response).
                if page.forms.iter().any(|f| {
                    f.method == "post"
                        && !f.is_login()
                        && action_of(&req.url, f).is_some_and(|a| self.leaves(&a))
                }) {
                    let response = parse_form_post(&req.url, &resp.body).map_err(|e| {
                        LoginFault::UnreadableFormPost {
                            reason: e.to_string(),
                        }
                    })?;
                    return Ok(Stop::Callback(Box::new(response)));
                }
                return Ok(Stop::Page(Box::new(Shown {
                    url: req.url,
                    resp,
                    page,
                })));
            }
            if req.method == HttpMethod::Post {
                self.post_redirects.push(resp.status);
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
            ctx.login_trail.push(format!(
                "{} {} → {} to {}",
                req.method,
                without_query(&req.url),
                resp.status,
                without_query(&next)
            ));
            if self.leaves(&next) {
                let response =
                    parse_location(&req.url, loc).map_err(|e| LoginFault::UnreadableCallback {
                        target: without_query(&next),
                        reason: e.to_string(),
                    })?;
                return Ok(Stop::Callback(Box::new(response)));
            }
            req = if matches!(resp.status, 307 | 308) && req.method == HttpMethod::Post {
                Request { url: next, ..req }
            } else {
                Request::get(next).in_browser()
            };
        }
    }
}

/// A page as a trail entry names it.
fn describe(page: &Page) -> String {
    let title = page
        .title
        .as_deref()
        .map(|t| format!(" {t:?}"))
        .unwrap_or_default();
    let holds = match page.kind() {
        PageKind::LoginForm => " (login form)",
        PageKind::Form => " (form)",
        PageKind::Script => " (script, no form)",
        PageKind::Plain => "",
    };
    format!("{title}{holds}")
}

/// The ending for a page the driver stops at.
fn page_ending(resp: &Response, page: &Page) -> Ending {
    Ending::Page {
        status: resp.status,
        title: page.title.clone(),
        heading: page.heading.clone(),
        message: page.message.clone(),
        holds: page.kind(),
    }
}

/// Same scheme, host, port and path: a redirect to this URL reaches that redirect URI.
fn same_endpoint(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
        && a.path() == b.path()
}

fn action_of(page: &Url, form: &crate::forms::Form) -> Option<Url> {
    page.join(form.action.as_deref().unwrap_or("")).ok()
}
