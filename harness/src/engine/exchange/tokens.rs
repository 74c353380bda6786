//! The tokens a scenario keeps: saved under a name by the step that got them, for the steps
//! that use them later.

use super::send::precondition;
use crate::engine::context::{Ctx, Tokens};
use crate::outcome::Halt;
use crate::redact::Secret;
use crate::scenario::model::ClientKind;
use crate::wire::Response;

/// Keeps the tokens of a successful token response under `name`.
pub(crate) fn save_tokens(ctx: &mut Ctx, resp: &Response, name: &str, kind: ClientKind) {
    if resp.status != 200 {
        return;
    }
    if let Some(tokens) = resp.json().as_ref().and_then(|b| tokens_of(b, kind)) {
        ctx.tokens.insert(name.to_owned(), tokens);
    }
}

/// The tokens of a token response body, if it has an access token.
pub(crate) fn tokens_of(body: &serde_json::Value, kind: ClientKind) -> Option<Tokens> {
    let get = |k: &str| body.get(k).and_then(|v| v.as_str()).map(Secret::new);
    Some(Tokens {
        client: kind,
        access: Some(get("access_token")?),
        refresh: get("refresh_token"),
        id_token: get("id_token"),
        flow: None,
        dpop_key: None,
        token_type: body
            .get("token_type")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        lifetime: body
            .get("expires_in")
            .and_then(serde_json::Value::as_f64)
            .map(|secs| (std::time::Instant::now(), secs)),
    })
}

/// The tokens saved as `name`; a step that needs tokens no earlier step saved is `error`.
pub(crate) fn saved(ctx: &Ctx, name: &str) -> Result<Tokens, Halt> {
    ctx.tokens
        .get(name)
        .cloned()
        .ok_or_else(|| precondition(format!("no tokens saved as {name}")))
}
