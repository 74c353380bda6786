//! The authorize step in phases: the flow's values, the request (front channel or pushed), the
//! login, and the judgement of how it ended. The step itself (in [`super::steps`]) strings them
//! together and runs the control flow where the judgement asks for one; the decision on the
//! ending ([`decide`]) is pure.

use std::sync::Arc;

use url::Url;

use super::context::{Ctx, Flow};
use super::exchange::dpop::fresh_dpop_key;
use super::exchange::jwks::jwks;
use super::exchange::par;
use super::exchange::send::{precondition, send, server_error};
use super::exchange::tokens::saved;
use super::judge::{Next, keep_form};
use super::login::{Drive, drive};
use super::request::{self as build, Vars};
use crate::callback::{Ending, Outcome};
use crate::checks;
use crate::forms::PageKind;
use crate::outcome::{Fault, Halt, Lifetime, Unmet};
use crate::redact::Secret;
use crate::scenario::model::{
    AuthOutcome, AuthorizeExpect, AuthorizeStep, ChallengeSpec, ClientKind, ConsentAnswer,
    DpopBinding, DpopProof, NonceSpec, ParProof, ParSpec, RequestBy, RequestObjectSpec,
};
use crate::target::ClientConfig;
use crate::wire::Request;

/// The flow's values: PKCE verifier and challenge, `state`, `nonce`, redirect URI, DPoP key;
/// and the `code_challenge_method` the request sends.
pub(super) fn values(
    ctx: &mut Ctx,
    a: &AuthorizeStep,
    kind: ClientKind,
    client: &ClientConfig,
) -> Result<(Flow, Option<String>), Halt> {
    let v0: Vars = build::vars(&ctx.target, None, Some(client));
    let method_sent = build::value(&v0, &a.pkce.method);
    let mut flow = Flow {
        client: Some(kind),
        ..Flow::default()
    };
    if !matches!(a.pkce.challenge, ChallengeSpec::Omit) {
        let verifier = match &a.pkce.verifier {
            Some(t) => build::render(&v0, t),
            None => ctx
                .verifier(a.pkce.verifier_length)
                .map_err(|e| Fault::config(format!("pkce.verifier_length: {e}")))?
                .expose_secret()
                .to_owned(),
        };
        ctx.test_value(&verifier);
        let method = build::derive_with(method_sent.as_deref(), &a.pkce);
        flow.challenge = build::challenge(&a.pkce.challenge, &verifier, method, &v0);
        flow.verifier = Some(verifier);
    }
    flow.state = build::state(&a.state, &v0, |n| ctx.random_string(n));
    if ctx.target.openid && a.nonce != NonceSpec::Omit {
        // Unique across runs, so no server takes it for a replay; a longer one is padded with
        // seeded characters.
        let mut nonce = Ctx::unique_value()
            .map_err(|e| Fault::harness(format!("no entropy for a nonce: {e}")))?;
        if let NonceSpec::Length(n) = a.nonce {
            let pad = ctx.random_string(n.saturating_sub(nonce.len()));
            nonce.push_str(&pad);
            nonce.truncate(n);
        }
        flow.nonce = Some(nonce);
    }
    flow.redirect_uri = build::redirect_uri(&a.redirect_uri, client, &v0);
    // An mTLS client's tokens are bound to its certificate (RFC 8705 §3), which FAPI 2.0 takes
    // as their sender constraint; a server may refuse a second binding beside it
    // (node-oidc-provider: "multiple proof-of-possession mechanisms are not allowed"), so the
    // target's DPoP is for the other clients. A step that asks for a key still gets one.
    let binding = match a.dpop {
        DpopBinding::Auto if ctx.target.dpop && client.tls_identity.is_none() => DpopBinding::Bind,
        DpopBinding::Auto => DpopBinding::None,
        other => other,
    };
    if binding != DpopBinding::None {
        flow.dpop_key = Some(fresh_dpop_key()?);
        flow.dpop_jkt = binding == DpopBinding::Bind;
    }
    Ok((flow, method_sent))
}

