//! The ID Token checks of a token step (OpenID Connect Core §3.1.3.7): what the judge in
//! [`crate::checks::id_token`] needs, the provider's JWK Set fetched once per run
//! ([`super::exchange::jwks`]).

use super::context::Ctx;
use super::exchange::jwks::jwks;
use super::exchange::send::precondition;
use super::exchange::tokens::saved;
use crate::checks;
use crate::checks::id_token::NotJudged;
use crate::outcome::{Fault, Halt};
use crate::redact::Secret;
use crate::scenario::model::IdTokenCheck;
use crate::target::ClientConfig;

/// Judges the ID Token of the tokens saved as `name`, check by check.
pub(super) async fn id_token_checks(
    ctx: &mut Ctx,
    checks: &[IdTokenCheck],
    name: &str,
    client: &ClientConfig,
) -> Result<(), Halt> {
    if !ctx.target.openid {
        return Err(Fault::config(
            "ID Token checks need an OpenID flow: set openid.enabled or point at an OpenID Provider",
        )
        .into());
    }
    let jwks = if checks.contains(&IdTokenCheck::Signature)
        || checks.contains(&IdTokenCheck::KeyStrength)
    {
        Some(jwks(ctx, "ID Token signatures").await?)
    } else {
        None
    };
    let tokens = saved(ctx, name)?;
    let flow = tokens.flow.clone().unwrap_or_default();
    let algs = ctx.target.id_token_algs();
    let now = Ctx::unix_now();
    for check in checks {
        let other = match check {
            IdTokenCheck::SameSub(other)
            | IdTokenCheck::AuthTimeAfter(other)
            | IdTokenCheck::AuthTimeSame(other)
            | IdTokenCheck::AuthTimeKept(other) => saved(ctx, other)?
                .id_token
                .as_ref()
                .and_then(|t| crate::jose::Jws::parse(t.expose()).ok()),
            _ => None,
        };
        let other_sub = other
            .as_ref()
            .and_then(|j| j.claims.get("sub")?.as_str().map(str::to_owned));
        let expected = checks::id_token::Expected {
            issuer: ctx.target.issuer.as_deref(),
            client_id: &client.client_id.0,
            secret: client.secret_bytes(),
            jwks: jwks.as_ref(),
            algs: algs.as_deref(),
            nonce: flow.nonce.as_deref(),
            access_token: tokens.access.as_ref().map(Secret::expose),
            code: flow.code.as_ref().map(Secret::expose),
            now,
            skew: ctx.target.clock_skew,
            other_sub: other_sub.as_deref(),
            other_auth_time: other
                .as_ref()
                .and_then(|j| j.claims.get("auth_time")?.as_u64()),
        };
        let token = tokens.id_token.as_ref().map(Secret::expose);
        match checks::id_token::id_token(check, token, &expected) {
            Ok(()) => {}
            Err(Ok(unmet)) => return Err(unmet.into()),
            Err(Err(NotJudged::Cannot(why))) => return Err(precondition(why)),
            Err(Err(NotJudged::Absent(why))) => {
                return Err(Fault::OptionalAbsent { message: why }.into());
            }
        }
    }
    Ok(())
}
