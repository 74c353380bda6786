//! How a step's answer becomes its result: the judges of [`crate::checks`] applied with the
//! engine's rules (a 5xx where a refusal was expected is the server failing, a cut body is
//! unreadable, a refusal in another form is kept for the scenario's end).

use super::context::Ctx;
use super::exchange::send::{cut_body, server_error};
use super::request as build;
use crate::checks;
use crate::outcome::Halt;
use crate::scenario::model::HttpExpect;
use crate::wire::Response;

/// What the scenario does after a step.
#[derive(Debug)]
pub enum Next {
    /// Run the next step.
    Continue,
    /// Stop here: the scenario passes for this reason.
    Pass(String),
}

pub(super) type StepResult = Result<Next, Halt>;

/// Judges a response against an HTTP expectation, templates filled from the target. A 5xx
/// where a refusal was expected is the server failing, never the refusal nor the lack of one:
/// no try judges it. A refusal in another form is kept for the scenario's end (see
/// [`Halt::Form`]) while the later steps judge the property.
pub(super) fn check(ctx: &mut Ctx, expect: &HttpExpect, resp: &Response) -> StepResult {
    let v = build::vars(&ctx.target, None, None);
    let judged = checks::http_layered(expect, resp, &|s| build::render_str(&v, s));
    if judged.is_err()
        && resp.status >= 500
        && (!ctx.judge_server_errors || expect.expects_refusal())
    {
        return Err(server_error(ctx, resp.status));
    }
    match judged {
        Err(halt) if resp.truncated => Err(cut_body(ctx, resp, &halt)),
        judged => keep_form(ctx, judged).map(|()| Next::Continue),
    }
}

/// Lets a refusal in another form pass the step, kept on the context for the scenario's end;
/// every other halt stops the step.
pub(super) fn keep_form(ctx: &mut Ctx, judged: Result<(), Halt>) -> Result<(), Halt> {
    match judged {
        Err(Halt::Form { unmet }) => {
            ctx.form.get_or_insert(unmet);
            Ok(())
        }
        other => other,
    }
}
