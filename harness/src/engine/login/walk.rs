//! The walk every login driver shares: following the server's redirects in the user agent
//! until a client is reached or the server shows a page, within one request budget, keeping
//! the trail. The drivers decide what to do on a page; this decides where a walk stopped.

use url::Url;

use crate::callback::{
    AuthorizationResponse, Ending, parse_form_post, parse_location, resolve_location,
};
use crate::engine::context::Ctx;
use crate::forms::{Page, PageKind};
use crate::outcome::{Fault, Halt, LoginFault};
use crate::wire::{HttpMethod, Request, Response, same_endpoint, without_query};

/// What happened on the way.
#[derive(Debug)]
pub struct Drive {
    /// The ending.
    pub ending: Ending,
    /// HTML pages shown on the way (login, consent): their responses.
    pub pages: Vec<Response>,
    /// Statuses of redirects that answered a POST.
    pub post_redirects: Vec<u16>,
    /// A consent page was declined on the way (the step asked for it).
    pub declined: bool,
}

/// Where a walk through redirects stopped.
pub(super) enum Stop {
    /// At a client, with the authorization response.
    Callback(Box<AuthorizationResponse>),
    /// At a page of the server.
    Page(Box<Shown>),
}

/// A page of the server where a walk stopped.
pub(super) struct Shown {
    /// Its URL.
    pub url: Url,
    /// The response.
    pub resp: Response,
    /// The page, parsed.
    pub page: Page,
}

/// Follows redirects in the user agent, within a request budget shared by a whole drive.
pub(super) struct Walk<'a> {
    /// Where the client receives the authorization response.
    pub client_targets: &'a [Url],
    /// The server's own origins: a redirect off them is a client.
    pub as_origins: &'a [url::Origin; 2],
    /// HTML pages shown on the way.
    pub pages: Vec<Response>,
    /// Statuses of redirects that answered a POST.
    pub post_redirects: Vec<u16>,
    /// Requests the drive may send.
    pub budget: usize,
    /// Requests sent so far.
    pub used: usize,
    /// Decline the consent page rather than approve it.
    pub decline: bool,
    /// A consent page was declined.
    pub declined: bool,
}

impl Walk<'_> {
    /// Whether a redirect to `u` leaves the server for a client.
    pub fn leaves(&self, u: &Url) -> bool {
        self.client_targets.iter().any(|t| same_endpoint(t, u))
            || !self.as_origins.contains(&u.origin())
    }

    /// Sends `req` in the user agent and follows redirects until a client is reached or the
    /// server shows a page. `form_css` picks the form a page is read for.
    pub async fn follow(
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
pub(super) fn page_ending(resp: &Response, page: &Page) -> Ending {
    Ending::Page {
        status: resp.status,
        title: page.title.clone(),
        heading: page.heading.clone(),
        message: page.message.clone(),
        holds: page.kind(),
    }
}

/// Where a form submits to, from the page it is on.
pub(super) fn action_of(page: &Url, form: &crate::forms::Form) -> Option<Url> {
    page.join(form.action.as_deref().unwrap_or("")).ok()
}
