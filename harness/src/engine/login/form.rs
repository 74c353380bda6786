//! The `form` driver (and `auto`, which is the form driver that fills nothing): on each page,
//! pick the form (the configured one, else the first POST form), submit what a browser would
//! submit with the configured fields filled in, and follow where it leads.

use std::collections::BTreeMap;

use url::Url;

use super::walk::{Stop, Walk, page_ending};
use crate::callback::Ending;
use crate::engine::context::Ctx;
use crate::forms::{Form, Page};
use crate::outcome::{Fault, Halt, LoginFault};
use crate::target::FormLogin;
use crate::wire::{Request, Response, without_query};

/// Drives `url` to its end; `config` is `None` for `login: auto`.
pub(super) async fn drive(
    ctx: &mut Ctx,
    walk: &mut Walk<'_>,
    url: Url,
    config: Option<&FormLogin>,
) -> Result<Ending, Halt> {
    let css = config
        .and_then(|c| c.select.as_ref())
        .and_then(|s| s.css.as_ref())
        .map(|c| c.0.clone());
    let mut req = Request::get(url).in_browser();
    let mut submitted: Vec<String> = Vec::new();
    loop {
        let (url, resp, page) = match walk.follow(ctx, req, css.as_deref()).await? {
            Stop::Callback(r) => return Ok(Ending::Callback(r)),
            Stop::Page(shown) => (shown.url, shown.resp, shown.page),
        };
        let Some(config) = config else {
            return Ok(page_ending(&resp, &page));
        };
        let (form, pressed) = if walk.decline && !page.forms.iter().any(Form::is_login) {
            match declining(&page.forms) {
                Some(found) => found,
                None if page.forms.iter().any(|f| f.method == "post") => {
                    return Err(Fault::precondition(format!(
                        "the consent page at {} has no button to decline (deny, cancel, reject, decline, no)",
                        without_query(&url)
                    ))
                    .into());
                }
                None => return Ok(page_ending(&resp, &page)),
            }
        } else {
            match pick(config, &page.forms) {
                Some(form) => (form, None),
                None => return Ok(page_ending(&resp, &page)),
            }
        };
        let Some(action) = url.join(form.action_pressing(pressed).unwrap_or("")).ok() else {
            return Err(LoginFault::UnusableAction {
                page: without_query(&url),
                action: form.action.clone(),
            }
            .into());
        };
        let key = format!("{}|{}", without_query(&url), action);
        if submitted.iter().filter(|k| **k == key).count() >= 2 {
            return Err(stuck(&url, &resp, &page).into());
        }
        submitted.push(key);
        let fill: BTreeMap<&str, &str> = config
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.0.expose()))
            .collect();
        let entries = form.entries_pressing(&fill, pressed);
        let mut body = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in &entries {
            body.append_pair(name, value);
        }
        let names: Vec<String> = entries.into_iter().map(|(n, _)| n).collect();
        walk.declined |= pressed.is_some();
        ctx.login_trail.push(format!(
            "{} form{} with {}",
            if pressed.is_some() {
                "decline"
            } else {
                "submit"
            },
            form.id
                .as_deref()
                .map(|i| format!(" #{i}"))
                .unwrap_or_default(),
            names.join(", ")
        ));
        walk.pages.push(resp);
        req = Request::post_form(action, body.finish()).in_browser();
    }
}

/// The first POST form with a declining button, and that button.
fn declining(forms: &[Form]) -> Option<(&Form, Option<usize>)> {
    forms
        .iter()
        .filter(|f| f.method == "post")
        .find_map(|f| f.declining_button().map(|i| (f, Some(i))))
}

/// The form to submit: the first POST form every given criterion of `select` holds for, else
/// the first POST form.
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
                    && (sel.css.is_none() || f.selected)
            })
            .or_else(|| post().next()),
        None => post().next(),
    }
}

fn stuck(url: &Url, resp: &Response, page: &Page) -> LoginFault {
    let seen: Vec<String> = page
        .forms
        .iter()
        .map(|f| {
            let names: Vec<&str> = f.controls.iter().map(|c| c.name.as_str()).collect();
            format!(
                "<form method={} action={:?} controls=[{}]>",
                f.method,
                f.action.as_deref().unwrap_or(""),
                names.join(",")
            )
        })
        .collect();
    LoginFault::Stuck {
        page: without_query(url),
        status: resp.status,
        title: page.title.clone().unwrap_or_default(),
        forms: if seen.is_empty() {
            "none".into()
        } else {
            seen.join(" ")
        },
    }
}
