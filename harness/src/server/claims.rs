//! The test user's claims, and which of them a grant releases: those its scope values ask for
//! (OpenID Connect Core §5.4) and those the `claims` parameter names for UserInfo (§5.5). What
//! UserInfo answers a token of the grant with, beside `sub`.

use serde_json::{Map, Value, json};

/// The test user's claims beside `sub`, each with the scope value that asks for it.
const CLAIMS: [(&str, &str); 11] = [
    ("name", "profile"),
    ("given_name", "profile"),
    ("family_name", "profile"),
    ("preferred_username", "profile"),
    ("locale", "profile"),
    ("updated_at", "profile"),
    ("email", "email"),
    ("email_verified", "email"),
    ("address", "address"),
    ("phone_number", "phone"),
    ("phone_number_verified", "phone"),
];

/// The claims a grant releases: a bit per entry of [`CLAIMS`]. Kept with the code and every
/// token of the grant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Released(u16);

impl Released {
    /// The claims the space-separated scope values of `scope` ask for (§5.4).
    pub(super) fn of_scope(scope: &str) -> Self {
        Self::matching(|_, s| scope.split(' ').any(|v| v == s))
    }

    /// These and the claims the `userinfo` member of a `claims` request parameter (§5.5)
    /// names, whatever it asks of each (`essential`, `value`, `values` or null). A parameter
    /// that is not such JSON asks for nothing.
    pub(super) fn and_requested(self, claims_parameter: Option<&str>) -> Self {
        let requested = claims_parameter
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
            .and_then(|v| v.get("userinfo")?.as_object().cloned())
            .unwrap_or_default();
        Self(self.0 | Self::matching(|name, _| requested.contains_key(name)).0)
    }

    /// The first claim a `claims` request parameter names, for UserInfo or the ID Token, that
    /// the test user does not have (the defect `claims-parameter-unknown-claim-refused` refuses
    /// the request for it).
    pub(super) fn unknown_in(claims_parameter: Option<&str>) -> Option<String> {
        let parsed = serde_json::from_str::<Value>(claims_parameter?).ok()?;
        ["userinfo", "id_token"]
            .iter()
            .filter_map(|member| parsed.get(member)?.as_object())
            .flat_map(|o| o.keys())
            .find(|name| *name != "sub" && !CLAIMS.iter().any(|(known, _)| known == name))
            .cloned()
    }

    fn matching(keep: impl Fn(&str, &str) -> bool) -> Self {
        Self(
            CLAIMS
                .iter()
                .enumerate()
                .filter(|(_, (name, scope))| keep(name, scope))
                .fold(0, |bits, (i, _)| bits | 1 << i),
        )
    }

    /// The released claims' values, with the types of §5.1; with `wrong_types` (the
    /// `claim-types-wrong` defect), `email_verified` and `updated_at` as strings.
    pub(super) fn claims(self, wrong_types: bool) -> Map<String, Value> {
        CLAIMS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, (name, _))| ((*name).to_owned(), value(name, wrong_types)))
            .collect()
    }
}

/// The test user's value of a claim of [`CLAIMS`].
fn value(name: &str, wrong_types: bool) -> Value {
    match name {
        "name" => json!("Alice Example"),
        "given_name" => json!("Alice"),
        "family_name" => json!("Example"),
        "preferred_username" => json!(super::USERNAME),
        "locale" => json!("en-US"),
        "updated_at" if wrong_types => json!("1700000000"),
        "updated_at" => json!(1_700_000_000),
        "email" => json!("alice@example.com"),
        "email_verified" if wrong_types => json!("true"),
        "email_verified" => json!(true),
        "address" => json!({
            "formatted": "1 Example Street\n1000 Brussels\nBelgium",
            "street_address": "1 Example Street",
            "locality": "Brussels",
            "postal_code": "1000",
            "country": "Belgium",
        }),
        "phone_number" => json!("+32 2 555 01 00"),
        _ => json!(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scope_value_brings_its_own_claims_only() {
        let names = |scope: &str| -> Vec<String> {
            Released::of_scope(scope)
                .claims(false)
                .keys()
                .cloned()
                .collect()
        };
        assert!(names("openid").is_empty());
        assert_eq!(names("openid email"), ["email", "email_verified"]);
        assert_eq!(
            names("phone openid"),
            ["phone_number", "phone_number_verified"]
        );
        // A value that only starts like one is not it.
        assert!(names("openid emails").is_empty());
        let all = Released::of_scope("openid profile email address phone").claims(false);
        assert_eq!(all.len(), CLAIMS.len());
        assert_eq!(all["email_verified"], json!(true));
        assert_eq!(all["phone_number_verified"], json!(false));
        assert_eq!(all["updated_at"], json!(1_700_000_000));
        assert!(all["address"].is_object());
        let wrong = Released::of_scope("profile email").claims(true);
        assert_eq!(wrong["email_verified"], json!("true"));
    }

    #[test]
    fn the_claims_parameter_adds_the_userinfo_claims_it_names() {
        let released = |p: &str| -> Vec<String> {
            Released::of_scope("openid")
                .and_requested(Some(p))
                .claims(false)
                .keys()
                .cloned()
                .collect()
        };
        assert_eq!(
            released(r#"{"userinfo":{"name":{"essential":true},"nickname":null}}"#),
            ["name"]
        );
        // Claims asked for in the ID Token, or a parameter that is no JSON, release nothing.
        assert!(released(r#"{"id_token":{"name":null}}"#).is_empty());
        assert!(released("name").is_empty());
    }
}