/// Where the front channel starts.
pub(super) enum Front {
    /// The authorization request URL the browser opens.
    Open(Url),
    /// The step only pushes: nothing is opened.
    PushedOnly,
    /// The PAR endpoint refused the push: its answer, as the page it stands for.
    RefusedAtPar(Ending),
}

/// Whether the step pushes its request (RFC 9126).
pub(super) fn pushes(ctx: &Ctx, a: &AuthorizeStep) -> bool {
    match &a.par {
        ParSpec::Auto => ctx.target.push,
        ParSpec::Push | ParSpec::PushOnly => true,
        ParSpec::Front | ParSpec::Reuse(_) => false,
    }
}

/// The request: built for the front channel, pushed first (RFC 9126), or an earlier flow's
/// pushed request presented again (then `flow` becomes that flow, by this step's client).
pub(super) async fn request(
    ctx: &mut Ctx,
    a: &AuthorizeStep,
    client: &ClientConfig,
    flow: &mut Flow,
    method_sent: Option<&str>,
) -> Result<Front, Halt> {
    let push = pushes(ctx, a);
    if let ParSpec::Reuse(from) = &a.par {
        // The earlier flow's pushed request, presented again: its verifier, state and nonce
        // are the ones the request carries.
        let earlier = ctx
            .flows
            .get(from)
            .cloned()
            .ok_or_else(|| precondition(format!("flow {from} did not start")))?;
        let uri = earlier
            .pushed
            .as_ref()
            .map(|p| p.uri.clone())
            .ok_or_else(|| precondition(format!("flow {from} pushed no request")))?;
        *flow = Flow {
            client: flow.client,
            code: None,
            issued_at: None,
            ..earlier
        };
        return Ok(Front::Open(build::pushed_url(
            &ctx.target,
            a,
            client,
            flow,
            &uri,
        )));
    }
    let mut params = build::authorize_params(&ctx.target, a, client, flow, method_sent);
    if let Some(name) = &a.id_token_hint {
        let hint = saved(ctx, name)?.id_token.ok_or_else(|| {
            precondition(format!(
                "id_token_hint: the tokens saved as {name} have no ID Token"
            ))
        })?;
        params.push("id_token_hint", hint.expose());
    }
    let object = build::request_object_spec(a.request_object, ctx.target.request_object, client);
    if let Some(spec) = object {
        let signed = signed_request(ctx, client, &params, spec)?;
        params = match a.request_by {
            RequestBy::Value => build::beside_request_object(client, signed),
            RequestBy::Reference if push => {
                return Err(Fault::config(
                    "request_by: reference is for the front channel: a pushed request carries its object itself (par: none)",
                )
                .into());
            }
            RequestBy::Reference => {
                let uri = by_reference(ctx, signed).await?;
                let params = build::beside_request_uri(client, uri.as_str());
                flow.hosted_request = Some(uri);
                params
            }
        };
    }
    if !push {
        return Ok(Front::Open(match object {
            Some(_) => build::front_url(&ctx.target, a, client, flow, params),
            None => build::authorization_url(&ctx.target, &params),
        }));
    }
    // RFC 9449 §10.1: a proof on the push, with the flow's key or on purpose another.
    let proof = match a.par_dpop {
        ParProof::None => None,
        ParProof::Flow => Some(DpopProof::Auto),
        ParProof::OtherKey => Some(DpopProof::OtherKey),
    };
    let proof = match (proof, &flow.dpop_key) {
        (None, _) => None,
        (Some(spec), Some(key)) => Some((Arc::clone(key), spec)),
        (Some(_), None) => {
            return Err(Fault::config(
                "par_dpop needs the flow's DPoP key: give the step dpop: key or dpop: bind",
            )
            .into());
        }
    };
    match par::pushed(ctx, client, params, (a.par_auth, a.par_method), proof).await? {
        Ok(pushed) => {
            let url = build::pushed_url(&ctx.target, a, client, flow, &pushed.uri);
            flow.pushed = Some(pushed);
            Ok(if a.par == ParSpec::PushOnly {
                Front::PushedOnly
            } else {
                Front::Open(url)
            })
        }
        Err(refused) => Ok(Front::RefusedAtPar(refused)),
    }
}

