//! The origin policy: the only origins the harness sends anything to, and lets a browser load
//! from. They are the ones the user named in the target file: the issuer's, the metadata URL's,
//! each explicit endpoint's, and `trusted_origins` (an external login page, an endpoint that
//! discovery puts on another host). Nothing the server says (metadata, redirects, form actions,
//! scripts, values a login step extracts) can add one: the server under test is untrusted, and
//! the target file carries the user's real credentials.

use url::{Origin, Url};

use super::TargetFile;

/// The origins a run may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPolicy {
    allowed: Vec<Origin>,
}

impl OriginPolicy {
    /// The origins `file` names.
    pub fn of(file: &TargetFile) -> Self {
        let mut allowed: Vec<Origin> = Vec::new();
        for origin in file.urls().iter().map(Url::origin).filter(Origin::is_tuple) {
            if !allowed.contains(&origin) {
                allowed.push(origin);
            }
        }
        Self { allowed }
    }

    /// Whether `url` is on an origin the user named.
    pub fn allows(&self, url: &Url) -> bool {
        self.allowed.contains(&url.origin())
    }

    /// The allowed origins, for messages.
    pub fn describe(&self) -> String {
        self.allowed
            .iter()
            .map(Origin::ascii_serialization)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(extra: &str) -> OriginPolicy {
        let text = format!(
            "format: 1\nissuer: \"http://127.0.0.1:4000\"\n{extra}clients:\n  public: {{client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}}\n  confidential: {{client_id: c, client_secret: s3cr3t-value, auth_method: client_secret_basic, redirect_uri: \"https://c.example/cb\"}}\nlogin: {{auto: {{}}}}\n"
        );
        OriginPolicy::of(&crate::target::parse_target("t.yaml", &text).expect("valid"))
    }

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn only_the_origins_the_file_names_are_allowed() {
        let p = policy(
            "endpoints: {token: \"http://127.0.0.1:4001/t\"}\ntrusted_origins: [\"https://idp.example\"]\n",
        );
        for ok in [
            "http://127.0.0.1:4000/authorize",
            "http://127.0.0.1:4001/other",
            "https://idp.example/login",
            "https://idp.example:443/x",
        ] {
            assert!(p.allows(&url(ok)), "{ok}");
        }
        // Another port, scheme or host is another origin; userinfo does not change the host.
        for foreign in [
            "http://127.0.0.1:4002/authorize",
            "https://127.0.0.1:4000/",
            "http://localhost:4000/",
            "http://127.0.0.1:4000@127.0.0.1:4002/",
            "http://idp.example/login",
        ] {
            assert!(!p.allows(&url(foreign)), "{foreign}");
        }
        assert_eq!(
            p.describe(),
            "http://127.0.0.1:4000, http://127.0.0.1:4001, https://idp.example"
        );
    }
}
