//! The `browser` driver: headless Chromium runs the login and consent pages, script and all.
//!
//! Chromium is driven over the DevTools protocol by `chromiumoxide` (typed commands and events
//! generated from the protocol, on tokio, maintained; it launches the system's Chromium, so
//! nothing is downloaded). One browser starts per run, on the first login that needs it; each
//! flow gets a fresh browser context (its own cookies and storage) and one tab.
//!
//! Every request the tab makes is paused at the request stage (`Fetch.requestPaused`) and
//! routed by the target's origin policy ([`route`]): a navigation of the tab to a client (a
//! registered redirect URI, the one the request named) or off the policy's origins is the
//! authorization response, its URL read and the request failed, so it is never loaded; any
//! other request off those origins (a CDN's stylesheet, a tracker, a frame) is answered locally
//! as blocked and named in the trail; the rest continue. The page may open no window and no
//! dialog (a script run before its own replaces them; a popup is closed, a dialog dismissed),
//! and `timeout_seconds` bounds the whole login whatever the page does. On each page the driver runs the
//! target file's tasks for pages whose URL matches, else the default: fill the user name and
//! password fields it finds by type and name and submit, or press the approving button of a
//! consent form. Every document the tab loads is kept for the trail and the page checks
//! (status and headers as Chromium received them).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EnableParams, EventRequestPaused, FailRequestParams, RequestPattern,
    RequestStage,
};
use chromiumoxide::cdp::browser_protocol::input::InsertTextParams;
use chromiumoxide::cdp::browser_protocol::network::{
    ErrorReason, EventRequestWillBeSent, EventResponseReceived, ResourceType,
};
use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, CaptureScreenshotFormat, EventJavascriptDialogOpening,
    HandleJavaScriptDialogParams,
};
use chromiumoxide::cdp::browser_protocol::target::{
    CloseTargetParams, CreateTargetParams, EventTargetCreated,
};
use chromiumoxide::page::ScreenshotParams;
use futures_util::StreamExt;
use url::Url;

use super::chromium::Session;
use super::walk::Drive;
use crate::callback::{Ending, parse_location};
use crate::engine::context::Ctx;
use crate::forms::Page as HtmlPage;
use crate::outcome::{Fault, Halt, LoginFault};
use crate::target::{BrowserLogin, BrowserPage, OriginPolicy, Task, WaitFor};
use crate::wire::{HttpMethod, Request, Response, same_endpoint, without_query};

/// How often the driver looks at the page again while it waits.
const POLL: Duration = Duration::from_millis(20);
/// How long after an action the driver waits for the page to move on before acting again.
const SETTLE: Duration = Duration::from_millis(1500);
/// How long each clean-up step after a login (screenshot, closing the tab) may take: a page
/// that keeps the browser busy must not hold the run past its deadline.
const CLEAN_UP: Duration = Duration::from_millis(500);

/// Run in every document before its own script: the page may not open windows or dialogs
/// (popups escape the tab's interception; a dialog blocks every look at the page). Closing
/// popups and dismissing dialogs stays as the backstop.
const CONTAIN: &str = r#"(() => {
  window.open = () => null;
  window.alert = () => undefined;
  window.print = () => undefined;
  window.confirm = () => false;
  window.prompt = () => null;
  const submit = HTMLFormElement.prototype.submit;
  HTMLFormElement.prototype.submit = function () { this.target = '_self'; return submit.call(this); };
  const stay = e => {
    const t = e.target;
    const el = t && t.closest ? t.closest('a[target], area[target], form[target]') : null;
    if (el) { el.target = '_self'; }
  };
  document.addEventListener('click', stay, true);
  document.addEventListener('submit', stay, true);
})()"#;

/// What the interception does with a request the tab makes.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    /// The tab was sent to a client (or away from the server): the authorization response,
    /// read from the URL, never loaded.
    Callback,
    /// A request to an origin of the target file: it goes.
    Continue,
    /// A subresource, frame or script request outside the policy (a CDN's stylesheet, a
    /// tracker, a redirect URI fetched by script): answered locally as blocked, recorded.
    Block,
}

