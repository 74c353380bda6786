//! The `race` step (REQ-58): a burst of identical token requests for one fresh code (or for
//! the refresh token one fresh code gave, REQ-61), and the judgement of how many succeeded over
//! the trials. The step runs the trials (each authorizes afresh); the bursts themselves are in
//! [`super::race`].

use std::time::Duration;

use super::context::Ctx;
use super::exchange::dpop;
use super::exchange::send::{authenticate, precondition};
use super::exchange::tokens::tokens_of;
use super::judge::{Next, StepResult};
use super::race::{Burst, BurstRequest, Technique};
use super::request as build;
use crate::checks;
use crate::outcome::{Fault, Halt};
use crate::params::Params;
use crate::redact::Secret;
use crate::scenario::model::{AuthSpec, DpopProof, RaceGrant, RaceStep};
use crate::target::ClientConfig;
use crate::wire::HttpMethod;

/// What the trials of a race step measured so far.
#[derive(Default)]
pub(super) struct Tally {
    /// Successes in each burst.
    per_trial: Vec<usize>,
    /// First to last released byte of each burst, in µs.
    spreads: Vec<u128>,
    technique: Option<Technique>,
    /// Requests of the bursts the server failed (5xx or no answer).
    failed: usize,
    /// Requests sent in all.
    sent: usize,
    /// A refresh burst answered with the refresh token it sent, or none: the server does not
    /// rotate, and may answer every request.
    unrotated: bool,
}

impl Tally {
    /// Adds a burst; true when it proved the race (more successes than `at_most`), so further
    /// bursts would only repeat it.
    pub(super) fn add(&mut self, burst: &Burst, at_most: usize, sent: &Params) -> bool {
        self.per_trial.push(burst.successes.len());
        if let Some(old) = sent.get("refresh_token") {
            self.unrotated |= burst.json_bodies().iter().any(|b| {
                b.get("refresh_token")
                    .and_then(|t| t.as_str())
                    .is_none_or(|t| t == old)
            });
        }
        self.failed += burst
            .statuses
            .iter()
            .filter(|s| s.is_none_or(|s| s >= 500))
            .count();
        self.sent += burst.statuses.len();
        self.technique = Some(burst.technique);
        self.spreads.push(burst.release.spread().as_micros());
        burst.successes.len() > at_most
    }
}

/// The token request for `code` of the flow `name` (RFC 6749 §4.1.3).
pub(super) fn code_grant(ctx: &Ctx, name: &str, code: &Secret) -> Result<Params, Halt> {
    let flow = ctx
        .flows
        .get(name)
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
    Ok(params)
}

/// The refresh request for `refresh_token` (RFC 6749 §6).
pub(super) fn refresh_grant(refresh_token: &Secret) -> Params {
    let mut params = Params::new();
    params.push("grant_type", "refresh_token");
    params.push("refresh_token", refresh_token.expose());
    params
}

/// One trial: `r.count` identical token requests with `params` (for the flow `name`), released
/// together, each with its own client assertion and DPoP proof; recorded as one exchange.
pub(super) async fn trial(
    ctx: &mut Ctx,
    r: &RaceStep,
    client: &ClientConfig,
    (name, params): (&str, &Params),
    trial: usize,
) -> Result<Burst, Halt> {
    let flow = ctx
        .flows
        .get(name)
        .ok_or_else(|| Fault::harness("race flow vanished"))?;
    // One body per request: a JWT client signs each with its own `jti`, so the burst tests
    // the code's single use and not the server's assertion replay check.
    let key = flow.dpop_key.clone();
    if key.is_some() {
        dpop::learn_dpop_nonce(ctx, client, key.as_ref()).await?;
    }
    let mut forms = Vec::with_capacity(r.count);
    let mut own_headers = Vec::with_capacity(r.count);
    let mut req = build::bare(HttpMethod::Post, ctx.target.token.clone());
    for _ in 0..r.count {
        let (mut one, mut body) = (
            build::bare(HttpMethod::Post, ctx.target.token.clone()),
            params.clone(),
        );
        authenticate(ctx, &mut one, &mut body, client, AuthSpec::Default)?;
        req = build::with_params(one, &body);
        forms.push(req.form().unwrap_or_default().to_owned());
        // RFC 9449 §11.1: each proof of the burst is its own (a replayed one would be
        // refused for that, and hide the code's single use).
        own_headers.push(
            dpop::proof_header(ctx, &req, key.as_ref(), DpopProof::Auto, None)?
                .map(|p| ("DPoP".to_owned(), p))
                .into_iter()
                .collect::<Vec<_>>(),
        );
    }
    // An mTLS client's burst presents its certificate on every connection (RFC 8705 §2).
    let tls = super::http::Tls {
        identity: req.identity.clone(),
        ..ctx.http.tls().clone()
    };
    let burst = super::race::burst(
        ctx.race_technique.or(r.technique),
        BurstRequest {
            url: &req.url,
            headers: &req.headers,
            forms: &forms,
            own_headers: &own_headers,
            timeout: Duration::from_secs(10),
            tls: &tls,
            addresses: if r.nodes {
                &ctx.target.token_addresses
            } else {
                &[]
            },
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
    let mut summary = burst.summary(trial + 1, r.count);
    if r.nodes {
        let nodes: Vec<String> = ctx
            .target
            .token_addresses
            .iter()
            .map(ToString::to_string)
            .collect();
        summary.push_str(&format!("; connections in turn to {}", nodes.join(", ")));
    }
    ctx.record_burst(&req, burst.shown_status(), &summary);
    Ok(burst)
}

/// REQ-58: more than `at_most` successes in any burst is unmet; bursts that say nothing about
/// single use (most requests failed, none succeeded, no tokens left to check) are `error`.
pub(super) fn judge(ctx: &mut Ctx, r: &RaceStep, tally: Tally) -> StepResult {
    let Tally {
        per_trial,
        mut spreads,
        technique,
        failed,
        sent,
        unrotated,
    } = tally;
    let mut note = super::race::note(&per_trial, r.trials, r.count, technique, &mut spreads);
    if failed > 0 {
        note.push_str(&format!(
            "; the server failed {failed} of the {sent} requests (5xx or no answer)"
        ));
    }
    if unrotated {
        return Err(Fault::OptionalAbsent {
            message: format!(
                "the server does not rotate refresh tokens (a refresh answered with the same refresh token, or none), so concurrent refreshes may all succeed; {note}"
            ),
        }
        .into());
    }
    let proven = per_trial.iter().any(|n| *n > r.at_most);
    if !proven && failed * 2 > sent {
        // Requests the server failed are not refusals: with most of them failed, a burst with
        // at most one success says nothing about single use.
        return Err(precondition(format!(
            "most requests of the bursts failed, so the race shows nothing about single use; {note}"
        )));
    }
    if r.save_as.is_some() && per_trial.last() == Some(&0) {
        return Err(precondition(format!(
            "no request of the last burst succeeded, so there are no tokens to check afterwards; {note}"
        )));
    }
    if per_trial.iter().all(|n| *n == 0) {
        // A burst the server refused whole proves nothing about single use: the same request
        // alone was never shown to succeed.
        return Err(precondition(format!(
            "no request of any burst succeeded, so the race shows nothing about single use; {note}"
        )));
    }
    let raced = match r.grant {
        RaceGrant::Code => "code",
        RaceGrant::RefreshToken => "refresh token",
    };
    checks::race(&per_trial, r.count, r.at_most, raced, &note)?;
    ctx.notes.push(note);
    Ok(Next::Continue)
}
