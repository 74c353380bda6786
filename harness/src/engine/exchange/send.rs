//! One protocol request sent as one client: the client chosen from the target, its
//! authentication added (a client assertion signed afresh, or replayed when the step asks), the
//! request sent through the context (which records it redacted), and the answers that cannot
//! be judged named as the faults they are.

use crate::engine::context::Ctx;
use crate::engine::request as build;
use crate::outcome::{Fault, Halt};
use crate::params::Params;
use crate::scenario::model::{AuthSpec, ClientKind};
use crate::target::ClientConfig;
use crate::wire::{Request, Response};

/// A step's precondition that does not hold (an earlier step gave nothing to go on): the
/// check is `error`, never judged.
pub(crate) fn precondition(message: String) -> Halt {
    Fault::precondition(message).into()
}

/// The target's client of this kind; a scenario that needs one the target lacks is `error`.
pub(crate) fn client_config(ctx: &Ctx, kind: ClientKind) -> Result<ClientConfig, Halt> {
    ctx.target.client(kind).cloned().ok_or_else(|| {
        Fault::config(format!("the target configures no {} client", kind.as_str())).into()
    })
}

/// Adds the client's authentication to a back-channel request: [`build::authenticate`], with a
/// freshly signed client assertion for a JWT client (its `jti` and clock the system's; made out
/// to the token endpoint, or under FAPI 2.0 to the issuer), or the previous one again when the
/// step replays it.
pub(crate) fn authenticate(
    ctx: &mut Ctx,
    req: &mut Request,
    params: &mut Params,
    client: &ClientConfig,
    auth: AuthSpec,
) -> Result<(), Halt> {
    let assertion = if !client.uses_assertion() {
        None
    } else if auth == AuthSpec::ReplayedAssertion {
        Some(ctx.last_assertion.clone().ok_or_else(|| {
            precondition(
                "no earlier client assertion to replay: a token request must come first".into(),
            )
        })?)
    } else {
        let flaw = build::Flaw::of(auth);
        let (jti, now) = Ctx::jti_and_now()?;
        let audience = match (&ctx.target.issuer, &ctx.target.par) {
            (_, Some(par)) if flaw == build::Flaw::ParEndpointAudience => par.as_str(),
            (_, None) if flaw == build::Flaw::ParEndpointAudience => {
                return Err(precondition(
                    "an assertion made out to the PAR endpoint needs one: the target has none"
                        .into(),
                ));
            }
            (Some(issuer), _)
                if flaw == build::Flaw::IssuerAudience
                    || (ctx.assertion_to_issuer && flaw != build::Flaw::TokenEndpointAudience) =>
            {
                issuer.as_str()
            }
            (None, _) if flaw == build::Flaw::IssuerAudience => {
                return Err(precondition(
                    "an assertion made out to the issuer needs one: the target names none".into(),
                ));
            }
            _ => ctx.target.token.as_str(),
        };
        let a = build::assertion(client, audience, now, &jti, flaw)?;
        ctx.secret(&a);
        if flaw == build::Flaw::None {
            ctx.last_assertion = Some(a.clone());
        } else {
            ctx.last_flawed_assertion = Some((a.clone(), auth));
        }
        Some(a)
    };
    build::authenticate(req, params, client, auth, assertion)?;
    present_certificate(ctx, req);
    Ok(())
}

/// RFC 8705 §5: a request that presents a client certificate goes to its endpoint's mTLS
/// alias, where the metadata names one.
pub(crate) fn present_certificate(ctx: &Ctx, req: &mut Request) {
    if req.identity.is_some()
        && let Some(alias) = ctx.target.mtls_url(&req.url)
    {
        req.url = alias.clone();
    }
}

/// Sends and records; a request without a usable response is a fault.
pub(crate) async fn send(ctx: &mut Ctx, req: Request) -> Result<Response, Halt> {
    ctx.send(req)
        .await
        .map_err(|error| Fault::Http { error }.into())
}

/// A judge's verdict on a body cut at the size cap, as the fault it is: the last request's
/// answer could not be read (see [`Fault::CutBody`]).
pub(crate) fn cut_body(ctx: &Ctx, resp: &Response, unmet: &impl std::fmt::Display) -> Halt {
    Fault::CutBody {
        request: last_request(ctx),
        cap: resp.body.len(),
        unmet: unmet.to_string(),
    }
    .into()
}

/// The last request the context sent: method and URL without query.
pub(crate) fn last_request(ctx: &Ctx) -> String {
    ctx.evidence
        .last()
        .map(|e| format!("{} {}", e.method, e.url.split('?').next().unwrap_or("")))
        .unwrap_or_default()
}

/// A 5xx the step did not expect, as the server's failure (see [`Fault::ServerError`]): the
/// request is the last one the context sent.
pub(crate) fn server_error(ctx: &Ctx, status: u16) -> Halt {
    Fault::ServerError {
        status,
        request: last_request(ctx),
    }
    .into()
}
