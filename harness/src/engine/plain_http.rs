//! The `plain_http` step: whether an endpoint that must require TLS also answers over plain
//! http (RFC 6749 §3.1 and §3.2, RFC 9126 §2, RFC 7009 §2, OpenID Connect Core §5.3).
//!
//! The same request goes first over HTTPS, the control whose answer is what serving the
//! endpoint looks like, then to the endpoint's plain-http twin. It carries nothing secret: a
//! made-up code, verifier or token and the client's id, never its credentials, so a server that
//! does serve plain http learns nothing a listener on the wire could use. Only an answer that
//! is the control's counts as served: a closed port, a TLS alert, a redirect to https, or the
//! "plain HTTP request sent to HTTPS port" page of a proxy is the endpoint requiring TLS.

use url::Url;

use super::context::{Ctx, plain_twin};
use super::exchange::send::{client_config, send, server_error};
use super::judge::{Next, StepResult};
use super::request as build;
use crate::outcome::{Fault, Halt, Unmet};
use crate::params::Params;
use crate::pkce::s256_of_text;
use crate::scenario::model::{PlainHttpStep, TlsEndpoint};
use crate::wire::{HttpMethod, Request, Response, without_query};

/// Runs the step in a fresh browser session: no cookie of an earlier login goes over plain
/// http, and the control and the twin are asked alike.
pub(super) async fn plain_http(ctx: &mut Ctx, step: &PlainHttpStep) -> StepResult {
    let fresh = ctx
        .http
        .fresh_session()
        .map_err(|error| Fault::Http { error })?;
    let kept = std::mem::replace(&mut ctx.http, fresh);
    let judged = both_ways(ctx, step.endpoint).await;
    ctx.http = kept;
    judged
}

async fn both_ways(ctx: &mut Ctx, endpoint: TlsEndpoint) -> StepResult {
    let url = endpoint_url(ctx, endpoint)?;
    if url.scheme() != "https" {
        return Err(Unmet::PlainHttp {
            endpoint: endpoint.name().to_owned(),
            url: without_query(&url),
            answer: "the target reaches it by an http URL".to_owned(),
        }
        .into());
    }
    let req = probe(ctx, endpoint, url.clone())?;
    let control = send(ctx, req.clone()).await?;
    if control.status >= 500 {
        return Err(server_error(ctx, control.status));
    }
    let served = Served::of(&control);
    let twin =
        plain_twin(&req.url).ok_or_else(|| Fault::harness("an https URL has no http twin"))?;
    let answer = match ctx.send_plain_twin(req).await {
        Err(e) => {
            ctx.notes.push(format!(
                "{} over plain http: no HTTP answer ({e})",
                without_query(&twin)
            ));
            return Ok(Next::Continue);
        }
        Ok(answer) => answer,
    };
    if upgrades(&answer, &twin) {
        ctx.notes.push(format!(
            "{} over plain http: HTTP {} to the same URL over https",
            without_query(&twin),
            answer.status
        ));
        return Ok(Next::Continue);
    }
    let plain = Served::of(&answer);
    if plain != served {
        ctx.notes.push(format!(
            "{} over plain http answers otherwise than over HTTPS: {plain}, not {served}",
            without_query(&twin)
        ));
        return Ok(Next::Continue);
    }
    Err(Unmet::PlainHttp {
        endpoint: endpoint.name().to_owned(),
        url: without_query(&twin),
        answer: served.to_string(),
    }
    .into())
}

/// The endpoint's URL; a target without it cannot be asked (the scenario's `requires` says
/// which capability it needs, so this is a harness or target-file fault).
fn endpoint_url(ctx: &Ctx, endpoint: TlsEndpoint) -> Result<Url, Fault> {
    let t = &ctx.target;
    let url = match endpoint {
        TlsEndpoint::Authorization => Some(t.authorization.clone()),
        TlsEndpoint::Token => Some(t.token.clone()),
        TlsEndpoint::Par => t.par.clone(),
        TlsEndpoint::Revocation => t.revocation.clone(),
        TlsEndpoint::Userinfo => t.userinfo.clone(),
    };
    url.ok_or_else(|| Fault::config(format!("the target has no {}", endpoint.name())))
}

/// The request sent both ways: what the endpoint takes, with made-up values where a real one
/// would be a secret, and no client credentials.
fn probe(ctx: &mut Ctx, endpoint: TlsEndpoint, url: Url) -> Result<Request, Halt> {
    let client = client_config(ctx, ctx.client)?;
    let made_up = ctx.random_string(43);
    ctx.secret(&made_up);
    let redirect_uri = client.redirect_uri.0.to_string();
    let mut params = Params::new();
    let authorization_request = |params: &mut Params, state: String| {
        params.push("response_type", "code");
        params.push("client_id", client.client_id.0.clone());
        params.push("redirect_uri", redirect_uri.clone());
        params.push("state", state);
        params.push("code_challenge", s256_of_text(&made_up));
        params.push("code_challenge_method", "S256");
    };
    Ok(match endpoint {
        TlsEndpoint::Authorization => {
            authorization_request(&mut params, ctx.random_string(22));
            let mut url = url;
            let query = match url.query() {
                Some(q) if !q.is_empty() => format!("{q}&{}", params.encode()),
                _ => params.encode(),
            };
            url.set_query(Some(&query));
            Request::get(url).in_browser()
        }
        TlsEndpoint::Par => {
            authorization_request(&mut params, ctx.random_string(22));
            Request::post_form(url, params.encode())
        }
        TlsEndpoint::Token => {
            params.push("grant_type", "authorization_code");
            params.push("code", made_up.clone());
            params.push("redirect_uri", redirect_uri.clone());
            params.push("code_verifier", made_up.clone());
            params.push("client_id", client.client_id.0.clone());
            Request::post_form(url, params.encode())
        }
        TlsEndpoint::Revocation => {
            params.push("token", made_up.clone());
            params.push("client_id", client.client_id.0.clone());
            Request::post_form(url, params.encode())
        }
        TlsEndpoint::Userinfo => {
            let mut req = build::bare(HttpMethod::Get, url);
            req.headers
                .push(("authorization".into(), format!("Bearer {made_up}")));
            req
        }
    })
}

