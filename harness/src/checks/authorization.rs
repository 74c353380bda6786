//! The authorization response: how the request ended, and what the redirect to the client
//! carries (RFC 6749 §4.1.2, RFC 9207, RFC 7636 §4.4).

use super::preview;
use crate::callback::{AuthorizationResponse, Ending, Finding, Outcome};
use crate::outcome::{AuthEnding, Halt, Unmet};
use crate::scenario::model::AuthOutcome;
use crate::wire::{same_endpoint, without_query};
use url::Url;

/// The ending in words a message can carry (no query, so no code or state).
pub fn describe_ending(ending: &Ending) -> AuthEnding {
    match ending {
        Ending::Callback(r) => match &r.outcome {
            Outcome::Success { .. } => AuthEnding::Code {
                target: without_query(&r.target),
            },
            Outcome::Tokens { issued, .. } => AuthEnding::Tokens {
                target: without_query(&r.target),
                issued: issued.clone(),
            },
            Outcome::Error {
                error,
                error_description,
                ..
            } => AuthEnding::Error {
                target: without_query(&r.target),
                error: error.clone(),
                description: error_description.as_deref().map(preview),
            },
        },
        Ending::Page {
            status,
            title,
            heading,
            message,
            holds,
        } => AuthEnding::Page {
            status: *status,
            title: title.clone(),
            heading: heading.clone().filter(|h| Some(h) != title.as_ref()),
            message: message.as_deref().map(preview),
            holds: *holds,
        },
    }
}

/// The request ended as `expected` says: a code, an error redirect, an error page, or either
/// kind of refusal.
pub fn authorization_outcome(expected: AuthOutcome, ending: &Ending) -> Result<(), Unmet> {
    let ok = match (expected, ending) {
        (AuthOutcome::Code, Ending::Callback(r)) => matches!(r.outcome, Outcome::Success { .. }),
        (AuthOutcome::ErrorRedirect | AuthOutcome::Refused, Ending::Callback(r)) => {
            matches!(r.outcome, Outcome::Error { .. })
        }
        (AuthOutcome::Refused | AuthOutcome::ErrorPage, Ending::Page { .. }) => true,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Unmet::Authorization {
            expected,
            got: describe_ending(ending),
        })
    }
}

/// [`authorization_outcome`] with the two layers of an expected refusal apart: an error page
/// (not a server failure) where an error redirect was expected refused the request all the
/// same, so no code was issued; what deviates is the form of the refusal ([`Halt::Form`]).
/// So is an error sent to `registered`, the client's registered redirect URI, given when the
/// request named another one (or none), where a page was expected: the server checked the URI
/// it was given and refused it, and told the client instead of the resource owner. A code
/// where a refusal was expected, or an error sent where only a page is safe (the URI the
/// request named, unverified: an open redirector), is the property ([`Halt::Unmet`]).
pub fn authorization_layered(
    expected: AuthOutcome,
    ending: &Ending,
    registered: Option<&Url>,
) -> Result<(), Halt> {
    authorization_outcome(expected, ending).map_err(|unmet| match ending {
        Ending::Page { status, .. } if expected == AuthOutcome::ErrorRedirect && *status < 500 => {
            Halt::Form { unmet }
        }
        Ending::Callback(r)
            if expected == AuthOutcome::ErrorPage
                && registered.is_some_and(|u| error_sent_to(u, r)) =>
        {
            Halt::Form { unmet }
        }
        _ => unmet.into(),
    })
}

/// The parameters an error response adds to a redirect URI (RFC 6749 §4.1.2.1, RFC 9207).
const ERROR_RESPONSE: [&str; 5] = ["error", "error_description", "error_uri", "state", "iss"];

