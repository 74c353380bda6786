//! The `steps` driver: for a login page that is a JavaScript application. The authorization
//! request is followed to the page it lands on; then the target file's API calls run in the
//! user agent's cookie jar, each rendered from the authorization request, that page's URL and
//! what earlier calls returned; then `resume` continues the authorization to the client.
//!
//! A landing page that is not 2xx is the server's answer to the authorization request (an error
//! page a scenario may expect), not a login to script: the drive ends there.

use std::collections::BTreeMap;

use url::Url;

use super::walk::{Stop, Walk, page_ending};
use crate::callback::Ending;
use crate::engine::context::Ctx;
use crate::outcome::{Fault, Halt, LoginFault};
use crate::target::{ApiBody, ApiMethod, ApiRequest, Extractor, ScriptLogin, Source, Template};
use crate::wire::{Body, HttpMethod, Request, Response, without_query};

/// What templates are rendered from.
struct Known<'a> {
    authorize: &'a Url,
    landing: &'a Url,
    extracted: BTreeMap<String, String>,
}

impl Known<'_> {
    fn value(&self, s: &Source) -> Result<String, ValueError> {
        let param = |u: &Url, name: &str| {
            u.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let authorize = |name: &str| {
            param(self.authorize, name).ok_or_else(|| ValueError::NoAuthorizeParam(name.to_owned()))
        };
        match s {
            Source::ClientId => authorize("client_id"),
            Source::Scope => Ok(param(self.authorize, "scope").unwrap_or_default()),
            Source::RedirectUri => authorize("redirect_uri"),
            Source::State => authorize("state"),
            Source::Url => Ok(self.landing.to_string()),
            Source::Authorize(name) => authorize(name),
            Source::Query(name) => {
                param(self.landing, name).ok_or_else(|| ValueError::NoLandingParam {
                    name: name.clone(),
                    page: without_query(self.landing),
                })
            }
            Source::Extracted(name) => self
                .extracted
                .get(name)
                .cloned()
                .ok_or_else(|| ValueError::NotExtracted(name.clone())),
        }
    }

    fn render(&self, t: &Template) -> Result<String, ValueError> {
        t.render(&mut |s| self.value(s))
    }
}

