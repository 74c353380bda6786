//! The `browser` driver: a single-page app under test in headless Chromium (the run's one
//! browser, started on the first login that needs it). Each login gets a fresh browser context
//! (its own storage) and one tab; every request the tab makes is paused and let through only
//! to the app's origins and the harness's server, anything else failed and named in the trail;
//! the page may open no window. The tab opens the app, clicks the login button when one is
//! named, and the page is read until it shows the success or the failure text. Neither within
//! the time limit is a fault, never a verdict: a slow app on a busy machine is not a refusal.
//! An app that sends the tab to the authorization endpoint more than [`MAX_AUTHORIZATIONS`]
//! times in one login is looping: the next one is failed and the login ends refused.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EnableParams, EventRequestPaused, FailRequestParams, RequestPattern,
    RequestStage,
};
use chromiumoxide::cdp::browser_protocol::network::ErrorReason;
use chromiumoxide::cdp::browser_protocol::page::AddScriptToEvaluateOnNewDocumentParams;
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams, DisposeBrowserContextParams,
};
use futures_util::StreamExt as _;
use url::{Origin, Url};

use super::browser::{DriverError, Ended, MAX_AUTHORIZATIONS, Stage};
use crate::client_file::BrowserDriver;
use crate::engine::chromium::Chromium;
use crate::wire::without_query;

/// How often the page is read while the driver waits.
const POLL: Duration = Duration::from_millis(100);
/// How many blocked requests the trail names.
const BLOCKED_SHOWN: usize = 5;
/// Run in every document before its own script: no windows, no dialogs.
const CONTAIN: &str = "window.open = () => null; window.alert = () => undefined; \
                       window.confirm = () => false; window.prompt = () => null;";

/// One login in a fresh browser context.
pub(super) async fn login(
    spa: &BrowserDriver,
    stage: &Stage<'_>,
    chromium: &Chromium,
) -> Result<Ended, DriverError> {
    let browser = &chromium.browser;
    let context = browser
        .create_browser_context(CreateBrowserContextParams::default())
        .await
        .map_err(cdp)?;
    let ended = tokio::time::timeout(spa.timeout(), in_context(spa, stage, browser, &context))
        .await
        .unwrap_or_else(|_| {
            Err(DriverError::Timeout {
                seconds: spa.timeout().as_secs(),
                setting: "driver.browser.timeout_seconds; neither success_text nor failure_text appeared",
            })
        });
    let _ = tokio::time::timeout(
        Duration::from_millis(500),
        browser.execute(DisposeBrowserContextParams::new(context)),
    )
    .await;
    ended
}

fn cdp(e: impl std::fmt::Display) -> DriverError {
    DriverError::App(format!("the browser: {e}"))
}

async fn in_context(
    spa: &BrowserDriver,
    stage: &Stage<'_>,
    browser: &chromiumoxide::Browser,
    context: &chromiumoxide::cdp::browser_protocol::browser::BrowserContextId,
) -> Result<Ended, DriverError> {
    let app = Url::parse(&spa.app_url).map_err(cdp)?;
    let allowed: Vec<Origin> = [Some(app.origin()), Some(stage.issuer.origin())]
        .into_iter()
        .chain([Url::parse(stage.redirect_uri).ok().map(|u| u.origin())])
        .flatten()
        .collect();
    let tab = browser
        .new_page(
            CreateTargetParams::builder()
                .url("about:blank")
                .browser_context_id(context.clone())
                .build()
                .map_err(cdp)?,
        )
        .await
        .map_err(cdp)?;
    tab.execute(AddScriptToEvaluateOnNewDocumentParams::new(CONTAIN))
        .await
        .map_err(cdp)?;
    let mut paused = tab
        .event_listener::<EventRequestPaused>()
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
    let trail: Arc<Mutex<Vec<String>>> = Arc::default();
    let looping = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let authorization = stage.authorization.clone();
    let listener = {
        let (tab, trail, looping) = (tab.clone(), Arc::clone(&trail), Arc::clone(&looping));
        tokio::spawn(async move {
            let mut blocked = 0;
            let mut opened = 0;
            while let Some(ev) = paused.next().await {
                let to = Url::parse(&ev.request.url).ok();
                let starts = to.as_ref().is_some_and(|u| {
                    u.origin() == authorization.origin() && u.path() == authorization.path()
                });
                if starts {
                    opened += 1;
                }
                let allowed_here = to.as_ref().is_some_and(|u| allowed.contains(&u.origin()));
                if opened > MAX_AUTHORIZATIONS {
                    // Looping: nothing more goes, and the reader ends the login.
                    looping.store(true, std::sync::atomic::Ordering::Relaxed);
                } else if allowed_here {
                    let _ = tab
                        .execute(ContinueRequestParams::new(ev.request_id.clone()))
                        .await;
                    continue;
                } else {
                    blocked += 1;
                    if blocked <= BLOCKED_SHOWN {
                        let shown = to.as_ref().map_or_else(String::new, without_query);
                        trail
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(format!(
                                "blocked a request to {shown}: neither the app nor the harness's server"
                            ));
                    }
                }
                let _ = tab
                    .execute(FailRequestParams::new(
                        ev.request_id.clone(),
                        ErrorReason::BlockedByClient,
                    ))
                    .await;
            }
        })
    };
    let read = async {
        // A navigation the loop guard failed ends the redirect chain in an error: the loop,
        // not a fault, and the reader below says so.
        if let Err(e) = tab.goto(spa.app_url.as_str()).await
            && !looping.load(std::sync::atomic::Ordering::Relaxed)
        {
            return Err(cdp(e));
        }
        let mut clicked = spa.click.is_none();
        loop {
            let text: String = tab
                .evaluate("document.body ? document.body.innerText : ''")
                .await
                .ok()
                .and_then(|v| v.into_value().ok())
                .unwrap_or_default();
            if text.contains(&spa.success_text) {
                return Ok(true);
            }
            if text.contains(&spa.failure_text) {
                return Ok(false);
            }
            if looping.load(std::sync::atomic::Ordering::Relaxed) {
                trail
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(format!(
                        "stopped: sent to the authorization endpoint a {}th time in one login",
                        MAX_AUTHORIZATIONS + 1
                    ));
                return Ok(false);
            }
            if !clicked
                && let Some(selector) = &spa.click
                && let Ok(button) = tab.find_element(selector.as_str()).await
            {
                clicked = button.click().await.is_ok();
            }
            tokio::time::sleep(POLL).await;
        }
    };
    let accepted: Result<bool, DriverError> = read.await;
    listener.abort();
    let mut trail = std::mem::take(&mut *trail.lock().unwrap_or_else(PoisonError::into_inner));
    let accepted = accepted?;
    if let Ok(Some(at)) = tab.url().await
        && let Ok(at) = Url::parse(&at)
    {
        trail.push(format!("the page at {}", without_query(&at)));
    }
    trail.push(format!(
        "the app's page says the login was {}",
        if accepted { "accepted" } else { "refused" }
    ));
    let _ = tab.close().await;
    Ok(Ended {
        accepted,
        trail,
        stderr: String::new(),
    })
}
