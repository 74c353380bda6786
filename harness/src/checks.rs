//! Expectation checks. Each returns the first unmet expectation as one line that says what was
//! expected and what came, so a verdict's reason reads on its own.
//!
//! Order is strongest first (status, then the OAuth error, then the rest): when the status is
//! wrong, the body's details are noise.

use std::collections::BTreeMap;

use crate::callback::{Finding, bad_charset};
use crate::engine::http::Response;
use crate::scenario::model::{HeaderMatch, HttpExpect, JsonMatch};

/// RFC 6749 §5.2's error codes for the token endpoint.
pub const TOKEN_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
];

/// Checks a response against an [`HttpExpect`]. `render` fills templates in expected values.
pub fn http(
    expect: &HttpExpect,
    resp: &Response,
    render: &dyn Fn(&str) -> String,
) -> Result<(), String> {
    if let Some(statuses) = &expect.status
        && !statuses.0.contains(&resp.status)
    {
        return Err(format!(
            "expected HTTP {}, got {}{}",
            list(&statuses.0),
            resp.status,
            error_hint(resp)
        ));
    }
    if let Some(errors) = &expect.error {
        let got = resp
            .json()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned));
        match got {
            Some(e) if errors.0.contains(&e) => {}
            Some(e) => return Err(format!("expected error {}, got error {e}", list(&errors.0))),
            None => {
                return Err(format!(
                    "expected a JSON error body with error {}, got {} body {}",
                    list(&errors.0),
                    resp.header("content-type").unwrap_or("no content-type"),
                    body_shown(resp)
                ));
            }
        }
    }
    if expect.error_format {
        token_error_format(resp)?;
    }
    headers(&expect.headers, resp)?;
    if !expect.json.is_empty() {
        let body = resp
            .json()
            .ok_or_else(|| format!("expected a JSON body, got {}", body_shown(resp)))?;
        for (field, m) in &expect.json {
            json_field(&body, field, m, render)?;
        }
    }
    Ok(())
}

/// A body for a message: its start, and its size when the size cap cut it.
fn body_shown(resp: &Response) -> String {
    if resp.invalid_utf8 {
        format!(
            "a body that is not UTF-8 (RFC 8259 §8.1), starting {:?}",
            preview(&resp.body)
        )
    } else if resp.truncated {
        format!(
            "a body cut at the {}-byte cap (--max-body), starting {:?}",
            resp.body.len(),
            preview(&resp.body)
        )
    } else {
        format!("{:?}", preview(&resp.body))
    }
}

/// RFC 6749 §5.2: JSON, 400 (or 401 for `invalid_client`), a registered `error`, and the
/// allowed characters in `error`, `error_description` and `error_uri`.
pub fn token_error_format(resp: &Response) -> Result<(), String> {
    let ct = resp.header("content-type").unwrap_or("");
    if !ct.to_ascii_lowercase().starts_with("application/json") {
        return Err(format!(
            "error response has Content-Type {ct:?}, RFC 6749 §5.2 requires application/json"
        ));
    }
    let body = resp
        .json()
        .ok_or_else(|| format!("error body is not JSON: {}", body_shown(resp)))?;
    let error = body
        .get("error")
        .and_then(|e| e.as_str())
        .ok_or("error body has no string \"error\" member")?;
    if !TOKEN_ERRORS.contains(&error) {
        return Err(format!(
            "error code {error:?} is not one of RFC 6749 §5.2's: {}",
            TOKEN_ERRORS.join(", ")
        ));
    }
    let allowed_status: &[u16] = if error == "invalid_client" {
        &[400, 401]
    } else {
        &[400]
    };
    if !allowed_status.contains(&resp.status) {
        return Err(format!(
            "error {error} came with HTTP {}, RFC 6749 §5.2 says {}",
            resp.status,
            list(allowed_status)
        ));
    }
    for (field, space) in [("error_description", true), ("error_uri", false)] {
        if let Some(v) = body.get(field).and_then(|v| v.as_str())
            && let Some(i) = bad_charset(v, space)
        {
            return Err(format!(
                "{field} has a character outside RFC 6749 §5.2's set at byte {i}: {:?}",
                v.as_bytes()[i] as char
            ));
        }
    }
    Ok(())
}