/// Where the request object was served by reference and the server never fetched it: it
/// cannot reach the client host (a loopback address its guard against server-side request
/// forgery refuses, a firewall), so nothing it answered is about the object.
/// A refusal that says request objects by reference are not supported
/// (`request_uri_not_supported`, OpenID Connect Core §3.1.2.6, in an error response or on an
/// error page) is judged all the same: it needs no fetch.
pub(super) fn unfetched_request(ctx: &Ctx, flow: &Flow, ending: &Ending) -> Result<(), Halt> {
    let (Some(url), Some(host)) = (&flow.hosted_request, &ctx.target.client_host) else {
        return Ok(());
    };
    const UNSUPPORTED: &str = "request_uri_not_supported";
    let unsupported = match ending {
        Ending::Callback(r) => {
            matches!(&r.outcome, Outcome::Error { error, .. } if error == UNSUPPORTED)
        }
        // An error page says it in its own words.
        Ending::Page {
            title,
            heading,
            message,
            ..
        } => [title, heading, message]
            .into_iter()
            .flatten()
            .any(|text| text.contains(UNSUPPORTED)),
    };
    if unsupported {
        return Ok(());
    }
    Ok(host.fetched_or_fault(url, "request object (request_uri)")?)
}

/// OpenID Connect Core §6.2: the request object served by the client host, for the server to
/// fetch: its URL.
async fn by_reference(ctx: &Ctx, object: String) -> Result<Url, Halt> {
    let host = ctx.target.client_host.as_ref().ok_or_else(|| {
        Fault::config(
            "request_by: reference needs the client host: set client_host in the target file",
        )
    })?;
    host.publish("application/oauth-authz-req+jwt", object, "request.jwt")
        .await
        .map_err(|e| Fault::harness(e).into())
}

/// `params` as a request object (RFC 9101) signed by `client` now, with a fresh `jti`, flawed
/// as `spec` says.
pub(super) fn signed_request(
    ctx: &Ctx,
    client: &ClientConfig,
    params: &crate::params::Params,
    spec: RequestObjectSpec,
) -> Result<String, Halt> {
    let (jti, now) = Ctx::jti_and_now()?;
    // Another client the server knows, for an object that names it.
    let other = ctx
        .target
        .clients
        .all()
        .map(|c| c.client_id.0.as_str())
        .find(|id| *id != client.client_id.0)
        .unwrap_or("another-client");
    let issuer = ctx.target.issuer.as_deref().ok_or_else(|| {
        Fault::config("a request object is made out to the issuer (its aud), and the target names none: set issuer")
    })?;
    Ok(build::request_object(
        client, issuer, params, spec, now, &jti, other,
    )?)
}

/// One load of the authorization URL, left at its first answer (a user who reloads the page
/// before signing in): only a 5xx is judged, as the server failing.
pub(super) async fn load_and_leave(ctx: &mut Ctx, url: &Url) -> Result<(), Halt> {
    let resp = send(ctx, Request::get(url.clone()).in_browser()).await?;
    if resp.status >= 500 {
        return Err(server_error(ctx, resp.status));
    }
    Ok(())
}

/// The login: the target's driver takes the request to its end. Where preflight found the
/// login cannot be automated, a login that stops is `error` saying why.
pub(super) async fn login(
    ctx: &mut Ctx,
    url: Url,
    flow: &Flow,
    consent: ConsentAnswer,
) -> Result<Drive, Halt> {
    let targets = build::client_targets(&ctx.target, flow.redirect_uri.as_deref());
    let d = match (drive(ctx, url, &targets, consent).await, &ctx.login_blocked) {
        (
            Err(Halt::Fault {
                fault: Fault::Login { .. },
            }),
            Some(why),
        ) => return Err(Fault::NeedsLogin { why: why.clone() }.into()),
        (d, _) => d?,
    };
    if let (
        Ending::Page {
            holds: PageKind::LoginForm,
            ..
        },
        Some(why),
    ) = (&d.ending, &ctx.login_blocked)
    {
        return Err(Fault::NeedsLogin { why: why.clone() }.into());
    }
    Ok(d)
}

