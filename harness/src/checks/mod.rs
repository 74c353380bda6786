//! The judges: pure functions from what the server answered to `Ok(())` or the [`Unmet`]
//! expectation, one file per kind of expectation. They do no I/O and know nothing of the engine
//! that sends requests or of the reports that show verdicts, so each is unit-tested on its own.
//!
//! Order inside [`http`] is strongest first (status, then the OAuth error, then the rest): when
//! the status is wrong, the body's details are noise.

mod authorization;
pub mod claims;
pub mod client;
mod codes;
mod error_format;
mod headers;
pub mod id_token;
pub mod jarm;
mod json;
mod pages;
mod race;
mod status;

pub use authorization::{
    authorization_error, authorization_layered, authorization_outcome, callback_format,
    challenge_not_reflected, describe_ending, iss, redirect_query_kept, sent_to, state_echoed,
};
pub use codes::{Estimate, entropy};
pub use error_format::{TOKEN_ERRORS, token_error_format};
pub use headers::{auth_challenge, challenge_schemes, headers};
pub use json::json_field;
pub use pages::{consent_shown, no_page, no_reposting_redirect, page_headers, pages_not_frameable};
pub use race::race;
pub use status::{oauth_error, status};

use crate::outcome::{BodyShown, Halt, Unmet};
use crate::scenario::model::{HttpExpect, JsonMatch};
use crate::wire::Response;

/// Checks a response against an [`HttpExpect`]. `render` fills templates in expected values.
pub fn http(
    expect: &HttpExpect,
    resp: &Response,
    render: &dyn Fn(&str) -> String,
) -> Result<(), Unmet> {
    if let Some(statuses) = &expect.status {
        status(&statuses.0, resp)?;
    }
    if let Some(errors) = &expect.error {
        oauth_error(&errors.0, resp)?;
    }
    if expect.error_format {
        token_error_format(resp)?;
    }
    headers(&expect.headers, resp)?;
    if (200..300).contains(&resp.status) {
        headers(&expect.served_headers, resp)?;
    }
    if !expect.json.is_empty() {
        let body = resp.json().ok_or_else(|| Unmet::NotJson {
            body: body_shown(resp),
        })?;
        for (field, m) in &expect.json {
            json_field(&body, field, m, render)?;
        }
    }
    Ok(())
}

/// [`http`] with the two layers of an expected refusal apart: when the step expects a refusal
/// and the server did refuse (a 4xx, no access token, the expectation's `json` property held)
/// but with another status, error code, format or headers, the deviation is the refusal's form
/// ([`Halt::Form`]), not the bypass. Anything else unmet is [`Halt::Unmet`].
pub fn http_layered(
    expect: &HttpExpect,
    resp: &Response,
    render: &dyn Fn(&str) -> String,
) -> Result<(), Halt> {
    let Err(unmet) = http(expect, resp, render) else {
        return Ok(());
    };
    Err(refusal_form(expect, resp, render, unmet))
}

/// An unmet expectation of a refusal, as the layer it is in (see [`http_layered`]).
pub fn refusal_form(
    expect: &HttpExpect,
    resp: &Response,
    render: &dyn Fn(&str) -> String,
    unmet: Unmet,
) -> Halt {
    let refused = (400..500).contains(&resp.status)
        && resp
            .json()
            .is_none_or(|b| b.get("access_token").is_none_or(|t| !t.is_string()));
    // A body that is no JSON carries none of the fields a refusal must not carry.
    let property_held = match resp.json() {
        Some(_) => http(&expect.property(), resp, render).is_ok(),
        None => expect.json.values().all(|m| matches!(m, JsonMatch::Absent)),
    };
    if expect.expects_refusal() && refused && property_held {
        Halt::Form { unmet }
    } else {
        unmet.into()
    }
}