/// Routes a request for `u`; `navigation` when it loads the tab's own document.
fn route(u: &Url, navigation: bool, clients: &[Url], origins: &OriginPolicy) -> Route {
    let to_client = clients.iter().any(|t| same_endpoint(t, u));
    if !to_client && origins.allows(u) {
        Route::Continue
    } else if navigation {
        Route::Callback
    } else {
        Route::Block
    }
}

/// How many blocked requests the trail names; the rest are counted.
const BLOCKED_SHOWN: usize = 10;

/// What the request listener saw.
#[derive(Default)]
struct Seen {
    /// The first request that left for a client: its URL (fragment included) and form body.
    callback: Option<(Url, Option<String>)>,
    /// Documents loaded, in order: the request and the response as Chromium got them.
    documents: Vec<(Request, Response)>,
    /// Statuses of redirects that answered a POST.
    post_redirects: Vec<u16>,
    /// Methods of requests by id, to tell which redirect answered a POST.
    methods: HashMap<String, String>,
    /// What happened, in order: documents loaded, actions taken, the client reached.
    trail: Vec<String>,
    /// Requests blocked for leaving the origin policy.
    blocked: usize,
    /// A consent page was declined.
    declined: bool,
}

fn note(seen: &Shared2, what: String) {
    lock(seen).trail.push(format!("browser: {what}"));
}

type Shared2 = Arc<Mutex<Seen>>;

fn lock(s: &Shared2) -> std::sync::MutexGuard<'_, Seen> {
    s.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs the authorization request at `url` in a new tab of the job's browser session (its
/// browser context, opened by the job's first login and kept until a step asks for a new
/// session).
pub(super) async fn drive(
    ctx: &mut Ctx,
    url: Url,
    client_targets: &[Url],
    config: &BrowserLogin,
    decline: bool,
) -> Result<Drive, Halt> {
    let shared = ctx.browser.clone();
    let chromium = shared.get(config).await.map_err(|e| LoginFault::Browser {
        reason: e.to_string(),
    })?;
    let _tab = ctx
        .queued
        .off_the_clock(chromium.tabs.acquire())
        .await
        .map_err(|e| LoginFault::Browser {
            reason: format!("no browser tab: {e}"),
        })?;
    let context = match &ctx.browser_session {
        Some(session) if session.in_browser(&chromium) => session.context.clone(),
        _ => {
            let session = Session::open(Arc::clone(&chromium)).await.map_err(cdp)?;
            let context = session.context.clone();
            ctx.browser_session = Some(Arc::new(session));
            context
        }
    };
    in_context(
        ctx,
        &chromium.browser,
        &context,
        url,
        client_targets,
        config,
        decline,
    )
    .await
}