/// The server failing rather than answering: an error redirect `server_error` or
/// `temporarily_unavailable`, or a 5xx page where a refusal would settle the step (where a code
/// was expected, the last try judges it).
pub(super) fn server_failure(ctx: &Ctx, e: &AuthorizeExpect, ending: &Ending) -> Option<Halt> {
    if let Ending::Callback(r) = ending
        && let Outcome::Error { error, .. } = &r.outcome
        && matches!(error.as_str(), "server_error" | "temporarily_unavailable")
    {
        return Some(
            Fault::ServerErrorRedirect {
                error: error.clone(),
                request: format!(
                    "GET {}",
                    crate::wire::without_query(&ctx.target.authorization)
                ),
            }
            .into(),
        );
    }
    if let Ending::Page { status, .. } = ending
        && *status >= 500
        && (e.outcome != AuthOutcome::Code
            || e.refusal_passes.is_some()
            || !ctx.judge_server_errors)
    {
        return Some(server_error(ctx, *status));
    }
    None
}

/// RFC 9101 §6.3, where the step asks: a redirect to a client went to the flow's own
/// redirect URI (the one the request was built with, else the client's registered one), not
/// to one set beside the request object; judged before a refusal can pass the check.
pub(super) fn sent_to_flow(
    e: &AuthorizeExpect,
    client: &ClientConfig,
    flow: &Flow,
    ending: &Ending,
) -> Result<(), Halt> {
    if !e.to_flow_redirect_uri {
        return Ok(());
    }
    let intended = flow
        .redirect_uri
        .as_deref()
        .and_then(|r| Url::parse(r).ok())
        .unwrap_or_else(|| client.redirect_uri.0.clone());
    Ok(checks::sent_to(&intended, ending)?)
}

/// The client's registered redirect URI where the flow's request named another one (or none),
/// for [`decide`].
pub(super) fn registered_elsewhere<'a>(client: &'a ClientConfig, flow: &Flow) -> Option<&'a Url> {
    let registered = &client.redirect_uri.0;
    let named = flow
        .redirect_uri
        .as_deref()
        .and_then(|r| Url::parse(r).ok());
    (named.as_ref() != Some(registered)).then_some(registered)
}

/// Whether the request was refused: an error redirect or a page of the server.
pub(super) fn refused(ending: &Ending) -> bool {
    match ending {
        Ending::Callback(r) => matches!(r.outcome, Outcome::Error { .. }),
        Ending::Page { .. } => true,
    }
}

/// What the judgement of an ending leaves the step to do.
#[derive(Debug)]
pub(super) enum Then {
    /// Settled once a control flow shows the correct request succeeds: a refusal that passes
    /// the check, or one that leaves the check unreached.
    AfterControl(Result<Next, Halt>),
    /// The response's own checks follow ([`response_checks`]); after a control flow when the
    /// request was refused.
    Checks {
        /// A refusal: the correct request must be shown to succeed first.
        control: bool,
    },
}

/// The decision on how the request ended, and a refusal in another form to keep.
#[derive(Debug)]
pub(super) struct Decision {
    /// A refusal in another form (an error page for an error redirect, another code).
    pub form: Option<Unmet>,
    /// What follows.
    pub then: Then,
}