/// `r` is an error response sent to `uri` exactly: its scheme, host, port and path, and its
/// query with nothing but the error response's parameters added.
fn error_sent_to(uri: &Url, r: &AuthorizationResponse) -> bool {
    let t = &r.target;
    let added: Vec<(String, String)> = t
        .query_pairs()
        .filter(|(k, _)| !ERROR_RESPONSE.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let own: Vec<(String, String)> = uri
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    matches!(r.outcome, Outcome::Error { .. }) && same_endpoint(t, uri) && added == own
}

/// A redirect to a client went to `intended` (same scheme, host, port and path), the flow's
/// own redirect URI: a code or an error sent to a `redirect_uri` set beside a request object
/// reaches whoever wrote that one. A page sent nobody anywhere.
pub fn sent_to(intended: &Url, ending: &Ending) -> Result<(), Unmet> {
    let Ending::Callback(r) = ending else {
        return Ok(());
    };
    if same_endpoint(&r.target, intended) {
        return Ok(());
    }
    Err(Unmet::SentElsewhere {
        intended: without_query(intended),
        got: describe_ending(ending),
    })
}

/// An error redirect carries one of the `expected` error codes (a code response has none to
/// judge).
pub fn authorization_error(expected: &[String], r: &AuthorizationResponse) -> Result<(), Unmet> {
    match &r.outcome {
        Outcome::Error { error, .. } if !expected.contains(error) => Err(Unmet::OAuthError {
            expected: expected.to_vec(),
            got: error.clone(),
        }),
        _ => Ok(()),
    }
}

/// RFC 6749 §4.1.2: `state` comes back exactly as sent (and absent when none was sent).
pub fn state_echoed(sent: Option<&str>, r: &AuthorizationResponse) -> Result<(), Unmet> {
    if r.outcome.state() == sent {
        return Ok(());
    }
    Err(Unmet::State {
        sent: sent.map(str::to_owned),
        got: r.outcome.state().map(str::to_owned),
    })
}

/// RFC 9207 §2: `iss` is present and equal to the issuer.
pub fn iss(issuer: &str, r: &AuthorizationResponse) -> Result<(), Unmet> {
    match r.outcome.iss() {
        Some(i) if i == issuer => Ok(()),
        got => Err(Unmet::Iss {
            issuer: issuer.to_owned(),
            got: got.map(str::to_owned),
        }),
    }
}

/// RFC 7636 §4.4: the challenge is not sent back in any response parameter (nor in a JARM
/// response's claims).
pub fn challenge_not_reflected(
    challenge: Option<&str>,
    r: &AuthorizationResponse,
) -> Result<(), Unmet> {
    let Some(c) = challenge.filter(|c| !c.is_empty()) else {
        return Ok(());
    };
    match r.meaning().iter().find(|(_, v)| v.contains(c)) {
        Some((name, _)) => Err(Unmet::ChallengeReflected {
            param: name.to_owned(),
        }),
        None => Ok(()),
    }
}

/// RFC 6749 §3.1.2: the client was sent to `registered` with its query kept, every pair of it
/// beside the response parameters (which the response's `target` leaves out).
pub fn redirect_query_kept(registered: &Url, r: &AuthorizationResponse) -> Result<(), Unmet> {
    let got: Vec<(String, String)> = r.target.query_pairs().into_owned().collect();
    let lost: Vec<String> = registered
        .query_pairs()
        .into_owned()
        .filter(|pair| !got.contains(pair))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if lost.is_empty() {
        return Ok(());
    }
    Err(Unmet::RedirectQueryLost {
        lost,
        got: r.target.query().unwrap_or_default().to_owned(),
    })
}

/// RFC 6749 §4.1.2.1 and §3.1: the first format finding of the response, if any.
pub fn callback_format(findings: &[Finding]) -> Result<(), Unmet> {
    match findings.first() {
        None => Ok(()),
        Some(finding) => Err(Unmet::CallbackFormat {
            finding: finding.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callback::parse_location;

    fn callback(location: &str) -> AuthorizationResponse {
        let request = url::Url::parse("https://as.example/authorize").expect("url");
        parse_location(&request, location).expect("parses")
    }

    fn ending(location: &str) -> Ending {
        Ending::Callback(Box::new(callback(location)))
    }

    fn page() -> Ending {
        Ending::Page {
            status: 400,
            title: Some("Bad request".into()),
            heading: None,
            message: None,
            holds: crate::forms::PageKind::Plain,
        }
    }

    #[test]
    fn only_a_redirect_to_the_flows_own_uri_is_sent_to_it() {
        let intended = Url::parse("https://c.example/cb").expect("url");
        assert_eq!(
            sent_to(&intended, &ending("https://c.example/cb?code=abc")),
            Ok(())
        );
        assert_eq!(
            sent_to(
                &intended,
                &ending("https://c.example/cb?error=invalid_request")
            ),
            Ok(())
        );
        assert_eq!(
            sent_to(&intended, &page()),
            Ok(()),
            "a page sent nobody anywhere"
        );
        for elsewhere in [
            "https://evil.example/callback?code=abc",
            "https://c.example/other?error=invalid_request",
            "https://c.example:8443/cb?code=abc",
        ] {
            let unmet = sent_to(&intended, &ending(elsewhere)).expect_err(elsewhere);
            let text = unmet.to_string();
            assert!(text.contains("https://c.example/cb"), "{text}");
            assert!(!text.contains("abc"), "no code in the message: {text}");
        }
    }

    #[test]
    fn a_registered_query_must_come_back_beside_the_code() {
        let registered = Url::parse("https://c.example/cb?dummy=lorem").expect("url");
        let kept = callback("https://c.example/cb?dummy=lorem&code=abc&state=s");
        assert_eq!(redirect_query_kept(&registered, &kept), Ok(()));
        let changed = callback("https://c.example/cb?dummy=ipsum&code=secret-code&state=s");
        let unmet = redirect_query_kept(&registered, &changed).expect_err("the query changed");
        assert_eq!(
            unmet,
            Unmet::RedirectQueryLost {
                lost: vec!["dummy=lorem".into()],
                got: "dummy=ipsum".into(),
            }
        );
        assert!(
            !unmet.to_string().contains("secret-code"),
            "the message names parameters, never the code: {unmet}"
        );
    }

    #[test]
    fn outcomes_that_match_pass() {
        let code = ending("https://c.example/cb?code=abc&state=s");
        let error = ending("https://c.example/cb?error=invalid_request&state=s");
        assert_eq!(authorization_outcome(AuthOutcome::Code, &code), Ok(()));
        assert_eq!(
            authorization_outcome(AuthOutcome::ErrorRedirect, &error),
            Ok(())
        );
        assert_eq!(authorization_outcome(AuthOutcome::Refused, &error), Ok(()));
        assert_eq!(authorization_outcome(AuthOutcome::Refused, &page()), Ok(()));
        assert_eq!(
            authorization_outcome(AuthOutcome::ErrorPage, &page()),
            Ok(())
        );
    }

    #[test]
    fn outcomes_that_differ_are_unmet_with_what_came() {
        let code = ending("https://c.example/cb?code=abc&state=s");
        let error = ending("https://c.example/cb?error=access_denied&error_description=no+way");
        let unmet = |o, e: &Ending| authorization_outcome(o, e).expect_err("unmet").to_string();
        assert_eq!(
            unmet(AuthOutcome::Refused, &code),
            "expected a refusal (error redirect or error page), got a redirect to https://c.example/cb with a code"
        );
        assert_eq!(
            unmet(AuthOutcome::Code, &error),
            "expected a redirect to the client with a code, got a redirect to https://c.example/cb with error=access_denied (no way)"
        );
        assert_eq!(
            unmet(AuthOutcome::ErrorRedirect, &page()),
            "expected a redirect to the client with an error, got a page (HTTP 400, \"Bad request\")"
        );
        assert!(
            unmet(AuthOutcome::ErrorPage, &error)
                .starts_with("expected an error page and no redirect")
        );
    }

    #[test]
    fn a_page_for_an_error_redirect_is_the_form_a_code_or_a_redirect_the_property() {
        let layer = |o, e: &Ending| {
            authorization_layered(o, e, None).map_err(|h| matches!(h, Halt::Form { .. }))
        };
        assert_eq!(layer(AuthOutcome::ErrorRedirect, &page()), Err(true));
        let code = ending("https://c.example/cb?code=abc");
        assert_eq!(layer(AuthOutcome::ErrorRedirect, &code), Err(false));
        // Where only a page is safe (an unverified redirect URI), a redirect is the property.
        let error = ending("https://c.example/cb?error=invalid_request");
        assert_eq!(layer(AuthOutcome::ErrorPage, &error), Err(false));
        let failed = Ending::Page {
            status: 500,
            title: None,
            heading: None,
            message: None,
            holds: crate::forms::PageKind::Plain,
        };
        assert_eq!(layer(AuthOutcome::ErrorRedirect, &failed), Err(false));
        assert_eq!(layer(AuthOutcome::Refused, &page()), Ok(()));
    }

    /// A request that named another redirect URI than the registered one, answered with an
    /// error sent to the registered one, was refused safely: the form. Sent anywhere else (the
    /// URI it named, the registered one with a query of the request's), or with a code, it is
    /// the property.
    #[test]
    fn an_error_to_the_registered_uri_where_a_page_was_due_is_the_form() {
        let registered = Url::parse("https://c.example/cb?app=1").expect("url");
        let layer = |e: &Ending, registered: Option<&Url>| {
            authorization_layered(AuthOutcome::ErrorPage, e, registered)
                .map_err(|h| matches!(h, Halt::Form { .. }))
        };
        let home = ending("https://c.example/cb?app=1&error=invalid_request&state=s&iss=x");
        assert_eq!(layer(&home, Some(&registered)), Err(true));
        assert_eq!(
            layer(&home, None),
            Err(false),
            "the request named the registered URI itself: following it proves no check"
        );
        for elsewhere in [
            "https://c.example/cb/x?app=1&error=invalid_request",
            "https://c.example/cb?error=invalid_request",
            "https://c.example/cb?app=1&extra=1&error=invalid_request",
            "http://c.example/cb?app=1&error=invalid_request",
            "https://c.example:8443/cb?app=1&error=invalid_request",
            "https://c.example/cb?app=1&code=abc",
        ] {
            assert_eq!(
                layer(&ending(elsewhere), Some(&registered)),
                Err(false),
                "{elsewhere}"
            );
        }
    }

    #[test]
    fn error_codes() {
        let r = callback("https://c.example/cb?error=invalid_request");
        assert_eq!(authorization_error(&["invalid_request".into()], &r), Ok(()));
        assert_eq!(
            authorization_error(&["invalid_scope".into()], &r).map_err(|e| e.to_string()),
            Err("expected error invalid_scope, got error invalid_request".into())
        );
        assert_eq!(
            authorization_error(&["x".into()], &callback("https://c.example/cb?code=1")),
            Ok(())
        );
    }

    #[test]
    fn state_must_come_back_byte_for_byte() {
        let r = callback("https://c.example/cb?code=1&state=a%2Bb");
        assert_eq!(state_echoed(Some("a+b"), &r), Ok(()));
        assert_eq!(
            state_echoed(Some("a b"), &r).map_err(|e| e.to_string()),
            Err("state was not echoed exactly: sent Some(\"a b\"), got Some(\"a+b\")".into())
        );
        assert!(state_echoed(None, &r).is_err());
    }

    #[test]
    fn iss_present_and_equal() {
        let r = callback("https://c.example/cb?code=1&iss=https%3A%2F%2Fas.example");
        assert_eq!(iss("https://as.example", &r), Ok(()));
        assert!(
            iss("https://as.example/", &r)
                .expect_err("unmet")
                .to_string()
                .contains("differs from the issuer")
        );
        let r = callback("https://c.example/cb?code=1");
        assert!(
            iss("https://as.example", &r)
                .expect_err("unmet")
                .to_string()
                .starts_with("no iss parameter")
        );
    }

    #[test]
    fn reflected_challenge() {
        let r = callback("https://c.example/cb?code=1&echo=E9Melhoa");
        assert_eq!(challenge_not_reflected(Some("zzz"), &r), Ok(()));
        assert_eq!(challenge_not_reflected(None, &r), Ok(()));
        assert_eq!(challenge_not_reflected(Some(""), &r), Ok(()));
        assert_eq!(
            challenge_not_reflected(Some("E9Melhoa"), &r),
            Err(Unmet::ChallengeReflected {
                param: "echo".into()
            })
        );
    }

    #[test]
    fn format_findings() {
        assert_eq!(callback_format(&[]), Ok(()));
        let r = callback("https://c.example/cb?error=invalid_request&error=x");
        assert_eq!(
            callback_format(&r.findings).map_err(|e| e.to_string()),
            Err("the response repeats parameter error (RFC 6749 §3.1)".into())
        );
        for (finding, text) in [
            (
                Finding::UnregisteredErrorCode("made_up".into()),
                "error code \"made_up\" is not registered",
            ),
            (
                Finding::BadCharset {
                    param: "error_uri".into(),
                    index: 3,
                },
                "error_uri has a character outside",
            ),
            (Finding::BothCodeAndError, "both code and error"),
            (Finding::QueryAndFragment, "both query and fragment"),
        ] {
            let e = callback_format(&[finding]).expect_err("unmet").to_string();
            assert!(e.contains(text), "{e}");
        }
    }
}