async fn in_context(
    ctx: &mut Ctx,
    browser: &chromiumoxide::Browser,
    context: &chromiumoxide::cdp::browser_protocol::browser::BrowserContextId,
    url: Url,
    client_targets: &[Url],
    config: &BrowserLogin,
    decline: bool,
) -> Result<Drive, Halt> {
    let tab = browser
        .new_page(
            CreateTargetParams::builder()
                .url("about:blank")
                .browser_context_id(context.clone())
                .build()
                .map_err(|e| LoginFault::Browser { reason: e })?,
        )
        .await
        .map_err(cdp)?;
    tab.execute(AddScriptToEvaluateOnNewDocumentParams::new(CONTAIN))
        .await
        .map_err(cdp)?;
    let main_frame = tab.mainframe().await.ok().flatten();
    let me = tab.target_id().clone();
    let origins = ctx.target.origins.clone();
    let clients: Vec<Url> = client_targets.to_vec();
    let seen: Shared2 = Arc::default();
    let mut dialogs = tab
        .event_listener::<EventJavascriptDialogOpening>()
        .await
        .map_err(cdp)?;
    let mut popups = browser
        .event_listener::<EventTargetCreated>()
        .await
        .map_err(cdp)?;
    let mut paused = tab
        .event_listener::<EventRequestPaused>()
        .await
        .map_err(cdp)?;
    let mut responses = tab
        .event_listener::<EventResponseReceived>()
        .await
        .map_err(cdp)?;
    let mut sent = tab
        .event_listener::<EventRequestWillBeSent>()
        .await
        .map_err(cdp)?;
    tab.execute(
        EnableParams::builder()
            .pattern(
                RequestPattern::builder()
                    .url_pattern("*")
                    .request_stage(RequestStage::Request)
                    .build(),
            )
            .build(),
    )
    .await
    .map_err(cdp)?;
    let listener = {
        let (tab, seen) = (tab.clone(), Arc::clone(&seen));
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    Some(ev) = paused.next() => {
                        let mut target = ev.request.url.clone();
                        if let Some(f) = &ev.request.url_fragment {
                            target.push_str(f);
                        }
                        let navigation = ev.resource_type == ResourceType::Document
                            && main_frame.as_ref().is_none_or(|f| *f == ev.frame_id);
                        let routed = Url::parse(&target)
                            .ok()
                            .map(|u| (route(&u, navigation, &clients, &origins), u));
                        if let Some((Route::Block, u)) = &routed {
                            {
                                let mut s = lock(&seen);
                                s.blocked += 1;
                                if s.blocked <= BLOCKED_SHOWN {
                                    s.trail.push(format!(
                                        "browser: blocked a {:?} request to {} (not an origin of the target file)",
                                        ev.resource_type,
                                        without_query(u)
                                    ));
                                }
                            }
                            let _ = tab
                                .execute(FailRequestParams::new(ev.request_id.clone(), ErrorReason::BlockedByClient))
                                .await;
                        } else if let Some((Route::Callback, u)) = routed {
                            let body = ev.request.post_data_entries.as_ref().map(|entries| {
                                entries
                                    .iter()
                                    .filter_map(|e| e.bytes.as_ref())
                                    .filter_map(|b| base64_decode(b.as_ref()))
                                    .collect::<String>()
                            });
                            {
                                let mut s = lock(&seen);
                                if s.callback.is_none() {
                                    s.trail.push(format!("browser: sent to the client {} (not loaded)", without_query(&u)));
                                    s.callback = Some((u, body));
                                }
                            }
                            let _ = tab
                                .execute(FailRequestParams::new(ev.request_id.clone(), ErrorReason::Aborted))
                                .await;
                        } else {
                            let _ = tab.execute(ContinueRequestParams::new(ev.request_id.clone())).await;
                        }
                    }
                    Some(ev) = sent.next() => {
                        let mut s = lock(&seen);
                        let id = ev.request_id.inner().clone();
                        if let Some(r) = &ev.redirect_response
                            && s.methods.get(&id).is_some_and(|m| m == "POST")
                        {
                            s.post_redirects.push(u16::try_from(r.status).unwrap_or(0));
                        }
                        s.methods.insert(id, ev.request.method.clone());
                    }
                    Some(ev) = responses.next() => {
                        if ev.r#type == ResourceType::Document
                            && let Ok(u) = Url::parse(&ev.response.url)
                        {
                            let mut s = lock(&seen);
                            s.trail.push(format!("browser: page {} → {}", without_query(&u), ev.response.status));
                            let method = match s.methods.get(ev.request_id.inner()).map(String::as_str) {
                                Some("POST") => HttpMethod::Post,
                                _ => HttpMethod::Get,
                            };
                            let request = Request { method, ..Request::get(u).in_browser() };
                            s.documents.push((request, recorded(&ev.response)));
                        }
                    }
                    Some(_) = dialogs.next() => {
                        note(&seen, "dismissed a dialog".to_owned());
                        let _ = tab.execute(HandleJavaScriptDialogParams::new(false)).await;
                    }
                    Some(ev) = popups.next() => {
                        if ev.target_info.opener_id.as_ref() == Some(&me) {
                            note(&seen, "closed a window the page opened".to_owned());
                            let _ = tab.execute(CloseTargetParams::new(ev.target_info.target_id.clone())).await;
                        }
                    }
                    else => break,
                }
            }
        })
    };
    // A hard deadline for whatever the page does (never answers, loops, keeps the renderer
    // busy): each look at the page waits on the renderer, so the loop's own deadline alone
    // does not bound it.
    let limit = Duration::from_secs(config.timeout_seconds);
    let outcome = tokio::time::timeout(limit, run_pages(&tab, &seen, url, config, decline))
        .await
        .unwrap_or_else(|_| {
            let at = lock(&seen)
                .documents
                .last()
                .map(|(r, _)| without_query(&r.url))
                .unwrap_or_default();
            Err(LoginFault::BrowserStuck {
                url: at,
                title: String::new(),
                reason: format!(
                    "no redirect to the client within {} s (login.browser.timeout_seconds): the page kept the browser busy",
                    config.timeout_seconds
                ),
            }
            .into())
        });
    let shot = match &outcome {
        Err(_) => tokio::time::timeout(2 * CLEAN_UP, screenshot(&tab))
            .await
            .ok()
            .flatten(),
        Ok(_) => None,
    };
    listener.abort();
    let _ = tokio::time::timeout(CLEAN_UP, tab.close()).await;
    let mut seen = std::mem::take(&mut *lock(&seen));
    if seen.blocked > BLOCKED_SHOWN {
        seen.trail.push(format!(
            "browser: blocked {} more requests outside the target file's origins",
            seen.blocked - BLOCKED_SHOWN
        ));
    }
    ctx.login_trail.extend(seen.trail);
    for (request, response) in &seen.documents {
        ctx.record_seen(request, response);
    }
    if let Some(png) = shot {
        ctx.screenshot = Some(png);
    }
    Ok(Drive {
        ending: outcome?,
        pages: seen.documents.into_iter().map(|(_, r)| r).collect(),
        post_redirects: seen.post_redirects,
        declined: seen.declined,
    })
}