/// Decides on an ending the server answered (no server failure, no outlived request): the
/// expected outcome, a provocation that did not provoke, a refusal that passes or skips the
/// check, and the form of a refusal. Pure: the step keeps the form and runs the control flow.
/// `registered` is the client's registered redirect URI where the request named another one
/// (or none).
pub(super) fn decide(
    e: &AuthorizeExpect,
    ending: &Ending,
    registered: Option<&Url>,
) -> Result<Decision, Halt> {
    let refused = refused(ending);
    if !refused && e.provocation {
        return Err(Fault::NotProvoked {
            got: checks::describe_ending(ending),
        }
        .into());
    }
    if refused && let Some(why) = &e.refusal_skips {
        let unreached = Fault::Unreached {
            why: why.clone(),
            got: checks::describe_ending(ending),
        };
        return Ok(Decision {
            form: None,
            then: Then::AfterControl(Err(unreached.into())),
        });
    }
    let named_errors = |e: &AuthorizeExpect| {
        e.error
            .as_ref()
            .and_then(|errors| refusal_form(&errors.0, ending))
    };
    if refused && let Some(reason) = &e.refusal_passes {
        let pass = Next::Pass(format!(
            "{reason} (the server refused the authorization request: {})",
            checks::describe_ending(ending)
        ));
        return Ok(Decision {
            form: named_errors(e),
            then: Then::AfterControl(Ok(pass)),
        });
    }
    let form = match checks::authorization_layered(e.outcome, ending, registered) {
        Ok(()) => None,
        Err(Halt::Form { unmet }) => Some(unmet),
        Err(halt) => return Err(halt),
    };
    let control = e.outcome != AuthOutcome::Code;
    let form = form.or_else(|| {
        (control && matches!(ending, Ending::Callback(_)))
            .then(|| named_errors(e))
            .flatten()
    });
    Ok(Decision {
        form,
        then: Then::Checks { control },
    })
}

/// How a refusal came, against the error codes a step names: an error redirect with one of
/// them. A page or another code refused all the same: that is the refusal's form.
fn refusal_form(errors: &[String], ending: &Ending) -> Option<Unmet> {
    match ending {
        Ending::Callback(r) => checks::authorization_error(errors, r).err(),
        Ending::Page { .. } => {
            checks::authorization_outcome(AuthOutcome::ErrorRedirect, ending).err()
        }
    }
}

/// The checks of the authorization response itself and of the pages on the way: `state`
/// echoed, `iss` (RFC 9207), the error response's format, the challenge not reflected, page
/// headers, framing, reposting redirects, consent shown.
pub(super) fn response_checks(
    ctx: &Ctx,
    e: &AuthorizeExpect,
    flow: &Flow,
    d: &Drive,
) -> Result<(), Halt> {
    if let Ending::Callback(r) = &d.ending {
        if e.state_echoed {
            checks::state_echoed(flow.state.as_deref(), r)?;
        }
        if e.iss {
            let issuer = ctx
                .target
                .issuer
                .clone()
                .ok_or_else(|| Fault::config("iss check needs the target's issuer"))?;
            // RFC 9207 §2.4: a present iss is checked whatever the metadata says; only an
            // absent one depends on whether the server announces it (or the profile needs it).
            if r.outcome.iss().is_none() && !ctx.iss_required {
                return Err(Fault::OptionalAbsent {
                    message: "the response carries no iss, and the metadata does not announce authorization_response_iss_parameter_supported: RFC 9207 §2 lets such a server leave it out".into(),
                }
                .into());
            }
            checks::iss(&issuer, r)?;
        }
        if e.error_format {
            checks::callback_format(&r.findings)?;
        }
        if e.challenge_not_reflected {
            checks::challenge_not_reflected(flow.challenge.as_deref(), r)?;
        }
    }
    if !e.page_headers.is_empty() {
        checks::page_headers(&e.page_headers, &d.pages)?;
    }
    if e.pages_not_frameable {
        checks::pages_not_frameable(&d.pages)?;
    }
    checks::no_reposting_redirect(&d.post_redirects, &e.post_redirect_not)?;
    if e.consent_shown {
        checks::consent_shown(&d.pages)?;
    }
    if e.no_page {
        checks::no_page(&d.pages)?;
    }
    Ok(())
}

