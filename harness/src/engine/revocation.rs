//! The `revoke` step: an RFC 7009 revocation request for a saved token, judged. Its control
//! (after an expected refusal) is in [`super::steps`], made of this step and a fresh flow.

use super::context::Ctx;
use super::exchange::send::{authenticate, client_config, precondition, present_certificate, send};
use super::exchange::tokens::saved;
use super::judge::{StepResult, check};
use super::request as build;
use crate::outcome::Fault;
use crate::params::Params;
use crate::scenario::model::{RevokeStep, TokenKind, TypeHint};
use crate::wire::HttpMethod;

/// Length of the token sent for `unknown: true`: as long as a 256-bit base64url token, so only
/// its being unknown differs from a real one.
const UNKNOWN_LEN: usize = 43;

/// Sends the revocation request the step describes and judges the answer.
pub(super) async fn revoke(ctx: &mut Ctx, r: &RevokeStep) -> StepResult {
    let url = ctx.target.revocation.clone().ok_or_else(|| {
        Fault::config("the target has no revocation endpoint (endpoints.revocation)")
    })?;
    let tokens = saved(ctx, &r.tokens)?;
    let token = match r.token {
        TokenKind::AccessToken => tokens.access,
        TokenKind::RefreshToken => tokens.refresh,
    }
    .ok_or_else(|| {
        precondition(format!(
            "the tokens saved as {} have no {}",
            r.tokens,
            r.token.as_str()
        ))
    })?;
    // A token no server issued: random (from the run's seed), never derived from a real one,
    // which evidence would then show unmasked.
    let value = if r.unknown {
        ctx.random_string(UNKNOWN_LEN)
    } else {
        token.expose().to_owned()
    };
    let client = client_config(ctx, r.client.unwrap_or(tokens.client))?;
    let mut params = Params::new();
    params.push("token", &value);
    if let Some(hint) = hint(r.hint, r.token) {
        params.push("token_type_hint", hint.as_str());
    }
    let mut req = build::bare(HttpMethod::Post, url);
    authenticate(ctx, &mut req, &mut params, &client, r.auth)?;
    present_certificate(ctx, &mut req);
    let resp = send(ctx, build::with_params(req, &params)).await?;
    check(ctx, &r.expect, &resp)
}

/// The `token_type_hint` a step sends for a token of `kind`.
fn hint(hint: TypeHint, kind: TokenKind) -> Option<TokenKind> {
    match (hint, kind) {
        (TypeHint::Matching, k) => Some(k),
        (TypeHint::Other, TokenKind::AccessToken) => Some(TokenKind::RefreshToken),
        (TypeHint::Other, TokenKind::RefreshToken) => Some(TokenKind::AccessToken),
        (TypeHint::None, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A misleading hint names the other type; a matching one the token's own.
    #[test]
    fn hints_name_the_type_the_step_says() {
        assert_eq!(
            hint(TypeHint::Other, TokenKind::RefreshToken),
            Some(TokenKind::AccessToken)
        );
        assert_eq!(
            hint(TypeHint::Matching, TokenKind::RefreshToken),
            Some(TokenKind::RefreshToken)
        );
        assert_eq!(hint(TypeHint::None, TokenKind::AccessToken), None);
    }
}
