//! The test user's claims, by the OpenID Connect scope values that ask for them (Core §5.4):
//! what UserInfo answers a token of a grant with, beside `sub`.

use serde_json::{Map, Value, json};

/// The scope values of OpenID Connect Core §5.4 a grant holds. Kept with the code and every
/// token of the grant, so UserInfo answers with what the authorization request asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct ClaimScopes {
    profile: bool,
    email: bool,
    address: bool,
    phone: bool,
}

impl ClaimScopes {
    /// The claim scopes among the space-separated values of `scope`.
    pub(super) fn of(scope: &str) -> Self {
        let has = |name: &str| scope.split(' ').any(|v| v == name);
        Self {
            profile: has("profile"),
            email: has("email"),
            address: has("address"),
            phone: has("phone"),
        }
    }

    /// The test user's claims these scopes ask for, with the types of §5.1; with `wrong_types`
    /// (the `claim-types-wrong` defect), `email_verified` and `updated_at` as strings.
    pub(super) fn claims(self, wrong_types: bool) -> Map<String, Value> {
        let mut m = Map::new();
        if self.profile {
            m.insert("name".into(), json!("Alice Example"));
            m.insert("given_name".into(), json!("Alice"));
            m.insert("family_name".into(), json!("Example"));
            m.insert("preferred_username".into(), json!(super::USERNAME));
            m.insert("locale".into(), json!("en-US"));
            let updated = 1_700_000_000;
            m.insert(
                "updated_at".into(),
                if wrong_types {
                    json!(updated.to_string())
                } else {
                    json!(updated)
                },
            );
        }
        if self.email {
            m.insert("email".into(), json!("alice@example.com"));
            m.insert(
                "email_verified".into(),
                if wrong_types {
                    json!("true")
                } else {
                    json!(true)
                },
            );
        }
        if self.address {
            m.insert(
                "address".into(),
                json!({
                    "formatted": "1 Example Street\n1000 Brussels\nBelgium",
                    "street_address": "1 Example Street",
                    "locality": "Brussels",
                    "postal_code": "1000",
                    "country": "Belgium",
                }),
            );
        }
        if self.phone {
            m.insert("phone_number".into(), json!("+32 2 555 01 00"));
            m.insert("phone_number_verified".into(), json!(false));
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scope_value_brings_its_own_claims_only() {
        let names = |scope: &str| -> Vec<String> {
            ClaimScopes::of(scope)
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
        let all = ClaimScopes::of("openid profile email address phone").claims(false);
        assert_eq!(all["email_verified"], json!(true));
        assert_eq!(all["updated_at"], json!(1_700_000_000));
        assert!(all["address"].is_object());
        let wrong = ClaimScopes::of("profile email").claims(true);
        assert_eq!(wrong["email_verified"], json!("true"));
    }
}
