//! The `race` step (REQ-58): authorize afresh, burst identical token requests for the code, and
//! judge how many succeeded. The bursts themselves are in [`super::race`].

use std::time::Duration;

use super::context::Ctx;
use super::request as build;
use super::steps::{Next, StepResult, authenticate, authorize, client_config, fault, tokens_of};
use crate::checks;
use crate::outcome::Fault;
use crate::params::Params;
use crate::scenario::model::{AuthSpec, DpopProof, RaceStep};
use crate::wire::HttpMethod;

/// REQ-58: concurrent redemption. Each trial authorizes afresh and bursts `count` identical
/// token requests for the code; more than `at_most` successes in any burst is unmet.
pub(super) async fn race(ctx: &mut Ctx, r: &RaceStep) -> StepResult {
    let client = client_config(ctx, ctx.client)?;
    let mut per_trial = Vec::with_capacity(r.trials);
    let mut spreads = Vec::with_capacity(r.trials);
    let mut technique = None;
    // Requests of the bursts the server failed (5xx or no answer), of all sent.
    let (mut failed, mut sent) = (0usize, 0usize);
    for trial in 0..r.trials {
        let name = format!("race-{trial}");
        let (_, code) = authorize(ctx, &build::default_authorize(name.clone())).await?;
        let code =
            code.ok_or_else(|| fault("the authorization gave no code to race for".into()))?;
        let flow = ctx
            .flows
            .get(&name)
            .ok_or_else(|| Fault::harness("race flow vanished"))?;
        let mut params = Params::new();
        params.push("grant_type", "authorization_code");
        params.push("code", code.expose());
        if let Some(uri) = &flow.redirect_uri {
            params.push("redirect_uri", uri.clone());
        }
        if let Some(v) = &flow.verifier {
            params.push("code_verifier", v.clone());
        }
        // One body per request: a JWT client signs each with its own `jti`, so the burst tests
        // the code's single use and not the server's assertion replay check.
        let key = flow.dpop_key.clone();
        if key.is_some() {
            super::dpop::learn_dpop_nonce(ctx, &client, key.as_ref()).await?;
        }
        let mut forms = Vec::with_capacity(r.count);
        let mut own_headers = Vec::with_capacity(r.count);
        let mut req = build::bare(HttpMethod::Post, ctx.target.token.clone());
        for _ in 0..r.count {
            let (mut one, mut body) = (
                build::bare(HttpMethod::Post, ctx.target.token.clone()),
                params.clone(),
            );
            authenticate(ctx, &mut one, &mut body, &client, AuthSpec::Default)?;
            req = build::with_params(one, &body);
            forms.push(req.form().unwrap_or_default().to_owned());
            // RFC 9449 §11.1: each proof of the burst is its own (a replayed one would be
            // refused for that, and hide the code's single use).
            own_headers.push(
                super::dpop::proof_header(ctx, &req, key.as_ref(), DpopProof::Auto, None)?
                    .map(|p| ("DPoP".to_owned(), p))
                    .into_iter()
                    .collect::<Vec<_>>(),
            );
        }
        let burst = super::race::burst(
            ctx.race_technique.or(r.technique),
            super::race::BurstRequest {
                url: &req.url,
                headers: &req.headers,
                forms: &forms,
                own_headers: &own_headers,
                timeout: Duration::from_secs(10),
                tls: ctx.http.tls(),
            },
        )
        .await
        .map_err(|e| Fault::Burst {
            message: e.to_string(),
        })?;
        for body in &burst.json_bodies() {
            for key in ["access_token", "refresh_token", "id_token"] {
                if let Some(t) = body.get(key).and_then(|t| t.as_str()) {
                    ctx.secret(t);
                }
            }
            if let (Some(name), Some(mut tokens)) = (&r.save_as, tokens_of(body, ctx.client)) {
                tokens.dpop_key = key.clone();
                ctx.tokens.insert(name.clone(), tokens);
            }
        }
        ctx.record_burst(
            &req,
            burst.shown_status(),
            &burst.summary(trial + 1, r.count),
        );
        per_trial.push(burst.successes.len());
        failed += burst
            .statuses
            .iter()
            .filter(|s| s.is_none_or(|s| s >= 500))
            .count();
        sent += burst.statuses.len();
        technique = Some(burst.technique);
        spreads.push(burst.release.spread().as_micros());
        if burst.successes.len() > r.at_most {
            // Proven: further bursts would only repeat it.
            break;
        }
    }
    let mut note = super::race::note(&per_trial, r.trials, r.count, technique, &mut spreads);
    if failed > 0 {
        note.push_str(&format!(
            "; the server failed {failed} of the {sent} requests (5xx or no answer)"
        ));
    }
    let proven = per_trial.iter().any(|n| *n > r.at_most);
    if !proven && failed * 2 > sent {
        // Requests the server failed are not refusals: with most of them failed, a burst with
        // at most one success says nothing about single use.
        return Err(fault(format!(
            "most requests of the bursts failed, so the race shows nothing about single use; {note}"
        )));
    }
    if r.save_as.is_some() && per_trial.last() == Some(&0) {
        return Err(fault(format!(
            "no request of the last burst succeeded, so there are no tokens to check afterwards; {note}"
        )));
    }
    if per_trial.iter().all(|n| *n == 0) {
        // A burst the server refused whole proves nothing about single use: the same request
        // alone was never shown to succeed.
        return Err(fault(format!(
            "no request of any burst succeeded, so the race shows nothing about single use; {note}"
        )));
    }
    checks::race(&per_trial, r.count, r.at_most, &note)?;
    ctx.notes.push(note);
    Ok(Next::Continue)
}