/// A redirect to the same URL over https: the upgrade a server that requires TLS gives a
/// plain-http request.
fn upgrades(answer: &Response, twin: &Url) -> bool {
    let Some(to) = answer
        .is_redirect()
        .then(|| answer.header("location"))
        .flatten()
        .and_then(|l| twin.join(l).ok())
    else {
        return false;
    };
    to.scheme() == "https" && to.host() == twin.host() && to.path() == twin.path()
}

/// What an answer shows of the endpoint that gave it: a server that serves the endpoint over
/// plain http gives both requests the same.
#[derive(Debug, PartialEq, Eq)]
struct Served {
    status: u16,
    /// The media type, lower case, without parameters.
    media: Option<String>,
    /// The OAuth `error` of a JSON body.
    error: Option<String>,
    /// A redirect's target path, without scheme, host or query (a login page's, a client's).
    location: Option<String>,
    /// The scheme of a `WWW-Authenticate` challenge, lower case.
    challenge: Option<String>,
}

impl Served {
    fn of(r: &Response) -> Self {
        let base = Url::parse("http://answer.invalid/").ok();
        Self {
            status: r.status,
            media: r.header("content-type").map(|c| {
                c.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            }),
            error: r.oauth_error(),
            location: r
                .header("location")
                .and_then(|l| base.as_ref()?.join(l).ok())
                .map(|u| u.path().to_owned()),
            challenge: r.header("www-authenticate").map(|c| {
                c.split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches(',')
                    .to_ascii_lowercase()
            }),
        }
    }
}

impl std::fmt::Display for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(m) = &self.media {
            write!(f, ", {m}")?;
        }
        if let Some(e) = &self.error {
            write!(f, ", error {e}")?;
        }
        if let Some(l) = &self.location {
            write!(f, ", redirect to {l}")?;
        }
        if let Some(c) = &self.challenge {
            write!(f, ", a {c} challenge")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.to_owned(),
            truncated: false,
            invalid_utf8: false,
        }
    }

    #[test]
    fn the_twin_is_port_80_for_the_default_port_else_the_same_port() {
        let twin = |u: &str| plain_twin(&Url::parse(u).expect("url")).map(|t| t.to_string());
        assert_eq!(
            twin("https://as.example/token?x=1").as_deref(),
            Some("http://as.example/token?x=1")
        );
        assert_eq!(
            twin("https://127.0.0.1:8443/t").as_deref(),
            Some("http://127.0.0.1:8443/t")
        );
        assert_eq!(twin("http://as.example/t"), None);
    }

    #[test]
    fn a_redirect_to_the_same_url_over_https_is_an_upgrade_and_nothing_else_is() {
        let twin = Url::parse("http://as.example/authorize?client_id=c").expect("url");
        let to = |l: &str| answer(301, &[("location", l)], "");
        assert!(upgrades(
            &to("https://as.example/authorize?client_id=c"),
            &twin
        ));
        assert!(!upgrades(&to("https://as.example/login"), &twin));
        assert!(!upgrades(&to("http://as.example/authorize"), &twin));
        assert!(!upgrades(&to("https://evil.example/authorize"), &twin));
        assert!(!upgrades(&answer(200, &[], ""), &twin));
    }

    #[test]
    fn answers_are_alike_by_status_type_error_path_and_challenge() {
        let json = [("content-type", "application/json; charset=utf-8")];
        let grant = r#"{"error":"invalid_grant"}"#;
        assert_eq!(
            Served::of(&answer(400, &json, grant)),
            Served::of(&answer(400, &[("content-type", "Application/JSON")], grant))
        );
        assert_ne!(
            Served::of(&answer(400, &json, grant)),
            Served::of(&answer(400, &json, r#"{"error":"invalid_request"}"#))
        );
        // nginx's page for plain HTTP on its TLS port is not the endpoint's answer.
        assert_ne!(
            Served::of(&answer(400, &json, grant)),
            Served::of(&answer(400, &[("content-type", "text/html")], "<html>"))
        );
        // A login redirect is the same whatever scheme and host the Location spells.
        assert_eq!(
            Served::of(&answer(
                302,
                &[("location", "https://as.example/login?s=1")],
                ""
            )),
            Served::of(&answer(302, &[("location", "/login?s=2")], ""))
        );
        let shown = Served::of(&answer(
            401,
            &[("www-authenticate", "Bearer error=\"invalid_token\"")],
            "",
        ));
        assert_eq!(shown.to_string(), "HTTP 401, a bearer challenge");
    }
}