/// What the default driver finds on a page (the probe marks the elements it means).
#[derive(serde::Deserialize)]
struct Probe {
    /// `login`, `consent` or `none`.
    kind: String,
    /// Whether the document has finished loading.
    ready: bool,
    /// Whether a user name field was found beside the password field.
    user: bool,
    /// Whether a submit button was found.
    submit: bool,
    /// The URL of the document probed.
    url: String,
    /// Its title.
    title: String,
}

/// Marks the password field, the user name field beside it and their submit button, or the
/// approving button of a consent form (its declining one where `DECLINE` is replaced with
/// `true`: kind `decline`, or `no-decline` for a consent page without one), with
/// `data-pkce-harness`.
const PROBE: &str = r#"(() => {
  const decline = DECLINE;
  const visible = e => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  document.querySelectorAll('[data-pkce-harness]').forEach(e => e.removeAttribute('data-pkce-harness'));
  const mark = (e, v) => { if (e) { e.setAttribute('data-pkce-harness', v); } return !!e; };
  const submits = root => [...root.querySelectorAll('button:not([type]), button[type=submit], input[type=submit], input[type=image]')].filter(visible);
  const ready = document.readyState === 'complete';
  const pw = [...document.querySelectorAll('input[type=password]')].find(visible);
  if (pw) {
    const root = pw.form || document;
    const user = [...root.querySelectorAll('input[type=email], input[autocomplete=username], input[name*=user i], input[id*=user i], input[name*=login i], input[name*=mail i], input[type=text]')].find(visible);
    mark(pw, 'password');
    const buttons = submits(root);
    return {kind: 'login', ready, user: mark(user, 'username'), submit: mark(buttons[0], 'submit'), url: location.href, title: document.title};
  }
  const label = b => (b.textContent || '') + ' ' + (b.value || '') + ' ' + (b.name || '');
  const approving = b => /allow|approve|accept|consent|continue|authori[sz]e|grant|confirm|yes/i.test(label(b));
  const refusing = b => /deny|cancel|reject|decline|refuse|\bno\b/i.test(label(b));
  // A form's submit buttons; in a script application, any button that says it approves.
  const buttons = [...document.forms].flatMap(submits);
  const loose = [...document.querySelectorAll('button, [role=button]')].filter(visible);
  if (decline && (buttons.length || loose.some(approving))) {
    const refuse = buttons.find(refusing) || loose.find(refusing);
    return {kind: mark(refuse, 'submit') ? 'decline' : 'no-decline', ready, user: false, submit: !!refuse, url: location.href, title: document.title};
  }
  const approve = buttons.find(approving) || loose.find(b => approving(b) && !refusing(b))
    || buttons.find(b => !refusing(b));
  if (approve) { mark(approve, 'submit'); return {kind: 'consent', ready, user: false, submit: true, url: location.href, title: document.title}; }
  return {kind: 'none', ready, user: false, submit: false, url: location.href, title: document.title};
})()"#;

