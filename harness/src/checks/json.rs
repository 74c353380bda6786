//! Fields of a JSON body.

use crate::outcome::Unmet;
use crate::redact::JWK_PRIVATE_MEMBERS;
use crate::scenario::model::JsonMatch;

/// `field` of `body` matches `m`; `render` fills templates in expected strings. A `null` field
/// counts as absent.
pub fn json_field(
    body: &serde_json::Value,
    field: &str,
    m: &JsonMatch,
    render: &dyn Fn(&str) -> String,
) -> Result<(), Unmet> {
    let value = body.get(field).filter(|v| !v.is_null());
    let rendered = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => serde_json::Value::String(render(s)),
        other => other.clone(),
    };
    let listed = |w: &[serde_json::Value]| {
        w.iter()
            .map(|v| rendered(v).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let array_contains = |want| {
        value
            .and_then(|v| v.as_array())
            .is_some_and(|a| a.contains(&rendered(want)))
    };
    let ok = match m {
        JsonMatch::Present => value.is_some(),
        JsonMatch::Absent => value.is_none(),
        JsonMatch::String => value
            .and_then(|v| v.as_str())
            .is_some_and(|s| !s.is_empty()),
        JsonMatch::Equals(want) => value == Some(&rendered(want)),
        JsonMatch::Contains(want) => array_contains(want),
        JsonMatch::NotContains(want) => !array_contains(want),
        JsonMatch::ContainsAny(want) => want.iter().any(array_contains),
        JsonMatch::AbsentOrContainsAny(want) => value.is_none() || want.iter().any(array_contains),
        JsonMatch::PublicKeys => {
            let private = value
                .and_then(|v| v.as_array())
                .map(|keys| private_keys(keys));
            match private {
                Some(found) if found.is_empty() => return Ok(()),
                // Which keys hold what, never the values: they are the provider's secrets.
                Some(found) => {
                    return Err(Unmet::JsonField {
                        field: field.to_owned(),
                        expected: "public keys only".to_owned(),
                        got: Some(serde_json::json!(found)),
                    });
                }
                None => false,
            }
        }
    };
    if ok {
        return Ok(());
    }
    let expected = match m {
        JsonMatch::Present => "present".to_owned(),
        JsonMatch::Absent => "absent".to_owned(),
        JsonMatch::String => "a non-empty string".to_owned(),
        JsonMatch::Equals(w) => format!("= {}", rendered(w)),
        JsonMatch::Contains(w) => format!("an array containing {}", rendered(w)),
        JsonMatch::NotContains(w) => format!("not to contain {}", rendered(w)),
        JsonMatch::ContainsAny(w) => format!("an array containing one of {}", listed(w)),
        JsonMatch::AbsentOrContainsAny(w) => {
            format!("absent, or an array containing one of {}", listed(w))
        }
        JsonMatch::PublicKeys => "an array of public keys".to_owned(),
    };
    Err(Unmet::JsonField {
        field: field.to_owned(),
        expected,
        got: value.cloned(),
    })
}

/// The keys of `keys` that are private or symmetric, each named by its `kid` (or place) with
/// the private members it carries.
fn private_keys(keys: &[serde_json::Value]) -> Vec<String> {
    keys.iter()
        .enumerate()
        .filter_map(|(i, key)| {
            let mut held: Vec<&str> = JWK_PRIVATE_MEMBERS
                .iter()
                .copied()
                .filter(|m| key.get(*m).is_some())
                .collect();
            if key.get("kty").and_then(|k| k.as_str()) == Some("oct") && held.is_empty() {
                held.push("kty oct");
            }
            let name = key
                .get("kid")
                .and_then(|k| k.as_str())
                .map_or_else(|| format!("key {}", i + 1), |kid| format!("kid {kid:?}"));
            (!held.is_empty()).then(|| format!("{name}: {}", held.join(", ")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(body: serde_json::Value, m: JsonMatch) -> Result<(), String> {
        json_field(&body, "f", &m, &|s| s.replace("{{issuer}}", "https://as"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn each_match_passes() {
        assert_eq!(check(json!({"f": 1}), JsonMatch::Present), Ok(()));
        assert_eq!(check(json!({"f": null}), JsonMatch::Absent), Ok(()));
        assert_eq!(check(json!({"f": "t"}), JsonMatch::String), Ok(()));
        assert_eq!(
            check(
                json!({"f": "https://as"}),
                JsonMatch::Equals(json!("{{issuer}}"))
            ),
            Ok(())
        );
        assert_eq!(
            check(json!({"f": ["S256"]}), JsonMatch::Contains(json!("S256"))),
            Ok(())
        );
        assert_eq!(
            check(
                json!({"f": ["S256"]}),
                JsonMatch::NotContains(json!("plain"))
            ),
            Ok(())
        );
        assert_eq!(
            check(
                json!({"f": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}]}),
                JsonMatch::PublicKeys
            ),
            Ok(())
        );
        let fapi = || vec![json!("PS256"), json!("ES256")];
        for body in [json!({}), json!({"f": ["RS256", "ES256"]})] {
            assert_eq!(check(body, JsonMatch::AbsentOrContainsAny(fapi())), Ok(()));
        }
        assert_eq!(
            check(json!({"f": ["RS256"]}), JsonMatch::AbsentOrContainsAny(fapi())),
            Err("expected JSON field f absent, or an array containing one of \"PS256\", \"ES256\", got [\"RS256\"]".into())
        );
        assert_eq!(
            check(json!({}), JsonMatch::ContainsAny(fapi())),
            Err("expected JSON field f an array containing one of \"PS256\", \"ES256\", it is absent".into())
        );
    }

    #[test]
    fn a_private_or_symmetric_key_is_named_without_its_value() {
        let e = check(
            json!({"f": [
                {"kty": "RSA", "kid": "k1", "n": "n", "e": "AQAB", "d": "SECRET-D", "p": "SECRET-P"},
                {"kty": "oct", "k": "SECRET-K"},
                {"kty": "EC", "x": "a", "y": "b"},
            ]}),
            JsonMatch::PublicKeys,
        )
        .expect_err("a private key is not public");
        assert!(
            e.contains(r#"kid \"k1\": d, p"#) && e.contains("key 2: k"),
            "{e}"
        );
        assert!(!e.contains("SECRET"), "{e}");
        assert!(check(json!({"f": {}}), JsonMatch::PublicKeys).is_err());
    }

    #[test]
    fn each_match_can_be_unmet() {
        assert_eq!(
            check(json!({}), JsonMatch::Present),
            Err("expected JSON field f present, it is absent".into())
        );
        assert_eq!(
            check(json!({"f": 1}), JsonMatch::Absent),
            Err("expected JSON field f absent, got 1".into())
        );
        assert_eq!(
            check(json!({"f": 5}), JsonMatch::String),
            Err("expected JSON field f a non-empty string, got 5".into())
        );
        assert_eq!(
            check(json!({"f": ""}), JsonMatch::String),
            Err("expected JSON field f a non-empty string, got \"\"".into())
        );
        assert_eq!(
            check(json!({"f": "x"}), JsonMatch::Equals(json!("{{issuer}}"))),
            Err("expected JSON field f = \"https://as\", got \"x\"".into())
        );
        assert_eq!(
            check(json!({"f": "S256"}), JsonMatch::Contains(json!("S256"))),
            Err("expected JSON field f an array containing \"S256\", got \"S256\"".into())
        );
        assert_eq!(
            check(
                json!({"f": ["plain"]}),
                JsonMatch::NotContains(json!("plain"))
            ),
            Err("expected JSON field f not to contain \"plain\", got [\"plain\"]".into())
        );
    }
}
