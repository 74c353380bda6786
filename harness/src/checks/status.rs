//! The status code and the OAuth `error` of a response body.

use super::body_shown;
use crate::outcome::Unmet;
use crate::wire::Response;

/// The status is one of `expected`.
pub fn status(expected: &[u16], resp: &Response) -> Result<(), Unmet> {
    if expected.contains(&resp.status) {
        return Ok(());
    }
    Err(Unmet::Status {
        expected: expected.to_vec(),
        got: resp.status,
        error: resp.oauth_error(),
    })
}

/// The body is a JSON error whose `error` is one of `expected`.
pub fn oauth_error(expected: &[String], resp: &Response) -> Result<(), Unmet> {
    match resp.oauth_error() {
        Some(e) if expected.contains(&e) => Ok(()),
        Some(got) => Err(Unmet::OAuthError {
            expected: expected.to_vec(),
            got,
        }),
        None => Err(Unmet::NoErrorBody {
            expected: expected.to_vec(),
            content_type: resp.header("content-type").map(str::to_owned),
            body: body_shown(resp),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{json, response};

    #[test]
    fn status_passes_when_listed() {
        assert_eq!(status(&[400, 401], &json(401, "{}")), Ok(()));
    }

    #[test]
    fn status_unmet_names_the_body_error() {
        let e = status(&[200], &json(400, r#"{"error":"invalid_grant"}"#)).expect_err("unmet");
        assert_eq!(
            e.to_string(),
            "expected HTTP 200, got 400 (error invalid_grant)"
        );
        let e = status(&[400], &response(200, &[], "ok")).expect_err("unmet");
        assert_eq!(e.to_string(), "expected HTTP 400, got 200");
    }

    #[test]
    fn oauth_error_passes_on_a_listed_code() {
        let want = ["invalid_grant".to_owned()];
        assert_eq!(
            oauth_error(&want, &json(400, r#"{"error":"invalid_grant"}"#)),
            Ok(())
        );
    }

    #[test]
    fn oauth_error_unmet_on_another_code() {
        let want = ["invalid_grant".to_owned(), "invalid_request".to_owned()];
        let e = oauth_error(&want, &json(400, r#"{"error":"server_error"}"#)).expect_err("unmet");
        assert_eq!(
            e.to_string(),
            "expected error invalid_grant or invalid_request, got error server_error"
        );
    }

    #[test]
    fn oauth_error_unmet_without_a_json_error() {
        let want = ["invalid_grant".to_owned()];
        let e = oauth_error(
            &want,
            &response(400, &[("content-type", "text/html")], "<h1>no</h1>"),
        )
        .expect_err("unmet");
        assert_eq!(
            e.to_string(),
            "expected a JSON error body with error invalid_grant, got text/html body \"<h1>no</h1>\""
        );
        let e = oauth_error(&want, &json(400, r#"{"error":5}"#)).expect_err("unmet");
        assert!(matches!(e, Unmet::NoErrorBody { .. }), "{e:?}");
    }
}
