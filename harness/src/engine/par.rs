//! Pushed authorization requests in the engine (RFC 9126): the push, and a refusal at the PAR
//! endpoint judged as the error response it stands for.

use super::context::{Ctx, Flow, Pushed};
use super::control::{Control, control};
use super::request as build;
use super::steps::{Next, authenticate, cut_body, fault, keep_form, send, server_error};
use crate::callback::Ending;
use crate::checks;
use crate::forms::PageKind;
use crate::outcome::{Fault, Halt, Lifetime};
use crate::params::Params;
use crate::redact::Secret;
use crate::scenario::model::{AuthOutcome, AuthSpec, AuthorizeStep, ClientKind};
use crate::target::ClientConfig;
use crate::wire::HttpMethod;

/// RFC 9126 §2: pushes an authorization request, the client authenticated as at the token
/// endpoint. `Ok(Ok(pushed))` when the server took it; `Ok(Err(ending))` when it refused
/// (a 4xx: the request was refused before any front channel, as an error page refuses it).
pub(super) async fn pushed(
    ctx: &mut Ctx,
    client: &ClientConfig,
    mut params: Params,
) -> Result<Result<Pushed, Ending>, Halt> {
    let url = ctx.target.par.clone().ok_or_else(|| {
        Fault::config(
            "pushing needs a PAR endpoint: metadata pushed_authorization_request_endpoint or endpoints.par",
        )
    })?;
    let mut req = build::bare(HttpMethod::Post, url);
    // client_id once: authentication adds it where the method needs it.
    params.remove("client_id");
    authenticate(ctx, &mut req, &mut params, client, AuthSpec::Default)?;
    if params.get("client_id").is_none() {
        params.push("client_id", client.client_id.0.clone());
    }
    // Taken before sending: the server's clock starts at or after this, so an age measured
    // from here is never shorter than the request_uri's own.
    let at = std::time::Instant::now();
    let resp = send(ctx, build::with_params(req, &params)).await?;
    let body = resp.json();
    if (200..300).contains(&resp.status) {
        let uri = body
            .as_ref()
            .and_then(|b| b.get("request_uri"))
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                let missing = format!(
                    "the PAR endpoint answered {} without a request_uri",
                    resp.status
                );
                if resp.truncated {
                    cut_body(ctx, &resp, &missing)
                } else {
                    fault(missing)
                }
            })?;
        let lifetime = body
            .as_ref()
            .and_then(|b| b.get("expires_in"))
            .and_then(serde_json::Value::as_f64);
        if let Some(secs) = lifetime {
            let longest = ctx.request_uri_lifetime.unwrap_or(0.0).max(secs);
            ctx.request_uri_lifetime = Some(longest);
        }
        return Ok(Ok(Pushed {
            uri: uri.to_owned(),
            at,
            lifetime,
        }));
    }
    if resp.status >= 500 && !ctx.judge_server_errors {
        return Err(server_error(ctx, resp.status));
    }
    let member = |name: &str| {
        body.as_ref()
            .and_then(|b| b.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    // The server's own words: error and error_description of a JSON answer, or what an HTML
    // answer's title, heading and text say.
    let page = (body.is_none()).then(|| crate::forms::Page::parse(&resp.body, None));
    Ok(Err(Ending::Page {
        status: resp.status,
        title: page.as_ref().and_then(|p| p.title.clone()),
        heading: member("error")
            .map(|e| format!("PAR endpoint error {e}"))
            .or_else(|| page.as_ref().and_then(|p| p.heading.clone())),
        message: member("error_description")
            .or_else(|| page.as_ref().and_then(|p| p.message.clone())),
        holds: PageKind::Plain,
    }))
}

/// A pushed request the PAR endpoint refused: judged like an authorization request refused
/// with an error page (no code, nobody redirected).
pub(super) async fn refused_at_par(
    ctx: &mut Ctx,
    a: &AuthorizeStep,
    kind: ClientKind,
    ending: Ending,
) -> Result<(Next, Option<Secret>), Halt> {
    let e = &a.expect;
    if let Some(reason) = &e.refusal_passes {
        control(ctx, kind, Control::Authorization).await?;
        return Ok((
            Next::Pass(format!(
                "{reason} (the server refused the pushed request: {})",
                checks::describe_ending(&ending)
            )),
            None,
        ));
    }
    // RFC 9126 §2.3: a pushed request is refused with a direct error response, which stands for
    // the error redirect (or page) of a request sent on the front channel.
    if e.outcome == AuthOutcome::Code {
        checks::authorization_outcome(e.outcome, &ending)?;
    }
    if let (Some(errors), Ending::Page { heading, .. }) = (&e.error, &ending) {
        let got = heading
            .as_deref()
            .and_then(|h| h.strip_prefix("PAR endpoint error "))
            .unwrap_or("none")
            .to_owned();
        if !errors.0.contains(&got) {
            // Refused all the same: another error code is the refusal's form.
            let unmet = crate::outcome::Unmet::OAuthError {
                expected: errors.0.clone(),
                got,
            };
            keep_form(ctx, Err(Halt::Form { unmet }))?;
        }
    }
    if e.state_echoed || e.iss || e.error_format || e.challenge_not_reflected {
        return Err(Fault::OptionalAbsent {
            message: "the pushed request was refused at the PAR endpoint with a direct error response (RFC 9126 §2.3): there is no error redirect for this check to judge".into(),
        }
        .into());
    }
    control(ctx, kind, Control::Authorization).await?;
    Ok((Next::Continue, None))
}

/// A refused pushed request older than its `expires_in`: the refusal may be its expiry (the
/// login took longer than the request lives), which proves nothing about what the check judges:
/// neither that the server refuses a correct request nor, for a check that expects the refusal,
/// that it refuses for the reason the check is about. Unless the scenario waited the lifetime
/// out on purpose, the harness cannot judge: an error naming the lifetime and the age.
pub(super) fn outlived(
    ctx: &Ctx,
    a: &AuthorizeStep,
    flow: &Flow,
    ending: &Ending,
) -> Result<(), Halt> {
    let Some((age, lifetime)) = flow
        .pushed
        .as_ref()
        .and_then(super::context::Pushed::outlived)
    else {
        return Ok(());
    };
    let provoked = a.expect.outcome != AuthOutcome::Code || a.expect.refusal_passes.is_some();
    if provoked && ctx.waited_out_request_uri {
        return Ok(());
    }
    Err(Fault::Outlived {
        what: Lifetime::RequestUri,
        age,
        lifetime,
        refusal: checks::describe_ending(ending).to_string(),
    }
    .into())
}
