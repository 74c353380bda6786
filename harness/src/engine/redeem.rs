//! A token request sent and judged: the proof it carries, the tokens it gives kept, a refusal
//! of a code that merely outlived its lifetime told from a finding, and a missing
//! `WWW-Authenticate` challenge judged as the refusal's form.

use std::sync::Arc;

use super::context::{Ctx, Flow};
use super::exchange::dpop::send_with_proof;
use super::exchange::tokens::save_tokens;
use super::judge::{StepResult, check, keep_form};
use super::request as build;
use crate::checks;
use crate::jose::SigningKey;
use crate::outcome::{Fault, Halt, Lifetime};
use crate::scenario::model::{ClientKind, DpopProof, HttpExpect};
use crate::wire::Request;

/// A refused redemption the step expected to succeed, of a code older than the declared
/// lifetime: the code may simply have expired while other steps ran (a slow login), which
/// proves nothing about what the scenario checks. The harness cannot judge it: an error saying
/// so, not a finding.
pub(super) fn expired_meanwhile(ctx: &Ctx, flow: &Flow, expect: &HttpExpect, halt: Halt) -> Halt {
    let lifetime = ctx.code_lifetime;
    let outlived = flow
        .issued_at
        .and_then(|t| super::context::outlived(t.elapsed().as_secs_f64(), lifetime));
    let expected_success = expect.status.as_ref().is_some_and(|s| s.0.contains(&200));
    match (&halt, outlived) {
        (
            Halt::Unmet {
                unmet: crate::outcome::Unmet::Status { got: 400, .. },
            },
            Some((age, lifetime)),
        ) if expected_success => Fault::Outlived {
            what: Lifetime::Code,
            age,
            lifetime,
            refusal: halt.to_string(),
        }
        .into(),
        _ => halt,
    }
}

/// Sends a token (or refresh) request with its DPoP proof, keeps the tokens under `save_as`
/// (bound to the key that proved them), and judges the answer.
pub(super) async fn token_request(
    ctx: &mut Ctx,
    req: Request,
    expect: &HttpExpect,
    save_as: &str,
    kind: ClientKind,
    (key, proof): (Option<Arc<SigningKey>>, DpopProof),
) -> StepResult {
    let scheme = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.split(' ').next())
        .map(str::to_owned);
    let resp = send_with_proof(ctx, req, key.as_ref(), proof, None).await?;
    save_tokens(ctx, &resp, save_as, kind);
    if let Some(tokens) = ctx.tokens.get_mut(save_as)
        && resp.status == 200
    {
        tokens.dpop_key = key;
    }
    let next = check(ctx, expect, &resp)?;
    if expect.auth_challenge
        && let Err(unmet) = checks::auth_challenge(scheme.as_deref(), &resp)
    {
        let v = build::vars(&ctx.target, None, None);
        let judged = checks::refusal_form(expect, &resp, &|s| build::render_str(&v, s), unmet);
        keep_form(ctx, Err(judged))?;
    }
    Ok(next)
}