/// JARM §2.4: a response the request asked to be JWT-secured is one, signed by the server (its
/// JWK Set, fetched once per run, or the client secret for HMAC), made out by the issuer to
/// this client, and not expired.
pub(super) async fn jarm(
    ctx: &mut Ctx,
    client: &ClientConfig,
    ending: &Ending,
) -> Result<(), Halt> {
    let Ending::Callback(r) = ending else {
        return Ok(());
    };
    let jwks = if checks::jarm::needs_jwks(r) {
        Some(jwks(ctx, "JARM response signatures").await?)
    } else {
        None
    };
    let issuer = ctx
        .target
        .issuer
        .as_deref()
        .ok_or_else(|| Fault::config("the JARM check needs the target's issuer"))?;
    let e = checks::jarm::Expected {
        issuer,
        client_id: &client.client_id.0,
        secret: client.secret_bytes(),
        jwks: jwks.as_ref(),
        now: Ctx::unix_now(),
        skew: ctx.target.clock_skew,
    };
    Ok(checks::jarm::jarm(&e, r)?)
}

/// A pushed request the PAR endpoint refused: judged like an authorization request refused
/// with an error page (no code, nobody redirected).
/// The step runs the control flow after it.
pub(super) fn refused_at_par(
    ctx: &mut Ctx,
    a: &AuthorizeStep,
    ending: &Ending,
) -> Result<Next, Halt> {
    let e = &a.expect;
    if let Some(reason) = &e.refusal_passes {
        return Ok(Next::Pass(format!(
            "{reason} (the server refused the pushed request: {})",
            checks::describe_ending(ending)
        )));
    }
    // RFC 9126 §2.3: a pushed request is refused with a direct error response, which stands for
    // the error redirect (or page) of a request sent on the front channel.
    if e.outcome == AuthOutcome::Code {
        checks::authorization_outcome(e.outcome, ending)?;
    }
    if let (Some(errors), Ending::Page { heading, .. }) = (&e.error, ending) {
        let got = heading
            .as_deref()
            .and_then(|h| h.strip_prefix("PAR endpoint error "))
            .unwrap_or("none")
            .to_owned();
        if !errors.0.contains(&got) {
            // Refused all the same: another error code is the refusal's form.
            let unmet = Unmet::OAuthError {
                expected: errors.0.clone(),
                got,
            };
            keep_form(ctx, Err(Halt::Form { unmet }))?;
        }
    }
    if e.state_echoed || e.iss || e.jarm || e.error_format || e.challenge_not_reflected {
        return Err(Fault::OptionalAbsent {
            message: "the pushed request was refused at the PAR endpoint with a direct error response (RFC 9126 §2.3): there is no error redirect for this check to judge".into(),
        }
        .into());
    }
    Ok(Next::Continue)
}

/// A refused pushed request older than its `expires_in`: the refusal may be its expiry (the
/// login took longer than the request lives), which proves nothing about what the check judges:
/// neither that the server refuses a correct request nor, for a check that expects the refusal,
/// that it refuses for the reason the check is about. Unless the scenario waited the lifetime
/// out on purpose, the harness cannot judge: an error naming the lifetime and the age.
pub(super) fn outlived(
    ctx: &Ctx,
    a: &AuthorizeStep,
    flow: &Flow,
    ending: &Ending,
) -> Result<(), Halt> {
    let Some((age, lifetime)) = flow
        .pushed
        .as_ref()
        .and_then(super::context::Pushed::outlived)
    else {
        return Ok(());
    };
    let provoked = a.expect.outcome != AuthOutcome::Code || a.expect.refusal_passes.is_some();
    if provoked && ctx.waited_out_request_uri {
        return Ok(());
    }
    Err(Fault::Outlived {
        what: Lifetime::RequestUri,
        age,
        lifetime,
        refusal: checks::describe_ending(ending).to_string(),
    }
    .into())
}