/// Clears what was typed, so a screenshot shows no secret.
const CLEAR_INPUTS: &str = "document.querySelectorAll('input:not([type=hidden]):not([type=submit]):not([type=button]), textarea').forEach(e => { e.value = ''; })";

async fn run_pages(
    tab: &chromiumoxide::Page,
    seen: &Shared2,
    url: Url,
    config: &BrowserLogin,
    decline: bool,
) -> Result<Ending, Halt> {
    let probe_script = PROBE.replace("DECLINE", if decline { "true" } else { "false" });
    let deadline = Instant::now() + Duration::from_secs(config.timeout_seconds);
    // Navigation by script returns at once: `Page.navigate` would wait for a navigation that
    // the interception may end by failing its request (an error redirect to the client).
    let to = serde_json::to_string(url.as_str()).unwrap_or_default();
    tab.evaluate(format!("location.href = {to}"))
        .await
        .map_err(cdp)?;
    let mut acted: HashMap<String, usize> = HashMap::new();
    let mut last = "opened the authorization request".to_owned();
    loop {
        if let Some((target, body)) = lock(seen).callback.clone() {
            return callback(&target, body.as_deref());
        }
        let here = tab.url().await.ok().flatten().unwrap_or_default();
        if Instant::now() >= deadline {
            return Err(stuck(
                tab,
                &here,
                format!(
                    "no redirect to the client within {} s (login.browser.timeout_seconds); last: {last}",
                    config.timeout_seconds
                ),
            )
            .await
            .into());
        }
        let Some(probe) = tab
            .evaluate(probe_script.as_str())
            .await
            .ok()
            .and_then(|r| r.into_value::<Probe>().ok())
        else {
            // Between two documents: nothing to evaluate in yet.
            tokio::time::sleep(POLL).await;
            continue;
        };
        // The page is judged by the URL its own document reports: the tab's URL comes from
        // navigation events the protocol handler may not have read yet, so on a loaded
        // machine it can still name the page before, and the default driver would act on a
        // page the file gave tasks for.
        let here = probe.url.clone();
        if let Some((i, entry)) = page_entry(&config.pages, &here) {
            let key = format!("pages[{i}] {}", shown(&here));
            let count = acted.entry(key.clone()).or_default();
            if *count >= 2 {
                let why = format!(
                    "the tasks of pages[{i}] (match {:?}) ran twice and the page is still there",
                    entry.url.0
                );
                return Err(stuck(tab, &here, why).await.into());
            }
            *count += 1;
            run_tasks(tab, entry, deadline)
                .await
                .map_err(|why| LoginFault::BrowserStuck {
                    url: shown(&here),
                    title: String::new(),
                    reason: format!("pages[{i}]: {why}"),
                })?;
            last = format!("ran the tasks of pages[{i}] at {}", shown(&here));
            note(seen, last.clone());
            settle(tab, seen, &here).await;
            continue;
        }
        match probe.kind.as_str() {
            "no-decline" => {
                return Err(Fault::precondition(format!(
                    "the consent page at {} has no button to decline (deny, cancel, reject, decline, no)",
                    shown(&here)
                ))
                .into());
            }
            "login" | "consent" | "decline" => {
                let key = format!("{} {}", probe.kind, shown(&here));
                let count = acted.entry(key).or_default();
                if *count >= 2 {
                    let why = if probe.kind == "login" {
                        "the login form came back after submitting it twice: check login.browser.username and password, or give pages with tasks for it"
                    } else {
                        "the consent form came back after approving it twice: give pages with tasks for it"
                    };
                    return Err(stuck(tab, &here, why.to_owned()).await.into());
                }
                let password = config.password.as_ref().map(|p| p.0.expose());
                let acted = if probe.kind == "login" {
                    let Some(password) = password else {
                        return Err(LoginFault::BrowserStuck {
                            url: shown(&here),
                            title: probe.title.clone(),
                            reason: "a login form appeared, but login.browser has no password (and no pages entry matches this page)".into(),
                        }
                        .into());
                    };
                    let username = config.username.as_ref().map(|u| u.0.expose());
                    fill_login(tab, &probe, username, password).await
                } else {
                    click(tab, "[data-pkce-harness=submit]").await
                };
                if acted.is_err() {
                    // The page changed between the look and the action (a navigation, a
                    // script re-rendering it): look again; the deadline bounds the retries.
                    tokio::time::sleep(POLL).await;
                    continue;
                }
                *count += 1;
                last = if probe.kind == "login" {
                    format!(
                        "filled and submitted the login form at {} ({:?})",
                        shown(&here),
                        probe.title
                    )
                } else {
                    let did = if probe.kind == "decline" {
                        lock(seen).declined = true;
                        "declined"
                    } else {
                        "approved"
                    };
                    format!(
                        "{did} the consent form at {} ({:?})",
                        shown(&here),
                        probe.title
                    )
                };
                note(seen, last.clone());
                settle(tab, seen, &here).await;
            }
            _ => {
                let status = lock(seen).documents.last().map(|(_, r)| r.status);
                if probe.ready && status.is_some_and(|s| !(200..300).contains(&s)) {
                    // The server's answer to the authorization request: an error page.
                    let html = tab.content().await.unwrap_or_default();
                    let page = HtmlPage::parse(&html, None);
                    return Ok(Ending::Page {
                        status: status.unwrap_or_default(),
                        title: page.title.clone(),
                        heading: page.heading.clone(),
                        message: page.message.clone(),
                        holds: page.kind(),
                    });
                }
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

/// The first `pages` entry whose pattern matches `url`: it wins over the default driver.
fn page_entry<'a>(pages: &'a [BrowserPage], url: &str) -> Option<(usize, &'a BrowserPage)> {
    pages.iter().enumerate().find(|(_, p)| p.url.matches(url))
}

/// The default login: user name (when the page has a field for it and the file a value),
/// password, submit.
async fn fill_login(
    tab: &chromiumoxide::Page,
    probe: &Probe,
    username: Option<&str>,
    password: &str,
) -> Result<(), ActionError> {
    if probe.user
        && let Some(user) = username
    {
        type_into(tab, "[data-pkce-harness=username]", user).await?;
    }
    type_into(tab, "[data-pkce-harness=password]", password).await?;
    if probe.submit {
        click(tab, "[data-pkce-harness=submit]").await
    } else {
        tab.evaluate(
            "(f => f ? f.requestSubmit() : null)(document.querySelector('[data-pkce-harness=password]').form)",
        )
        .await
        .map(|_| ())
        .map_err(ActionError::Submit)
    }
}

/// Replaces the text of the element `css` finds with `value`, as typed input (input events
/// fire, so script-driven forms see it).
async fn type_into(tab: &chromiumoxide::Page, css: &str, value: &str) -> Result<(), ActionError> {
    let quoted = serde_json::to_string(css).unwrap_or_default();
    let found = tab
        .evaluate(format!(
            "(e => {{ if (!e) return false; e.focus(); if (e.select) e.select(); return true; }})(document.querySelector({quoted}))"
        ))
        .await
        .ok()
        .and_then(|r| r.into_value::<bool>().ok())
        .unwrap_or(false);
    if !found {
        return Err(ActionError::NoElement(css.to_owned()));
    }
    tab.execute(InsertTextParams::new(value))
        .await
        .map(|_| ())
        .map_err(|source| ActionError::Type {
            css: css.to_owned(),
            source,
        })
}

/// Clicks the element `css` finds, as a user would (scrolled into view, mouse events).
async fn click(tab: &chromiumoxide::Page, css: &str) -> Result<(), ActionError> {
    if let Ok(element) = tab.find_element(css).await
        && element.click().await.is_ok()
    {
        return Ok(());
    }
    // The element is not where the protocol's last look put it (a document replaced under
    // the lookup): click it from inside the page instead.
    let quoted = serde_json::to_string(css).unwrap_or_default();
    let clicked = tab
        .evaluate(format!(
            "(e => {{ if (!e) return false; e.click(); return true; }})(document.querySelector({quoted}))"
        ))
        .await
        .ok()
        .and_then(|r| r.into_value::<bool>().ok())
        .unwrap_or(false);
    if clicked {
        Ok(())
    } else {
        Err(ActionError::NoElement(css.to_owned()))
    }
}

/// Runs a `pages` entry's tasks in order, each waiting for what it needs until `deadline`.
async fn run_tasks(
    tab: &chromiumoxide::Page,
    entry: &BrowserPage,
    deadline: Instant,
) -> Result<(), ActionError> {
    for (i, task) in entry.tasks.iter().enumerate() {
        let what = match task {
            Task::Text { selector, .. } | Task::Click(selector) => {
                wait_for(tab, &WaitFor::Selector(selector.clone()), deadline).await
            }
            Task::Wait(w) => wait_for(tab, w, deadline).await,
        };
        let task_failed = |source| ActionError::Task {
            task: i + 1,
            source: Box::new(source),
        };
        what.map_err(task_failed)?;
        let done = match task {
            Task::Text { selector, value } => type_into(tab, &selector.0, value.0.expose()).await,
            Task::Click(selector) => click(tab, &selector.0).await,
            Task::Wait(_) => Ok(()),
        };
        done.map_err(task_failed)?;
    }
    Ok(())
}

async fn wait_for(
    tab: &chromiumoxide::Page,
    what: &WaitFor,
    deadline: Instant,
) -> Result<(), ActionError> {
    loop {
        let there = match what {
            WaitFor::Selector(css) => tab.find_element(css.0.as_str()).await.is_ok(),
            WaitFor::Url(pattern) => page_url(tab).await.is_some_and(|u| pattern.matches(&u)),
        };
        if there {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(match what {
                WaitFor::Selector(css) => ActionError::NoElementInTime(css.0.clone()),
                WaitFor::Url(p) => ActionError::UrlNotInTime(p.0.clone()),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Why an action on a page (typing, clicking, submitting, waiting) did not happen.
#[derive(Debug, thiserror::Error)]
enum ActionError {
    /// Nothing on the page matches the selector.
    #[error("no element matches {0}")]
    NoElement(String),
    /// Chromium refused the typed text.
    #[error("cannot type into {css}: {source}")]
    Type {
        /// The selector.
        css: String,
        /// What Chromium said.
        source: chromiumoxide::error::CdpError,
    },
    /// The login form could not be submitted.
    #[error("cannot submit the login form: {0}")]
    Submit(chromiumoxide::error::CdpError),
    /// A `wait` for a selector ran out of time.
    #[error("no element matched {0} in time")]
    NoElementInTime(String),
    /// A `wait` for a URL ran out of time.
    #[error("the URL did not match {0} in time")]
    UrlNotInTime(String),
    /// A task of a `pages` entry.
    #[error("task {task}: {source}")]
    Task {
        /// 1-based.
        task: usize,
        /// Why it failed.
        source: Box<ActionError>,
    },
}

/// Waits until the page moves on after an action: a client was reached, another document
/// loaded, or the URL changed; at most [`SETTLE`].
async fn settle(tab: &chromiumoxide::Page, seen: &Shared2, here: &str) {
    let documents = lock(seen).documents.len();
    let until = Instant::now() + SETTLE;
    while Instant::now() < until {
        {
            let s = lock(seen);
            if s.callback.is_some() || s.documents.len() != documents {
                return;
            }
        }
        if page_url(tab).await.is_none_or(|u| u != here) {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The URL of the document in the tab, as the document itself says (`None` between two
/// documents). Not `Page::url`: that is kept from navigation events, which the protocol
/// handler may read after the answer to an evaluation made in the newer document.
async fn page_url(tab: &chromiumoxide::Page) -> Option<String> {
    tab.evaluate("location.href")
        .await
        .ok()
        .and_then(|r| r.into_value::<String>().ok())
}

/// The authorization response the tab was sent to.
fn callback(target: &Url, posted: Option<&str>) -> Result<Ending, Halt> {
    let response = match posted {
        Some(body) => crate::callback::parse_posted(target, body),
        None => parse_location(target, target.as_str()),
    }
    .map_err(|e| LoginFault::UnreadableCallback {
        target: without_query(target),
        reason: e.to_string(),
    })?;
    Ok(Ending::Callback(Box::new(response)))
}

/// A stuck login, with the page's title and a screenshot for the report.
async fn stuck(tab: &chromiumoxide::Page, here: &str, reason: String) -> LoginFault {
    LoginFault::BrowserStuck {
        url: shown(here),
        title: tab.get_title().await.ok().flatten().unwrap_or_default(),
        reason,
    }
}

/// A PNG of the tab, every typed value cleared first, base64.
async fn screenshot(tab: &chromiumoxide::Page) -> Option<String> {
    use base64::Engine as _;
    let _ = tab.evaluate(CLEAR_INPUTS).await;
    let png = tab
        .screenshot(
            ScreenshotParams::builder()
                .format(CaptureScreenshotFormat::Png)
                .build(),
        )
        .await
        .ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(png))
}

/// A response as Chromium received it: status and headers (names lower-cased, repeats, which
/// the protocol joins with newlines, split again). The body is not kept.
fn recorded(r: &chromiumoxide::cdp::browser_protocol::network::Response) -> Response {
    let headers = r
        .headers
        .inner()
        .as_object()
        .map(|o| {
            o.iter()
                .flat_map(|(k, v)| {
                    let name = k.to_ascii_lowercase();
                    v.as_str()
                        .unwrap_or_default()
                        .split('\n')
                        .map(move |v| (name.clone(), v.to_owned()))
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .unwrap_or_default();
    Response {
        status: u16::try_from(r.status).unwrap_or(0),
        headers,
        body: String::new(),
        truncated: false,
        invalid_utf8: false,
    }
}

fn base64_decode(b: &str) -> Option<String> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(b)
        .ok()
        .and_then(|v| String::from_utf8(v).ok())
}

fn shown(url: &str) -> String {
    Url::parse(url).map_or_else(|_| url.to_owned(), |u| without_query(&u))
}

fn cdp(e: chromiumoxide::error::CdpError) -> Halt {
    LoginFault::Browser {
        reason: format!("DevTools protocol: {e}"),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tab's navigations to a client or off the target's origins end the login (read,
    /// never loaded); anything else off them is blocked; the server's own requests go.
    #[test]
    fn requests_are_routed_by_the_origin_policy() {
        let file = crate::target::parse_target(
            "t.yaml",
            "format: 1\nissuer: \"http://127.0.0.1:4000\"\nclients:\n  public: {client_id: p, redirect_uri: \"http://127.0.0.1:4000/cb\"}\n  confidential: {client_id: c, client_secret: s3cr3t-value, auth_method: client_secret_basic, redirect_uri: \"https://c.example/cb\"}\nlogin: {auto: {}}\n",
        )
        .expect("valid");
        let origins = OriginPolicy::of(&file);
        let clients = [Url::parse("http://127.0.0.1:4000/cb").expect("url")];
        let route = |u: &str, navigation: bool| {
            route(&Url::parse(u).expect("url"), navigation, &clients, &origins)
        };
        assert_eq!(route("http://127.0.0.1:4000/login", true), Route::Continue);
        assert_eq!(
            route("http://127.0.0.1:4000/app.css", false),
            Route::Continue
        );
        // The redirect URI on the server's own origin is still the client's.
        assert_eq!(
            route("http://127.0.0.1:4000/cb?code=x", true),
            Route::Callback
        );
        assert_eq!(
            route("http://127.0.0.1:4000/cb?code=x", false),
            Route::Block
        );
        assert_eq!(route("https://cdn.example/style.css", false), Route::Block);
        assert_eq!(route("https://evil.example/?code=x", true), Route::Callback);
    }
}
