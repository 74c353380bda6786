//! The control-request rule: a refusal proves something only if the correct request succeeds
//! under the same conditions. After a step saw the refusal it expected, a fresh correct flow
//! runs with the same client in the same browser session.

use super::context::Ctx;
use super::request as build;
use super::steps::{authorize, fault, token};
use crate::outcome::{Fault, Halt};
use crate::scenario::model::{ClientKind, DpopBinding, TokenStep};

/// How far a control flow goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Control {
    /// A correct authorization request must give a code.
    Authorization,
    /// A correct authorization and token request must give tokens.
    Token,
}

/// A refusal proves something only if the correct request succeeds under the same conditions
/// (this client, this browser session, this run): after a step saw the refusal it expected, a
/// fresh flow with correct values runs, and if the server refuses that too, the check is
/// `error`, never `pass` ("the server refuses even the correct request").
pub(super) async fn control(ctx: &mut Ctx, kind: ClientKind, how: Control) -> Result<(), Halt> {
    control_with(ctx, kind, how, DpopBinding::Auto).await
}

/// [`control`] for a refused flow that had a DPoP key: the correct flow is bound the same way,
/// so it is the same request with a correct proof that must succeed.
pub(super) async fn control_with(
    ctx: &mut Ctx,
    kind: ClientKind,
    how: Control,
    dpop: DpopBinding,
) -> Result<(), Halt> {
    let label = ctx.step.clone();
    ctx.step = format!("{label}, control");
    let outcome = Box::pin(control_flow(ctx, kind, how, dpop)).await;
    ctx.step = label;
    outcome.map_err(|halt| match halt {
        // Only an answer is a refusal: an expectation the correct flow did not meet, or a flow
        // that got no code. Everything else keeps its own words: the server failing (the
        // scenario runs again, see the engine), no answer in time, a login that cannot be
        // done, a lifetime the harness overran, a body it could not read.
        Halt::Unmet { .. }
        | Halt::Fault {
            fault: Fault::Precondition { .. },
        } => Fault::precondition(format!(
            "the server refuses even the correct request (a fresh flow with this client), so the refusal proves nothing: {halt}"
        ))
        .into(),
        _ => halt,
    })
}

async fn control_flow(
    ctx: &mut Ctx,
    kind: ClientKind,
    how: Control,
    dpop: DpopBinding,
) -> Result<(), Halt> {
    let mut step = build::default_authorize("control".into());
    step.client = Some(kind);
    step.dpop = dpop;
    let code = match authorize(ctx, &step).await {
        // The correct request got as far as the login page the driver cannot pass: the server
        // did not refuse it, which is what an authorization control asks.
        Err(Halt::Fault {
            fault: Fault::NeedsLogin { .. },
        }) if how == Control::Authorization => return Ok(()),
        other => other?.1,
    };
    if code.is_none() {
        return Err(fault("the authorization gave no code".into()));
    }
    if how == Control::Token {
        let mut token_step: TokenStep =
            crate::diagnostics::parse_yaml("(control)", "{flow: control}")
                .map_err(|e| Fault::harness(e.to_string()))?;
        token_step.client = Some(kind);
        token_step.save_as = Some("control".into());
        Box::pin(token(ctx, &token_step)).await?;
    }
    Ok(())
}
