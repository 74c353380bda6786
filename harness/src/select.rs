//! Which checks a run takes, as people name them: a scenario or result id as printed (`*`
//! matches anything; `rfc7636/4.6-wrong-verifier[public]`), a requirement (`REQ-52`), a
//! catalogued bug (`BUG-12`) or a CVE (`CVE-2024-22258`), so "this CVE stays fixed" is one flag;
//! a severity (`high`, `medium`, `low`) or a level (`must`, `should`, `may`), as nuclei's and
//! testssl.sh's `--severity` select.

use crate::defect::Severity;
use crate::requirements::bug_by_id;
use crate::scenario::Scenario;
use crate::scenario::model::{Level, Profile};

/// One `--only` or `--exclude` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// A scenario or result id; `*` matches any run of characters.
    Id(String),
    /// The checks that cite a requirement, `REQ-n`.
    Requirement(String),
    /// The checks that re-create a catalogued bug, `BUG-n`.
    Bug(String),
    /// The checks that guard against a CVE: listed in the scenario's notes or in the
    /// catalogue entry of a bug it cites.
    Cve(String),
    /// The checks of a severity (the worst defect they catch).
    Severity(Severity),
    /// The checks of a level under the run's profile.
    Level(Level),
}

impl Selector {
    /// Reads a selector; anything that is not a severity, a level or a `REQ-`, `BUG-` or
    /// `CVE-` id is an id pattern.
    pub fn parse(s: &str) -> Self {
        let upper = s.to_ascii_uppercase();
        let numbered = |prefix: &str| {
            upper
                .strip_prefix(prefix)
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit() || c == '-'))
        };
        let lower = s.to_ascii_lowercase();
        if let Ok(severity) = lower.parse::<Severity>() {
            return Self::Severity(severity);
        }
        match lower.as_str() {
            "must" => return Self::Level(Level::Must),
            "should" => return Self::Level(Level::Should),
            "may" => return Self::Level(Level::May),
            _ => {}
        }
        if numbered("REQ-") {
            Self::Requirement(upper)
        } else if numbered("BUG-") {
            Self::Bug(upper)
        } else if numbered("CVE-") {
            Self::Cve(upper)
        } else {
            Self::Id(s.to_owned())
        }
    }

    /// Whether the check `result_id` of `scenario` is selected under `profile`.
    pub fn matches(&self, scenario: &Scenario, result_id: &str, profile: Profile) -> bool {
        let cites = |id: &str| {
            scenario
                .file
                .requirements
                .iter()
                .any(|r| r.to_string() == id)
        };
        match self {
            Self::Id(p) => glob(p, &scenario.id) || glob(p, result_id),
            Self::Requirement(id) | Self::Bug(id) => cites(id),
            Self::Severity(s) => scenario.file.severity() == *s,
            Self::Level(l) => scenario.file.level_under(profile) == *l,
            Self::Cve(cve) => {
                scenario
                    .file
                    .notes
                    .cves
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(cve))
                    || scenario.file.requirements.iter().any(|r| {
                        bug_by_id(&r.to_string())
                            .is_some_and(|b| b.ident.to_ascii_uppercase().contains(cve))
                    })
            }
        }
    }

    /// The selector as typed (severities and levels in lower case).
    pub fn text(&self) -> &str {
        match self {
            Self::Id(s) | Self::Requirement(s) | Self::Bug(s) | Self::Cve(s) => s,
            Self::Severity(s) => s.as_str(),
            Self::Level(Level::Must) => "must",
            Self::Level(Level::Should) => "should",
            Self::Level(Level::May) => "may",
        }
    }
}

/// `--only` and `--exclude` together: a check runs when any `only` selects it (or there is
/// none) and no `exclude` does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Any of these.
    pub only: Vec<Selector>,
    /// None of these.
    pub exclude: Vec<Selector>,
    /// The profile levels are read under.
    pub profile: Profile,
}

