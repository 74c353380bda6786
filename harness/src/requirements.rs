//! The requirement catalogue scenarios cite: `REQ-n` for requirements of the specifications and
//! `BUG-n` for real-world bugs, numbered as in the project's `REQUIREMENTS.md`. The catalogue is
//! data (`requirements.yaml`, compiled into the binary) so it reads and diffs as text; the
//! loader rejects an id that is not in it, and every verdict carries the text of what it checks.

use std::sync::OnceLock;

use serde::Deserialize;

/// A requirement of RFC 6749, RFC 7636, RFC 8414, RFC 9207, RFC 9700, OAuth 2.1 or the
/// specifications they build on (RFC 9101, RFC 9126, RFC 9449, OpenID Connect, FAPI 2.0).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// The number n of `REQ-n`.
    pub number: u16,
    /// The specification and section, e.g. "RFC 7636 §4.6".
    pub source: String,
    /// What it requires, in brief.
    pub summary: String,
}

/// A catalogued real-world bug that a scenario can re-create.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bug {
    /// The number n of `BUG-n`.
    pub number: u16,
    /// CVE, advisory or issue.
    pub ident: String,
    /// The product and versions.
    pub product: String,
    /// What went wrong.
    pub summary: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalogue {
    requirements: Vec<Requirement>,
    bugs: Vec<Bug>,
}

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        match crate::diagnostics::parse_yaml("requirements.yaml", include_str!("requirements.yaml"))
        {
            Ok(c) => c,
            // Compiled in and checked by the tests below: a broken catalogue never ships.
            Err(e) => panic!("the built-in requirement catalogue does not parse: {e}"),
        }
    })
}

/// Every requirement, in order.
pub fn requirements() -> &'static [Requirement] {
    &catalogue().requirements
}

/// Every catalogued bug, in order.
pub fn bugs() -> &'static [Bug] {
    &catalogue().bugs
}

/// A `REQ-n` or `BUG-n` id present in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RequirementId {
    /// `REQ-n`.
    Req(u16),
    /// `BUG-n`.
    Bug(u16),
}

impl RequirementId {
    /// Parses `REQ-n` or `BUG-n` and checks it against the catalogue.
    pub fn parse(id: &str) -> Result<Self, crate::diagnostics::UnknownName> {
        let parsed = match id.split_once('-') {
            Some(("REQ", n)) => n.parse().ok().map(Self::Req),
            Some(("BUG", n)) => n.parse().ok().map(Self::Bug),
            _ => None,
        };
        match parsed {
            Some(id) if id.is_known() => Ok(id),
            _ => Err(crate::diagnostics::UnknownName::new(
                "requirement id",
                id,
                [
                    format!("REQ-1..REQ-{}", requirements().len()),
                    format!("BUG-1..BUG-{}", bugs().len()),
                ],
            )),
        }
    }

    /// Whether this is a catalogued bug rather than a requirement.
    pub fn is_bug(self) -> bool {
        matches!(self, Self::Bug(_))
    }

    fn is_known(self) -> bool {
        match self {
            Self::Req(n) => requirements().iter().any(|r| r.number == n),
            Self::Bug(n) => bugs().iter().any(|b| b.number == n),
        }
    }
}

impl std::fmt::Display for RequirementId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Req(n) => write!(f, "REQ-{n}"),
            Self::Bug(n) => write!(f, "BUG-{n}"),
        }
    }
}

impl<'de> Deserialize<'de> for RequirementId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Looks up `REQ-n`.
pub fn requirement(id: &str) -> Option<&'static Requirement> {
    match RequirementId::parse(id).ok()? {
        RequirementId::Req(n) => requirements().iter().find(|r| r.number == n),
        RequirementId::Bug(_) => None,
    }
}

/// Looks up `BUG-n`.
pub fn bug_by_id(id: &str) -> Option<&'static Bug> {
    match RequirementId::parse(id).ok()? {
        RequirementId::Bug(n) => bugs().iter().find(|b| b.number == n),
        RequirementId::Req(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_complete_and_numbered_in_order() {
        assert_eq!(requirements().len(), 192);
        assert_eq!(bugs().len(), 23);
        for (i, r) in requirements().iter().enumerate() {
            assert_eq!(usize::from(r.number), i + 1);
        }
        for (i, b) in bugs().iter().enumerate() {
            assert_eq!(usize::from(b.number), i + 1);
        }
        assert_eq!(
            requirement("REQ-50").map(|r| r.source.as_str()),
            Some("RFC 7636 §4.6")
        );
        assert!(requirement("REQ-999").is_none() && requirement("REQ-x").is_none());
        assert!(bug_by_id("BUG-1").is_some_and(|b| b.ident.contains("CVE-2024-22258")));
    }

    #[test]
    fn ids_are_typed_and_checked() {
        assert_eq!(RequirementId::parse("REQ-7"), Ok(RequirementId::Req(7)));
        assert!(RequirementId::parse("BUG-3").is_ok_and(RequirementId::is_bug));
        assert_eq!(RequirementId::Req(12).to_string(), "REQ-12");
        for bad in [
            "REQ-0", "REQ-999", "BUG-24", "req-1", "REQ-", "REQ-1x", "CVE-1",
        ] {
            let e = RequirementId::parse(bad).expect_err(bad);
            let e = e.to_string();
            assert!(e.contains("known: REQ-1..REQ-192, BUG-1..BUG-23"), "{e}");
        }
    }
}
