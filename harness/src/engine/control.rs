//! The control-request rule: a refusal proves something only if the correct request succeeds
//! under the same conditions. After a step saw the refusal it expected, a fresh correct flow
//! runs with the same client in the same browser session. This file says what that flow is and
//! how its failure reads; the steps run it (they are what it is made of).

use super::request as build;
use crate::outcome::{Fault, Halt};
use crate::scenario::model::{
    AuthorizeStep, ClientKind, DpopBinding, JarmMode, ParProof, ParSpec, RequestBy,
    RequestObjectSpec, TokenStep,
};

/// How far a control flow goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Control {
    /// A correct authorization request must give a code.
    Authorization,
    /// A correct authorization and token request must give tokens.
    Token,
}

/// What the correct flow keeps of the refused one, so the refusal is measured against the same
/// kind of request: its DPoP binding (a correct proof by a key bound the same way), whether it
/// travelled as a request object (then a correctly signed one, by value or by reference as it
/// did), its response mode, and whether
/// it was pushed (then a correct push, with a proof of the flow's key where it had a proof).
#[derive(Clone, Copy, Default)]
pub(super) struct Like {
    /// The refused flow's DPoP binding.
    pub dpop: DpopBinding,
    /// The refused flow's request object, corrected.
    pub request_object: RequestObjectSpec,
    /// How the refused flow's request object travelled (by value or by reference).
    pub request_by: RequestBy,
    /// The refused flow's response mode.
    pub response_mode: Option<JarmMode>,
    /// The refused flow was pushed (RFC 9126).
    pub pushed: bool,
    /// The refused push's DPoP proof, corrected.
    pub par_dpop: ParProof,
}

/// The correct flow: an authorization request with correct values by `kind`, kept `like` the
/// refused one, and for [`Control::Token`] the token request that redeems its code.
pub(super) fn plan(
    kind: ClientKind,
    how: Control,
    like: Like,
) -> Result<(AuthorizeStep, Option<TokenStep>), Halt> {
    let mut authorize = build::default_authorize("control".into());
    authorize.client = Some(kind);
    authorize.dpop = like.dpop;
    authorize.request_object = like.request_object.corrected();
    authorize.request_by = like.request_by;
    authorize.response_mode = like.response_mode;
    authorize.par_dpop = like.par_dpop.corrected();
    if like.pushed {
        authorize.par = ParSpec::Push;
    }
    let token = match how {
        Control::Authorization => None,
        Control::Token => {
            let mut step: TokenStep =
                crate::diagnostics::parse_yaml("(control)", "{flow: control}")
                    .map_err(|e| Fault::harness(e.to_string()))?;
            step.client = Some(kind);
            step.save_as = Some("control".into());
            Some(step)
        }
    };
    Ok((authorize, token))
}

/// What a failed control flow means for the check. Only an answer is a refusal: an expectation
/// the correct flow did not meet, or a flow that got no code; then the check is `error` ("the
/// server refuses even the correct request"), never `pass`. Everything else keeps its own
/// words: the server failing (the scenario runs again, see the engine), no answer in time, a
/// login that cannot be done, a lifetime the harness overran, a body it could not read.
pub(super) fn failed(halt: Halt) -> Halt {
    failed_as(
        "the server refuses even the correct request (a fresh flow with this client), so the refusal proves nothing",
        halt,
    )
}

/// [`failed`], for a control whose failure is not a refusal: `what` says what the control saw
/// and why that leaves the check without proof.
pub(super) fn failed_as(what: &str, halt: Halt) -> Halt {
    match halt {
        Halt::Unmet { .. }
        | Halt::Fault {
            fault: Fault::Precondition { .. },
        } => Fault::precondition(format!("{what}: {halt}")).into(),
        _ => halt,
    }
}

/// The correct authorization request got as far as the login page the driver cannot pass: the
/// server did not refuse it, which is all an authorization control asks.
pub(super) fn stopped_at_login(how: Control, halt: &Halt) -> bool {
    how == Control::Authorization
        && matches!(
            halt,
            Halt::Fault {
                fault: Fault::NeedsLogin { .. }
            }
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Unmet;

    #[test]
    fn a_token_control_redeems_the_control_flow_with_the_same_client() {
        let like = Like {
            dpop: DpopBinding::Bind,
            request_object: RequestObjectSpec::Expired,
            request_by: RequestBy::Reference,
            response_mode: Some(JarmMode::QueryJwt),
            pushed: true,
            par_dpop: ParProof::OtherKey,
        };
        let (authorize, token) = plan(ClientKind::Public, Control::Token, like).expect("plan");
        assert_eq!(authorize.client, Some(ClientKind::Public));
        assert_eq!(
            authorize.par,
            ParSpec::Push,
            "a refused push is controlled by a push"
        );
        assert_eq!(authorize.dpop, DpopBinding::Bind);
        assert_eq!(authorize.request_object, RequestObjectSpec::Signed);
        assert_eq!(authorize.request_by, RequestBy::Reference);
        assert_eq!(authorize.response_mode, Some(JarmMode::QueryJwt));
        assert_eq!(
            authorize.par_dpop,
            ParProof::Flow,
            "a refused push's proof is controlled by a proof of the flow's key"
        );
        let token = token.expect("a token step");
        assert_eq!(token.flow, authorize.flow);
        assert_eq!(token.client, Some(ClientKind::Public));
        let (authorize, none) =
            plan(ClientKind::Public, Control::Authorization, Like::default()).expect("plan");
        assert!(none.is_none());
        assert_eq!(authorize.request_object, RequestObjectSpec::Auto);
        assert_eq!(authorize.par, ParSpec::Auto);
    }

    #[test]
    fn only_an_answer_of_the_server_reads_as_refusing_the_correct_request() {
        let refused: Halt = Unmet::Status {
            expected: vec![200],
            got: 400,
            error: None,
        }
        .into();
        assert!(
            failed(refused)
                .to_string()
                .contains("refuses even the correct request")
        );
        let server: Halt = Fault::ServerError {
            status: 503,
            request: "POST /token".into(),
        }
        .into();
        assert!(!failed(server).to_string().contains("correct request"));
    }
}
