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
}