/// Header expectations.
pub fn headers(expected: &BTreeMap<String, HeaderMatch>, resp: &Response) -> Result<(), String> {
    for (name, m) in expected {
        let values: Vec<&str> = resp.header_all(name).collect();
        let ok = match m {
            HeaderMatch::Present => !values.is_empty(),
            HeaderMatch::Absent => values.is_empty(),
            HeaderMatch::Contains(s) => values
                .iter()
                .any(|v| v.to_ascii_lowercase().contains(&s.to_ascii_lowercase())),
            HeaderMatch::ContainsAny(list) => values.iter().any(|v| {
                list.iter()
                    .any(|s| v.to_ascii_lowercase().contains(&s.to_ascii_lowercase()))
            }),
        };
        if !ok {
            let got = if values.is_empty() {
                "it is absent".to_owned()
            } else {
                format!("got {:?}", values.join(", "))
            };
            return Err(format!(
                "expected header {name} {}, {got}",
                describe_header(m)
            ));
        }
    }
    Ok(())
}

fn describe_header(m: &HeaderMatch) -> String {
    match m {
        HeaderMatch::Present => "present".into(),
        HeaderMatch::Absent => "absent".into(),
        HeaderMatch::Contains(s) => format!("to contain {s:?}"),
        HeaderMatch::ContainsAny(l) => format!("to contain one of {l:?}"),
    }
}

fn json_field(
    body: &serde_json::Value,
    field: &str,
    m: &JsonMatch,
    render: &dyn Fn(&str) -> String,
) -> Result<(), String> {
    let value = body.get(field).filter(|v| !v.is_null());
    let rendered = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => serde_json::Value::String(render(s)),
        other => other.clone(),
    };
    let ok = match m {
        JsonMatch::Present => value.is_some(),
        JsonMatch::Absent => value.is_none(),
        JsonMatch::String => value
            .and_then(|v| v.as_str())
            .is_some_and(|s| !s.is_empty()),
        JsonMatch::Equals(want) => value == Some(&rendered(want)),
        JsonMatch::Contains(want) => value
            .and_then(|v| v.as_array())
            .is_some_and(|a| a.contains(&rendered(want))),
        JsonMatch::NotContains(want) => !value
            .and_then(|v| v.as_array())
            .is_some_and(|a| a.contains(&rendered(want))),
    };
    if ok {
        return Ok(());
    }
    let got = value.map_or("it is absent".to_owned(), |v| format!("got {v}"));
    let what = match m {
        JsonMatch::Present => "present".to_owned(),
        JsonMatch::Absent => "absent".to_owned(),
        JsonMatch::String => "a non-empty string".to_owned(),
        JsonMatch::Equals(w) => format!("= {}", rendered(w)),
        JsonMatch::Contains(w) => format!("an array containing {}", rendered(w)),
        JsonMatch::NotContains(w) => format!("not to contain {}", rendered(w)),
    };
    Err(format!("expected JSON field {field} {what}, {got}"))
}

/// RFC 6749 §4.1.2.1 and §3.1 findings of an authorization error response, as one line.
pub fn authorization_error_format(findings: &[Finding]) -> Result<(), String> {
    match findings.first() {
        None => Ok(()),
        Some(Finding::RepeatedParameter(n)) => Err(format!(
            "the response repeats parameter {n} (RFC 6749 §3.1)"
        )),
        Some(Finding::UnregisteredErrorCode(e)) => Err(format!(
            "error code {e:?} is not registered for the authorization endpoint (RFC 6749 §4.1.2.1)"
        )),
        Some(Finding::BadCharset { param, index }) => Err(format!(
            "{param} has a character outside RFC 6749 §4.1.2.1's set at byte {index}"
        )),
        Some(Finding::BothCodeAndError) => Err("the response carries both code and error".into()),
        Some(Finding::QueryAndFragment) => {
            Err("response parameters appear in both query and fragment".into())
        }
    }
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

fn error_hint(resp: &Response) -> String {
    match resp
        .json()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
    {
        Some(e) => format!(" (error {e})"),
        None => String::new(),
    }
}

/// The first 120 characters of a body, for messages.
pub fn preview(body: &str) -> String {
    let mut s: String = body.chars().take(120).collect();
    if body.chars().count() > 120 {
        s.push('…');
    }
    s
}
