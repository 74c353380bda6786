//! Pushed authorization requests (RFC 9126): the push, the client authenticated as at the token
//! endpoint, and a refusal read as the error response it stands for (judged by the authorize
//! step, like an error page).

use std::sync::Arc;

use super::dpop::send_with_proof;
use super::send::{authenticate, cut_body, precondition, send, server_error};
use crate::callback::Ending;
use crate::engine::context::{Ctx, Pushed};
use crate::engine::request as build;
use crate::forms::PageKind;
use crate::jose::SigningKey;
use crate::outcome::{Fault, Halt};
use crate::params::Params;
use crate::scenario::model::{AuthSpec, DpopProof};
use crate::target::ClientConfig;
use crate::wire::HttpMethod;

/// RFC 9126 §2: pushes an authorization request by `method` (POST, unless the step sends it
/// otherwise on purpose), the client authenticated (`auth`) as at the token endpoint, with a
/// DPoP `proof` by the key given where the step asks for one. `Ok(Ok(pushed))` when the server took it; `Ok(Err(ending))` when it refused
/// (a 4xx: the request was refused before any front channel, as an error page refuses it).
pub(crate) async fn pushed(
    ctx: &mut Ctx,
    client: &ClientConfig,
    mut params: Params,
    (auth, method): (AuthSpec, HttpMethod),
    proof: Option<(Arc<SigningKey>, DpopProof)>,
) -> Result<Result<Pushed, Ending>, Halt> {
    let url = ctx.target.par.clone().ok_or_else(|| {
        Fault::config(
            "pushing needs a PAR endpoint: metadata pushed_authorization_request_endpoint or endpoints.par",
        )
    })?;
    let mut req = build::bare(method, url);
    // client_id once: authentication adds it where the method needs it.
    params.remove("client_id");
    authenticate(ctx, &mut req, &mut params, client, auth)?;
    if params.get("client_id").is_none() {
        params.push("client_id", client.client_id.0.clone());
    }
    // Taken before sending: the server's clock starts at or after this, so an age measured
    // from here is never shorter than the request_uri's own.
    let at = std::time::Instant::now();
    let req = build::with_params(req, &params);
    let resp = match &proof {
        // RFC 9449 §10.1: the proof binds the code to its key (with the nonce dance, §8).
        Some((key, spec)) => send_with_proof(ctx, req, Some(key), *spec, None).await?,
        None => send(ctx, req).await?,
    };
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
                    precondition(missing)
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
