//! Response header expectations.

use std::collections::BTreeMap;

use crate::outcome::Unmet;
use crate::scenario::model::HeaderMatch;
use crate::wire::Response;

/// Every header in `expected` matches (names case-insensitive, values compared
/// case-insensitively for `contains`).
pub fn headers(expected: &BTreeMap<String, HeaderMatch>, resp: &Response) -> Result<(), Unmet> {
    for (name, m) in expected {
        let values: Vec<&str> = resp.header_all(name).collect();
        let contains = |v: &str, s: &str| v.to_ascii_lowercase().contains(&s.to_ascii_lowercase());
        let ok = match m {
            HeaderMatch::Present => !values.is_empty(),
            HeaderMatch::Absent => values.is_empty(),
            HeaderMatch::Contains(s) => values.iter().any(|v| contains(v, s)),
            HeaderMatch::ContainsAny(list) => {
                values.iter().any(|v| list.iter().any(|s| contains(v, s)))
            }
        };
        if !ok {
            return Err(Unmet::Header {
                name: name.clone(),
                expected: m.clone(),
                got: values.into_iter().map(str::to_owned).collect(),
            });
        }
    }
    Ok(())
}

/// The auth-schemes of the challenges in `WWW-Authenticate` values (RFC 9110 §11.6.1): a
/// challenge starts with a token that is not followed by `=`; what follows it up to the next
/// challenge are its parameters. Quoted strings are skipped.
pub fn challenge_schemes(values: &[&str]) -> Vec<String> {
    let mut schemes = Vec::new();
    for value in values {
        let mut part = String::new();
        let mut quoted = false;
        let mut parts = Vec::new();
        for c in value.chars() {
            match c {
                '"' => {
                    quoted = !quoted;
                    part.push(c);
                }
                ',' if !quoted => parts.push(std::mem::take(&mut part)),
                c => part.push(c),
            }
        }
        parts.push(part);
        for p in parts {
            let p = p.trim_start();
            let token: String = p
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(*c))
                .collect();
            let rest = p[token.len()..].trim_start();
            if !token.is_empty() && !rest.starts_with('=') {
                schemes.push(token);
            }
        }
    }
    schemes
}

/// RFC 6749 §5.2: a client that authenticated with the `Authorization` header (`sent_scheme`)
/// and failed gets 401 with a challenge for that scheme. Nothing is required when it did not.
pub fn auth_challenge(sent_scheme: Option<&str>, resp: &Response) -> Result<(), Unmet> {
    let Some(scheme) = sent_scheme else {
        return Ok(());
    };
    if resp.status != 401 {
        return Err(Unmet::Status {
            expected: vec![401],
            got: resp.status,
            error: resp.oauth_error(),
        });
    }
    let values: Vec<&str> = resp.header_all("www-authenticate").collect();
    if challenge_schemes(&values)
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
    {
        return Ok(());
    }
    Err(Unmet::Header {
        name: "www-authenticate".into(),
        expected: HeaderMatch::Contains(format!("a {scheme} challenge")),
        got: values.into_iter().map(str::to_owned).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::response;

    fn one(name: &str, m: HeaderMatch) -> BTreeMap<String, HeaderMatch> {
        BTreeMap::from([(name.to_owned(), m)])
    }

    #[test]
    fn matching_headers_pass() {
        let r = response(
            200,
            &[("Cache-Control", "No-Store"), ("x", "a"), ("x", "b")],
            "",
        );
        assert_eq!(
            headers(
                &one("cache-control", HeaderMatch::Contains("no-store".into())),
                &r
            ),
            Ok(())
        );
        assert_eq!(
            headers(
                &one("x", HeaderMatch::ContainsAny(vec!["z".into(), "B".into()])),
                &r
            ),
            Ok(())
        );
        assert_eq!(headers(&one("x", HeaderMatch::Present), &r), Ok(()));
        assert_eq!(headers(&one("y", HeaderMatch::Absent), &r), Ok(()));
    }

    #[test]
    fn each_match_can_be_unmet() {
        let r = response(200, &[("x", "a"), ("x", "b")], "");
        let unmet = |m| headers(&one("x", m), &r).expect_err("unmet").to_string();
        assert_eq!(
            unmet(HeaderMatch::Absent),
            "expected header x absent, got \"a, b\""
        );
        assert_eq!(
            unmet(HeaderMatch::Contains("c".into())),
            "expected header x to contain \"c\", got \"a, b\""
        );
        assert_eq!(
            unmet(HeaderMatch::ContainsAny(vec!["c".into()])),
            "expected header x to contain one of [\"c\"], got \"a, b\""
        );
        let e = headers(&one("y", HeaderMatch::Present), &r).expect_err("unmet");
        assert_eq!(e.to_string(), "expected header y present, it is absent");
    }

    #[test]
    fn challenges_are_read_by_scheme() {
        assert_eq!(
            challenge_schemes(&["Basic realm=\"a, b\", Bearer"]),
            ["Basic", "Bearer"]
        );
        assert_eq!(
            challenge_schemes(&["Bearer realm=\"basic\", error=\"invalid_token\""]),
            ["Bearer"]
        );
        assert_eq!(
            challenge_schemes(&[
                "Newauth realm=\"apps\", type=1, title=\"Login\", Basic realm=\"simple\""
            ]),
            ["Newauth", "Basic"]
        );
    }

    #[test]
    fn a_basic_failure_needs_a_basic_challenge() {
        let basic = response(401, &[("www-authenticate", "Basic realm=\"x\"")], "{}");
        assert_eq!(auth_challenge(Some("Basic"), &basic), Ok(()));
        let bearer = response(401, &[("www-authenticate", "Bearer realm=\"basic\"")], "{}");
        let e = auth_challenge(Some("Basic"), &bearer).expect_err("wrong scheme");
        assert!(e.to_string().contains("a Basic challenge"), "{e}");
        let none = response(401, &[], "{}");
        assert!(auth_challenge(Some("Basic"), &none).is_err());
        let e = auth_challenge(Some("Basic"), &response(400, &[], "{}")).expect_err("400");
        assert_eq!(e.to_string(), "expected HTTP 401, got 400");
    }

    #[test]
    fn a_failure_without_the_authorization_header_needs_no_challenge() {
        assert_eq!(auth_challenge(None, &response(400, &[], "{}")), Ok(()));
        assert_eq!(auth_challenge(None, &response(401, &[], "{}")), Ok(()));
    }
}