pub(super) async fn drive(
    ctx: &mut Ctx,
    walk: &mut Walk<'_>,
    url: Url,
    script: &ScriptLogin,
) -> Result<Ending, Halt> {
    let authorize = url.clone();
    let (landing, resp, page) = match walk
        .follow(ctx, Request::get(url).in_browser(), None)
        .await?
    {
        Stop::Callback(r) => return Ok(Ending::Callback(r)),
        Stop::Page(shown) => (shown.url, shown.resp, shown.page),
    };
    if !(200..300).contains(&resp.status) {
        return Ok(page_ending(&resp, &page));
    }
    walk.pages.push(resp);
    let base = base_url(ctx);
    let mut known = Known {
        authorize: &authorize,
        landing: &landing,
        extracted: BTreeMap::new(),
    };
    for (i, step) in script.requests.iter().enumerate() {
        let label = match &step.name {
            Some(n) => format!("login step {} ({n})", i + 1),
            None => format!("login step {}", i + 1),
        };
        let value_fault = |e: ValueError| LoginFault::StepValue {
            step: label.clone(),
            reason: e.to_string(),
        };
        let req = request(&known, &base, step).map_err(value_fault)?;
        walk.used += 1;
        let (method, shown) = (req.method.to_string(), without_query(&req.url));
        let req_url = req.url.clone();
        let resp = ctx.send(req).await.map_err(|error| Fault::Http { error })?;
        let ok = if step.expect_status.is_empty() {
            (200..400).contains(&resp.status)
        } else {
            step.expect_status.contains(&resp.status)
        };
        if !ok {
            return Err(LoginFault::StepStatus {
                step: label,
                method,
                url: shown,
                status: resp.status,
                expected: expected(&step.expect_status),
                answer: preview(&resp.body),
            }
            .into());
        }
        let mut names = Vec::new();
        for (name, how) in &step.extract {
            let value = extract(how, &resp, &req_url).map_err(&value_fault)?;
            ctx.test_value(&value);
            known.extracted.insert(name.clone(), value);
            names.push(name.as_str());
        }
        ctx.login_trail.push(format!(
            "{label}: {method} {shown} → {}{}",
            resp.status,
            if names.is_empty() {
                String::new()
            } else {
                format!(", took {}", names.join(", "))
            }
        ));
    }
    let resume_fault = |e: ValueError| LoginFault::StepValue {
        step: "login resume".into(),
        reason: e.to_string(),
    };
    let mut next = join(
        &base,
        &known.render(&script.resume.url).map_err(resume_fault)?,
    )
    .map_err(resume_fault)?;
    if !script.resume.params.is_empty() {
        let mut params: Vec<(String, String)> = next
            .query_pairs()
            .filter(|(k, _)| !script.resume.params.contains_key(k.as_ref()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        for (k, t) in &script.resume.params {
            params.push((k.clone(), known.render(t).map_err(resume_fault)?));
        }
        next.query_pairs_mut().clear().extend_pairs(params);
    }
    ctx.login_trail
        .push(format!("login resume: GET {}", without_query(&next)));
    match walk
        .follow(ctx, Request::get(next.clone()).in_browser(), None)
        .await?
    {
        Stop::Callback(r) => Ok(Ending::Callback(r)),
        Stop::Page(shown) if !(200..300).contains(&shown.resp.status) => {
            Ok(page_ending(&shown.resp, &shown.page))
        }
        Stop::Page(shown) => Err(LoginFault::ResumedToPage {
            url: without_query(&shown.url),
            status: shown.resp.status,
            title: shown.page.title.unwrap_or_default(),
        }
        .into()),
    }
}

/// What relative step URLs resolve against: the issuer as a directory, else the authorization
/// endpoint.
fn base_url(ctx: &Ctx) -> Url {
    ctx.target
        .issuer
        .as_deref()
        .and_then(|i| Url::parse(&format!("{}/", i.trim_end_matches('/'))).ok())
        .unwrap_or_else(|| ctx.target.authorization.clone())
}

fn join(base: &Url, s: &str) -> Result<Url, ValueError> {
    base.join(s).map_err(|source| ValueError::NotUrl {
        url: s.to_owned(),
        source,
    })
}

fn request(known: &Known, base: &Url, step: &ApiRequest) -> Result<Request, ValueError> {
    let url = join(base, &known.render(&step.url)?)?;
    let headers = step
        .headers
        .iter()
        .map(|(k, t)| Ok((k.clone(), known.render(t)?)))
        .collect::<Result<Vec<_>, ValueError>>()?;
    let body = match &step.body {
        Some(ApiBody::Form(fields)) => {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, t) in fields {
                ser.append_pair(k, &known.render(t)?);
            }
            Some(Body::Form(ser.finish()))
        }
        Some(ApiBody::Json(doc)) => Some(Body::Json(doc.render(&mut |t| known.render(t))?)),
        None => None,
    };
    Ok(Request {
        channel: crate::wire::Channel::Front,
        method: match step.method {
            ApiMethod::Get => HttpMethod::Get,
            ApiMethod::Post => HttpMethod::Post,
            ApiMethod::Put => HttpMethod::Put,
            ApiMethod::Patch => HttpMethod::Patch,
            ApiMethod::Delete => HttpMethod::Delete,
        },
        url,
        headers,
        identity: None,
        body,
    })
}

/// A value from a step's response.
fn extract(how: &Extractor, resp: &Response, url: &Url) -> Result<String, ValueError> {
    let missing = |what: String| ValueError::NotInAnswer {
        what,
        answer: preview(&resp.body),
    };
    match how {
        Extractor::Json(pointer) => {
            let doc = resp
                .json()
                .ok_or_else(|| missing("the response is not JSON".into()))?;
            match doc.pointer(pointer) {
                Some(serde_json::Value::String(s)) => Ok(s.clone()),
                Some(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => {
                    Ok(v.to_string())
                }
                Some(_) => Err(missing(format!("{pointer} is not a string or number"))),
                None => Err(missing(format!("no {pointer} in the response"))),
            }
        }
        Extractor::Header(name) => {
            resp.header(name)
                .map(str::to_owned)
                .ok_or_else(|| ValueError::NoHeader {
                    name: name.clone(),
                    status: resp.status,
                })
        }
        Extractor::Query(name) => {
            let from = match resp.header("location") {
                Some(loc) => url.join(loc).map_err(|source| ValueError::NotUrl {
                    url: loc.to_owned(),
                    source,
                })?,
                None => url.clone(),
            };
            from.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .ok_or_else(|| ValueError::NoParam {
                    url: without_query(&from),
                    name: name.clone(),
                })
        }
        Extractor::Regex(p) => {
            p.0.captures(&resp.body)
                .and_then(|c| c.get(1).or_else(|| c.get(0)))
                .map(|m| m.as_str().to_owned())
                .ok_or_else(|| missing(format!("/{}/ does not match the body", p.0.as_str())))
        }
    }
}

/// Why a login step's value could not be had: the step is a login fault naming it.
#[derive(Debug, thiserror::Error)]
enum ValueError {
    /// `{{authorize:NAME}}` (or a named value) the authorization request lacks.
    #[error("the authorization request has no {0} parameter")]
    NoAuthorizeParam(String),
    /// `{{query:NAME}}` the login page's URL lacks.
    #[error("{{{{query:{name}}}}}: the login page {page} has no query parameter {name}")]
    NoLandingParam {
        /// The parameter.
        name: String,
        /// The login page, without query.
        page: String,
    },
    /// `{{NAME}}` no earlier step extracted.
    #[error("{{{{{0}}}}} was not extracted")]
    NotExtracted(String),
    /// A URL the step made, or a `Location` it got, that does not parse.
    #[error("{url:?} is not a URL: {source}")]
    NotUrl {
        /// The text.
        url: String,
        /// What the URL parser said.
        source: url::ParseError,
    },
    /// What an `extract` looks for is not in the answer.
    #[error("{what}; it answered {answer}")]
    NotInAnswer {
        /// What is missing.
        what: String,
        /// The answer's start.
        answer: String,
    },
    /// A header an `extract` names.
    #[error("no {name} header in the response (HTTP {status})")]
    NoHeader {
        /// The header.
        name: String,
        /// The answer's status.
        status: u16,
    },
    /// A query parameter an `extract` names.
    #[error("{url} has no query parameter {name}")]
    NoParam {
        /// Where it was looked for, without query.
        url: String,
        /// The parameter.
        name: String,
    },
}

fn expected(statuses: &[u16]) -> String {
    if statuses.is_empty() {
        "2xx or 3xx".into()
    } else {
        statuses
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

/// The start of a body, one line, for a message.
fn preview(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = one_line.chars().take(160).collect();
    if cut.is_empty() {
        "nothing".into()
    } else if cut.len() < one_line.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::response;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    #[test]
    fn extractors_read_json_headers_locations_and_bodies() {
        let api = url("https://as.example/api/session?x=1");
        let json = response(
            200,
            &[("x-csrf", "h1")],
            r#"{"a":{"b":["t1", 7]},"ok":true}"#,
        );
        let get = |e: Extractor, r: &Response| extract(&e, r, &api).map_err(|e| e.to_string());
        assert_eq!(
            get(Extractor::Json("/a/b/0".into()), &json),
            Ok("t1".into())
        );
        assert_eq!(get(Extractor::Json("/a/b/1".into()), &json), Ok("7".into()));
        assert!(
            get(Extractor::Json("/a".into()), &json)
                .is_err_and(|e| e.contains("not a string or number"))
        );
        assert!(get(Extractor::Json("/nope".into()), &json).is_err_and(|e| e.contains("no /nope")));
        assert_eq!(
            get(Extractor::Header("X-CSRF".into()), &json),
            Ok("h1".into())
        );
        let moved = response(303, &[("location", "/next?ticket=t%202")], "");
        assert_eq!(
            get(Extractor::Query("ticket".into()), &moved),
            Ok("t 2".into())
        );
        assert_eq!(get(Extractor::Query("x".into()), &json), Ok("1".into()));
        let page = response(200, &[], r#"<input name="csrf" value="abc">"#);
        let re = |p: &str| {
            Extractor::Regex(crate::target::Pattern(
                regex_lite::Regex::new(p).expect("re"),
            ))
        };
        assert_eq!(get(re(r#"value="([^"]+)""#), &page), Ok("abc".into()));
        assert_eq!(get(re("csrf"), &page), Ok("csrf".into()));
        assert!(get(re("nothing"), &page).is_err_and(|e| e.contains("does not match")));
        let html = response(200, &[], "<html>");
        assert!(get(Extractor::Json("/a".into()), &html).is_err_and(|e| e.contains("not JSON")));
    }

    #[test]
    fn templates_draw_on_the_request_the_landing_page_and_earlier_steps() {
        let authorize = url("https://as.example/authorize?client_id=spa&state=s1&scope=openid%20x");
        let landing = url("https://as.example/app/login?tx=42&return_to=%2Fcontinue");
        let known = Known {
            authorize: &authorize,
            landing: &landing,
            extracted: BTreeMap::from([("ticket".to_owned(), "t9".to_owned())]),
        };
        let render = |s: &str| {
            known
                .render(&Template::parse(s).expect("template"))
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            render("/c/{{client_id}}?s={{state}}&q={{scope}}&tx={{query:tx}}&t={{ticket}}"),
            Ok("/c/spa?s=s1&q=openid x&tx=42&t=t9".into())
        );
        assert_eq!(render("{{query:return_to}}"), Ok("/continue".into()));
        assert!(render("{{query:nope}}").is_err_and(|e| e.contains("has no query parameter nope")));
        assert!(
            render("{{redirect_uri}}")
                .is_err_and(|e| e.contains("the authorization request has no redirect_uri"))
        );
    }
}
