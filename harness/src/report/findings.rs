//! What the code-scanning formats (SARIF, GitLab's) share: which results are findings, the
//! check a result belongs to, and where its requirement is written.

use crate::requirements::requirement;
use crate::verdict::{ScenarioResult, Standing, Verdict};

/// A scenario's id: a result's id without its `[client]`.
pub(super) fn scenario_id(result_id: &str) -> &str {
    result_id.split('[').next().unwrap_or(result_id)
}

/// Whether the result is a finding: an unmet expectation (at any level), or a stale baseline
/// entry. Passes, skips and checks that could not be judged are not.
pub(super) fn unmet(r: &ScenarioResult) -> bool {
    matches!(r.verdict, Verdict::Fail | Verdict::Warn | Verdict::Info)
        || r.standing() == Standing::Stale
}

/// The text of each requirement a result cites (`REQ-50 (RFC 7636 §4.6): ...`).
pub(super) fn requirement_texts(r: &ScenarioResult) -> Vec<String> {
    r.requirements
        .iter()
        .filter_map(|q| requirement(q).map(|req| format!("{q} ({}): {}", req.source, req.summary)))
        .collect()
}

/// Where the first requirement a result cites is written (`RFC 7636 §4.6`); empty if none.
pub(super) fn first_source(r: &ScenarioResult) -> &'static str {
    r.requirements
        .iter()
        .find_map(|q| requirement(q).map(|req| req.source.as_str()))
        .unwrap_or_default()
}

/// A link to the first RFC section `source` names (`RFC 7636 §4.6`), else OAuth 2.1.
pub(super) fn help_uri(source: &str) -> String {
    let rfc = source.split("RFC ").nth(1).and_then(|rest| {
        let number: String = rest.chars().take_while(char::is_ascii_digit).collect();
        (!number.is_empty()).then(|| {
            let section: String = rest[number.len()..]
                .trim_start()
                .strip_prefix('§')
                .map(|s| {
                    s.chars()
                        .take_while(|c| c.is_ascii_digit() || *c == '.')
                        .collect::<String>()
                        .trim_end_matches('.')
                        .to_owned()
                })
                .unwrap_or_default();
            (number, section)
        })
    });
    match rfc {
        Some((n, s)) if !s.is_empty() => {
            format!("https://www.rfc-editor.org/rfc/rfc{n}#section-{s}")
        }
        Some((n, _)) => format!("https://www.rfc-editor.org/rfc/rfc{n}"),
        None => "https://datatracker.ietf.org/doc/draft-ietf-oauth-v2-1/".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::help_uri;

    #[test]
    fn help_links_point_at_the_rfc_section() {
        assert_eq!(
            help_uri("RFC 7636 §4.6"),
            "https://www.rfc-editor.org/rfc/rfc7636#section-4.6"
        );
        assert_eq!(
            help_uri("RFC 6749 §3.1.2.4 and §4.1.2.1"),
            "https://www.rfc-editor.org/rfc/rfc6749#section-3.1.2.4"
        );
        assert_eq!(
            help_uri("OAuth 2.1 \"Loopback Interface Redirection\" (RFC 8252 §7.3)"),
            "https://www.rfc-editor.org/rfc/rfc8252#section-7.3"
        );
        assert_eq!(
            help_uri("RFC 8414 §2 issuer"),
            "https://www.rfc-editor.org/rfc/rfc8414#section-2"
        );
        assert_eq!(
            help_uri("OAuth 2.1 \"Reuse of Authorization Codes\""),
            "https://datatracker.ietf.org/doc/draft-ietf-oauth-v2-1/"
        );
    }
}