impl Selection {
    /// From the strings given on the command line, for a run under `profile`.
    pub fn new(only: &[String], exclude: &[String], profile: Profile) -> Self {
        Self {
            only: only.iter().map(|s| Selector::parse(s)).collect(),
            exclude: exclude.iter().map(|s| Selector::parse(s)).collect(),
            profile,
        }
    }

    /// Whether nothing narrows the library.
    pub fn is_everything(&self) -> bool {
        self.only.is_empty() && self.exclude.is_empty()
    }

    /// Whether the check `result_id` of `scenario` runs.
    pub fn includes(&self, scenario: &Scenario, result_id: &str) -> bool {
        let p = self.profile;
        (self.only.is_empty() || self.only.iter().any(|s| s.matches(scenario, result_id, p)))
            && !self
                .exclude
                .iter()
                .any(|s| s.matches(scenario, result_id, p))
    }

    /// The selectors that match no check of `checks` (scenario and result id): each is a typo
    /// or a stale name, never silently ignored.
    pub fn unmatched<'a>(&'a self, checks: &[(&Scenario, String)]) -> Vec<&'a Selector> {
        self.only
            .iter()
            .chain(&self.exclude)
            .filter(|s| {
                !checks
                    .iter()
                    .any(|(sc, id)| s.matches(sc, id, self.profile))
            })
            .collect()
    }
}

/// `*` matches any run of characters; everything else itself.
pub fn glob(pattern: &str, id: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == id;
    }
    let mut rest = id;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(pos) = rest.find(part) else {
                return false;
            };
            rest = &rest[pos + part.len()..];
        }
    }
    true
}

/// The candidates nearest to `typed` (edit distance), at most three, nearest first: what a
/// selector that matched nothing probably meant.
pub fn closest<'a>(typed: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let typed = typed.to_ascii_lowercase();
    let mut scored: Vec<(usize, &str)> = candidates
        .map(|c| (distance(&typed, &c.to_ascii_lowercase()), c))
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    let limit = (typed.chars().count() / 2).max(3);
    scored
        .into_iter()
        .filter(|(d, _)| *d <= limit)
        .take(3)
        .map(|(_, c)| c)
        .collect()
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_are_read_by_their_shape() {
        assert_eq!(
            Selector::parse("REQ-52"),
            Selector::Requirement("REQ-52".into())
        );
        assert_eq!(Selector::parse("bug-12"), Selector::Bug("BUG-12".into()));
        assert_eq!(
            Selector::parse("cve-2024-22258"),
            Selector::Cve("CVE-2024-22258".into())
        );
        assert_eq!(
            Selector::parse("rfc7636/*"),
            Selector::Id("rfc7636/*".into())
        );
        assert_eq!(Selector::parse("REQ-"), Selector::Id("REQ-".into()));
        assert_eq!(Selector::parse("HIGH"), Selector::Severity(Severity::High));
        assert_eq!(Selector::parse("should"), Selector::Level(Level::Should));
        assert_eq!(Selector::parse("should").text(), "should");
    }

    #[test]
    fn globs() {
        assert!(glob("rfc7636/*", "rfc7636/4.6-x"));
        assert!(glob("*replay*", "rfc6749/10.5-code-replay"));
        assert!(!glob("rfc7636/*", "rfc6749/x"));
        assert!(glob("a", "a") && !glob("a", "ab"));
    }

    #[test]
    fn the_closest_names_come_first() {
        let ids = [
            "rfc7636/4.6-wrong-verifier",
            "rfc7636/4.5-missing-verifier",
            "rfc6749/5.1-pragma-no-cache",
        ];
        assert_eq!(
            closest("rfc7636/4.6-wrong-verfier", ids.iter().copied()),
            ["rfc7636/4.6-wrong-verifier", "rfc7636/4.5-missing-verifier"]
        );
        assert!(closest("zzz", ids.iter().copied()).is_empty());
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
