//! The standard claims of OpenID Connect Core §5: which ones a scope value asks for (§5.4), and
//! the JSON type each has (§5.1).

use serde_json::Value;

use crate::outcome::Unmet;
use crate::scenario::model::ClaimScope;

/// The claims `scope` asks for (OpenID Connect Core §5.4).
fn of_scope(scope: ClaimScope) -> &'static [&'static str] {
    match scope {
        ClaimScope::Profile => &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
        ClaimScope::Email => &["email", "email_verified"],
        ClaimScope::Address => &["address"],
        ClaimScope::Phone => &["phone_number", "phone_number_verified"],
    }
}

/// §5.4: at least one claim `scope` asks for is in `userinfo` or in the ID Token's claims. The
/// claims are voluntary, so the scenario that asks this sets its level; what is judged is that
/// the scope brings something.
pub fn scope_served(
    scope: ClaimScope,
    userinfo: &Value,
    id_token: Option<&Value>,
) -> Result<(), Unmet> {
    let names = of_scope(scope);
    let given = |claims: &Value| {
        names
            .iter()
            .any(|n| claims.get(n).is_some_and(|v| !v.is_null()))
    };
    if given(userinfo) || id_token.is_some_and(given) {
        return Ok(());
    }
    Err(Unmet::ScopeClaims {
        scope: scope.as_str().to_owned(),
        claims: names.iter().map(|n| (*n).to_owned()).collect(),
    })
}

/// The JSON type §5.1 gives a standard claim, in words, and whether `v` has it; `None` for a
/// claim §5.1 does not define.
fn typed(name: &str, v: &Value) -> Option<(&'static str, bool)> {
    Some(match name {
        "email_verified" | "phone_number_verified" => ("a boolean", v.is_boolean()),
        "updated_at" => ("a number of seconds", v.is_number()),
        "address" => (
            "a JSON object of strings (§5.1.1)",
            v.as_object()
                .is_some_and(|o| o.values().all(Value::is_string)),
        ),
        "birthdate" => (
            "a date, YYYY-MM-DD or YYYY (a year 0000 where it is withheld)",
            v.as_str().is_some_and(is_birthdate),
        ),
        "sub" | "name" | "given_name" | "family_name" | "middle_name" | "nickname"
        | "preferred_username" | "profile" | "picture" | "website" | "email" | "gender"
        | "zoneinfo" | "locale" | "phone_number" => ("a string", v.is_string()),
        _ => return None,
    })
}

/// §5.1 `birthdate`: ISO 8601 `YYYY-MM-DD`, or `YYYY` alone; the year may be `0000`.
fn is_birthdate(s: &str) -> bool {
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    match s.split('-').collect::<Vec<_>>()[..] {
        [y] => digits(y, 4),
        [y, m, d] => {
            digits(y, 4)
                && digits(m, 2)
                && digits(d, 2)
                && (1..=12).contains(&m.parse::<u8>().unwrap_or(0))
                && (1..=31).contains(&d.parse::<u8>().unwrap_or(0))
        }
        _ => false,
    }
}

/// §5.1: every standard claim in `claims` has its type. Gives how many standard claims other
/// than `sub` were judged, so a caller can tell a pass from nothing to judge.
pub fn standard_types(claims: &Value) -> Result<usize, Unmet> {
    let mut judged = 0;
    for (name, v) in claims.as_object().into_iter().flatten() {
        if v.is_null() {
            continue;
        }
        let Some((expected, ok)) = typed(name, v) else {
            continue;
        };
        if !ok {
            return Err(Unmet::JsonField {
                field: name.clone(),
                expected: format!("{expected} (OpenID Connect Core §5.1)"),
                got: Some(v.clone()),
            });
        }
        if name != "sub" {
            judged += 1;
        }
    }
    Ok(judged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_scope_is_served_by_any_of_its_claims_in_either_place() {
        let none = json!({"sub": "a"});
        assert!(
            scope_served(
                ClaimScope::Email,
                &json!({"sub": "a", "email": "a@b"}),
                None
            )
            .is_ok()
        );
        assert!(scope_served(ClaimScope::Profile, &none, Some(&json!({"name": "A"}))).is_ok());
        let e = scope_served(ClaimScope::Phone, &none, Some(&json!({"email": "a@b"})))
            .expect_err("no phone claim");
        assert!(e.to_string().contains("phone_number"), "{e}");
        // A null is no claim.
        assert!(scope_served(ClaimScope::Address, &json!({"address": null}), None).is_err());
    }

    #[test]
    fn standard_claims_have_their_types_and_others_are_not_judged() {
        let good = json!({"sub": "a", "email_verified": true, "updated_at": 1, "address": {"locality": "x"}, "x-custom": 5});
        assert_eq!(standard_types(&good).expect("typed"), 3);
        assert_eq!(standard_types(&json!({"sub": "a"})).expect("typed"), 0);
        for date in ["1990-12-31", "0000-02-29", "1990"] {
            assert_eq!(
                standard_types(&json!({"birthdate": date})).expect("a date"),
                1
            );
        }
        for bad in [
            json!({"email_verified": "true"}),
            json!({"updated_at": "1700000000"}),
            json!({"address": "1 Example Street"}),
            json!({"address": {"postal_code": 1000}}),
            json!({"name": ["A"]}),
            json!({"birthdate": "12/31/1990"}),
            json!({"birthdate": "1990-13-01"}),
        ] {
            assert!(standard_types(&bad).is_err(), "{bad}");
        }
    }
}
