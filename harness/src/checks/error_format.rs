//! RFC 6749 §5.2: the shape of a token endpoint error response.

use super::body_shown;
use crate::callback::bad_charset;
use crate::outcome::Unmet;
use crate::wire::Response;

/// RFC 6749 §5.2's error codes for the token endpoint.
pub const TOKEN_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
];

/// JSON, 400 (or 401 for `invalid_client`), a registered `error`, and the allowed characters in
/// `error_description` and `error_uri`.
pub fn token_error_format(resp: &Response) -> Result<(), Unmet> {
    let ct = resp.header("content-type").unwrap_or("");
    if !ct.to_ascii_lowercase().starts_with("application/json") {
        return Err(Unmet::ErrorContentType { got: ct.to_owned() });
    }
    let body = resp.json().ok_or_else(|| Unmet::ErrorNotJson {
        body: body_shown(resp),
    })?;
    let error = body
        .get("error")
        .and_then(|e| e.as_str())
        .ok_or(Unmet::ErrorMemberMissing)?;
    if !TOKEN_ERRORS.contains(&error) {
        return Err(Unmet::ErrorUnregistered {
            error: error.to_owned(),
            registered: TOKEN_ERRORS.iter().map(|&e| e.to_owned()).collect(),
        });
    }
    let allowed: &[u16] = if error == "invalid_client" {
        &[400, 401]
    } else {
        &[400]
    };
    if !allowed.contains(&resp.status) {
        return Err(Unmet::ErrorStatus {
            error: error.to_owned(),
            got: resp.status,
            allowed: allowed.to_vec(),
        });
    }
    for (field, space) in [("error_description", true), ("error_uri", false)] {
        if let Some(v) = body.get(field).and_then(|v| v.as_str())
            && let Some(index) = bad_charset(v, space)
        {
            return Err(Unmet::ErrorCharset {
                field: field.to_owned(),
                index,
                found: char::from(v.as_bytes()[index]),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{json, response};

    #[test]
    fn a_well_formed_error_passes() {
        assert_eq!(
            token_error_format(&json(
                400,
                r#"{"error":"invalid_grant","error_description":"bad code"}"#
            )),
            Ok(())
        );
        assert_eq!(
            token_error_format(&json(401, r#"{"error":"invalid_client"}"#)),
            Ok(())
        );
    }

    #[test]
    fn each_way_it_can_be_malformed() {
        let unmet = |r: &Response| token_error_format(r).expect_err("unmet").to_string();
        assert!(
            unmet(&response(400, &[("content-type", "text/plain")], "x"))
                .contains("Content-Type \"text/plain\"")
        );
        assert!(unmet(&json(400, "{not json")).starts_with("error body is not JSON"));
        assert_eq!(
            unmet(&json(400, r#"{"error":1}"#)),
            "error body has no string \"error\" member"
        );
        assert!(
            unmet(&json(400, r#"{"error":"server_error"}"#))
                .starts_with("error code \"server_error\" is not one of")
        );
        assert_eq!(
            unmet(&json(401, r#"{"error":"invalid_grant"}"#)),
            "error invalid_grant came with HTTP 401, RFC 6749 §5.2 says 400"
        );
        assert_eq!(
            unmet(&json(
                400,
                r#"{"error":"invalid_grant","error_description":"a\"b"}"#
            )),
            "error_description has a character outside RFC 6749 §5.2's set at byte 1: '\"'"
        );
        assert!(
            unmet(&json(400, r#"{"error":"invalid_grant","error_uri":"a b"}"#))
                .starts_with("error_uri has a character")
        );
    }
}