/// A body for a message: its start, and its size when the size cap cut it.
pub fn body_shown(resp: &Response) -> BodyShown {
    BodyShown {
        start: preview(&resp.body),
        invalid_utf8: resp.invalid_utf8,
        cut_at: resp.truncated.then_some(resp.body.len()),
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

#[cfg(test)]
pub(crate) mod test_support {
    use crate::wire::Response;

    /// A response with a status, headers and body, as a judge sees it.
    pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.to_owned(),
            truncated: false,
            invalid_utf8: false,
        }
    }

    /// A JSON response.
    pub fn json(status: u16, body: &str) -> Response {
        response(status, &[("content-type", "application/json")], body)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{json, response};
    use super::*;
    use crate::scenario::model::{HttpExpect, JsonMatch};

    /// RFC 6750 §2.3: a served answer to a query token carries Cache-Control private or
    /// no-store; a refusal, which serves nothing, is asked for none.
    #[test]
    fn served_headers_are_asked_of_a_served_answer_only() {
        let expect = HttpExpect {
            served_headers: [(
                "cache-control".to_owned(),
                crate::scenario::model::HeaderMatch::ContainsAny(vec![
                    "private".into(),
                    "no-store".into(),
                ]),
            )]
            .into(),
            ..HttpExpect::default()
        };
        let render = |s: &str| s.to_owned();
        assert!(http(&expect, &response(401, &[], ""), &render).is_ok());
        assert!(
            http(
                &expect,
                &response(200, &[("cache-control", "private, max-age=0")], "{}"),
                &render
            )
            .is_ok()
        );
        let cached = http(
            &expect,
            &response(200, &[("cache-control", "max-age=600")], "{}"),
            &render,
        );
        assert!(cached.is_err(), "a served answer a shared cache may keep");
        assert!(http(&expect, &response(200, &[], "{}"), &render).is_err());
    }

    fn expect(yaml: &str) -> HttpExpect {
        crate::diagnostics::parse_yaml("t.yaml", yaml).expect("valid expectation")
    }

    #[test]
    fn a_refusal_in_another_form_is_told_from_the_property() {
        let id = |s: &str| s.to_owned();
        let e = expect("{status: 400, error: invalid_grant, json: {id_token: absent}}");
        let form = |r: &Response| matches!(http_layered(&e, r, &id), Err(Halt::Form { .. }));
        let property = |r: &Response| matches!(http_layered(&e, r, &id), Err(Halt::Unmet { .. }));
        // Refused, with another status, code or body: the form.
        assert!(form(&json(403, r#"{"error":"access_denied"}"#)));
        assert!(form(&json(400, r#"{"error":"invalid_request"}"#)));
        assert!(form(&response(
            401,
            &[("content-type", "text/html")],
            "<h1>No</h1>"
        )));
        // Tokens issued, or the property's own field broken, or no refusal at all: the property.
        assert!(property(&json(200, r#"{"access_token":"x"}"#)));
        assert!(property(&json(403, r#"{"access_token":"x"}"#)));
        assert!(property(&json(403, r#"{"error":"x","id_token":"y"}"#)));
        assert!(property(&json(302, "")));
        // A 5xx is neither (the engine calls it the server failing before judging).
        assert!(property(&json(500, r#"{"error":"server_error"}"#)));
        assert_eq!(
            http_layered(&e, &json(400, r#"{"error":"invalid_grant"}"#), &id),
            Ok(())
        );
        // An expectation of success has no form layer.
        let ok = expect("{status: 200}");
        assert!(matches!(
            http_layered(&ok, &json(403, "{}"), &id),
            Err(Halt::Unmet { .. })
        ));
    }

    #[test]
    fn strongest_expectation_first() {
        let e = expect("{status: 400, error: invalid_grant}");
        let r = json(200, r#"{"access_token":"x"}"#);
        assert!(matches!(
            http(&e, &r, &|s| s.to_owned()),
            Err(Unmet::Status { got: 200, .. })
        ));
        let r = json(400, r#"{"error":"invalid_request"}"#);
        assert_eq!(
            http(&e, &r, &|s| s.to_owned()),
            Err(Unmet::OAuthError {
                expected: vec!["invalid_grant".into()],
                got: "invalid_request".into()
            })
        );
        assert_eq!(
            http(&e, &json(400, r#"{"error":"invalid_grant"}"#), &|s| s
                .to_owned()),
            Ok(())
        );
    }

    #[test]
    fn json_expectations_need_a_json_body() {
        let mut e = HttpExpect::default();
        e.json.insert("access_token".into(), JsonMatch::String);
        let r = response(200, &[], "<html>");
        assert_eq!(
            http(&e, &r, &|s| s.to_owned()).map_err(|u| u.to_string()),
            Err("expected a JSON body, got \"<html>\"".to_owned())
        );
    }

    #[test]
    fn bodies_are_shown_for_what_they_are() {
        let mut r = response(200, &[], &"x".repeat(130));
        assert!(body_shown(&r).to_string().ends_with("…\""));
        r.truncated = true;
        assert!(body_shown(&r).to_string().contains("130-byte cap"));
        r.invalid_utf8 = true;
        assert!(body_shown(&r).to_string().contains("not UTF-8"));
    }
}
