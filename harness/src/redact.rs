//! The single place secrets are masked. Every report and log line goes through it.
//!
//! A secret is shown as a short fingerprint (`redacted.3f9a12c0`): the first 8 hex digits of its
//! SHA-256, in characters that survive URL encoding unchanged.
//! Two occurrences of one code share a fingerprint, so a reader can follow a replay in the
//! evidence without ever seeing the code.

use sha2::{Digest, Sha256};

/// Parameter and field names whose values are secrets wherever they appear (form bodies, query
/// strings, JSON bodies, callback parameters).
pub const SECRET_NAMES: &[&str] = &[
    "code",
    "code_verifier",
    "client_secret",
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "password",
];

/// Whether a parameter or field called `name` holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    SECRET_NAMES.contains(&name)
}

/// The fingerprint shown instead of a secret.
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("redacted.{hex}")
}

/// A secret value (a code, a token, a client secret). `Debug` and `Display` print its
/// fingerprint; the value is reached only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The value itself, to put on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({})", fingerprint(&self.0))
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&fingerprint(&self.0))
    }
}

/// Masks every occurrence of each of `secrets` in `text` (longest first, so a secret that
/// contains another is masked whole). Used on bodies and headers that are not structured.
pub fn mask_all<'a>(text: &str, secrets: impl IntoIterator<Item = &'a str>) -> String {
    let mut secrets: Vec<&str> = secrets.into_iter().filter(|s| s.len() >= 4).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    let mut out = text.to_owned();
    for s in secrets {
        if out.contains(s) {
            out = out.replace(s, &fingerprint(s));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_show_only_a_fingerprint() {
        let s = Secret::new("SplxlOBeZQQYbYS6WxSbIA");
        assert!(!format!("{s:?}{s}").contains("SplxlOBeZQQYbYS6WxSbIA"));
        assert_eq!(format!("{s}"), fingerprint("SplxlOBeZQQYbYS6WxSbIA"));
    }

    #[test]
    fn mask_all_masks_longest_first() {
        let out = mask_all("a=secret-long b=secret", ["secret", "secret-long"]);
        assert!(!out.contains("secret"), "{out}");
    }
}
