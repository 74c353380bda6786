//! The server's JWK Set: fetched from `jwks_uri` by the first check that verifies a signature
//! of the server's (an ID Token, a JARM response), recorded in that check's evidence, then
//! shared by the run.

use super::send::{precondition, send, server_error};
use crate::engine::context::Ctx;
use crate::outcome::{Fault, Halt};
use crate::wire::Request;

/// The server's JWK Set; `what` names what needs it, for the message when there is none.
pub(crate) async fn jwks(ctx: &mut Ctx, what: &str) -> Result<serde_json::Value, Halt> {
    if let Some(set) = ctx.target.jwks.get() {
        return Ok(set.clone());
    }
    let url = ctx.target.jwks_uri().ok_or_else(|| {
        Fault::config(format!(
            "the metadata has no jwks_uri: {what} cannot be checked"
        ))
    })?;
    let resp = send(ctx, Request::get(url)).await?;
    match resp.json() {
        Some(set) if resp.status == 200 && set.get("keys").is_some_and(|k| k.is_array()) => {
            let _ = ctx.target.jwks.set(set.clone());
            Ok(set)
        }
        _ if resp.status >= 500 => Err(server_error(ctx, resp.status)),
        _ => Err(precondition(format!(
            "jwks_uri answered HTTP {} without a JWK Set ({{\"keys\": [...]}})",
            resp.status
        ))),
    }
}