/// The code of a successful authorization response.
pub(super) fn code(ending: &Ending) -> Option<Secret> {
    match ending {
        Ending::Callback(r) => match &r.outcome {
            Outcome::Success { code, .. } => Some(code.clone()),
            Outcome::Tokens { .. } | Outcome::Error { .. } => None,
        },
        Ending::Page { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callback::parse_location;

    fn expect(yaml: &str) -> AuthorizeExpect {
        crate::diagnostics::parse_yaml("(test)", yaml).expect("expectation")
    }

    fn redirect(query: &str) -> Ending {
        let url = Url::parse("https://as.example/authorize").expect("url");
        let response =
            parse_location(&url, &format!("https://client.example/cb?{query}")).expect("parsed");
        Ending::Callback(Box::new(response))
    }

    fn page(status: u16) -> Ending {
        Ending::Page {
            status,
            title: Some("Error".into()),
            heading: None,
            message: None,
            holds: PageKind::Plain,
        }
    }

    #[test]
    fn a_code_where_a_code_is_expected_needs_no_control() {
        let d = decide(&expect("{}"), &redirect("code=abc&state=s"), None).expect("decided");
        assert!(d.form.is_none());
        assert!(matches!(d.then, Then::Checks { control: false }));
    }

    #[test]
    fn an_error_redirect_with_the_named_code_is_a_refusal_in_form() {
        let e = expect("{outcome: error-redirect, error: invalid_request}");
        let d = decide(&e, &redirect("error=invalid_request&state=s"), None).expect("decided");
        assert!(d.form.is_none());
        assert!(matches!(d.then, Then::Checks { control: true }));
    }

    #[test]
    fn another_error_code_is_kept_as_the_form_and_the_flow_still_controlled() {
        let e = expect("{outcome: error-redirect, error: invalid_request}");
        let d = decide(&e, &redirect("error=access_denied&state=s"), None).expect("decided");
        assert!(matches!(d.form, Some(Unmet::OAuthError { .. })), "{d:?}");
        assert!(matches!(d.then, Then::Checks { control: true }));
    }

    #[test]
    fn a_page_for_an_error_redirect_is_the_form_not_the_bypass() {
        let e = expect("{outcome: error-redirect}");
        let d = decide(&e, &page(400), None).expect("a refusal all the same");
        assert!(d.form.is_some(), "{d:?}");
        assert!(matches!(d.then, Then::Checks { control: true }));
    }

    #[test]
    fn a_code_where_a_refusal_is_expected_is_the_property_broken() {
        let e = expect("{outcome: error-redirect}");
        let halt = decide(&e, &redirect("code=abc&state=s"), None).expect_err("unmet");
        assert!(matches!(halt, Halt::Unmet { .. }), "{halt:?}");
    }

    #[test]
    fn a_refusal_that_passes_is_settled_after_the_control_flow() {
        let e = expect("{refusal_passes: the server may refuse, error: invalid_request}");
        let d = decide(&e, &page(400), None).expect("decided");
        assert!(
            d.form.is_some(),
            "a page where the error redirect was named"
        );
        let Then::AfterControl(Ok(Next::Pass(reason))) = d.then else {
            panic!("{:?}", d.then)
        };
        assert!(reason.starts_with("the server may refuse"), "{reason}");
    }

    #[test]
    fn a_provocation_that_got_a_code_is_not_judged() {
        let e = expect("{provocation: true}");
        let halt = decide(&e, &redirect("code=abc&state=s"), None).expect_err("not provoked");
        assert!(matches!(
            halt,
            Halt::Fault {
                fault: Fault::NotProvoked { .. }
            }
        ));
    }

    #[test]
    fn a_refusal_that_skips_is_unreached_after_the_control_flow() {
        let e = expect("{refusal_skips: nothing to judge}");
        let d = decide(&e, &redirect("error=invalid_request"), None).expect("decided");
        assert!(matches!(
            d.then,
            Then::AfterControl(Err(Halt::Fault {
                fault: Fault::Unreached { .. }
            }))
        ));
    }
}
