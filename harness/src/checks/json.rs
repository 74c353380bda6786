//! Fields of a JSON body.

use crate::outcome::Unmet;
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
    };
    Err(Unmet::JsonField {
        field: field.to_owned(),
        expected,
        got: value.cloned(),
    })
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
