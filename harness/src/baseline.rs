//! Baselines: a server's known deviations, as data with a reason each (rustls' bogo
//! `DisabledTests` with its stale check). A listed deviation does not fail the gate, an unlisted
//! one does, and a listed one that no longer happens is reported as stale and fails too, so a
//! baseline cannot silently outlive the bug it excused.

use serde::Deserialize;

use crate::diagnostics::{LoadError, Node, at_node, parse_yaml, spans};
use crate::scenario::model::{FormatVersion, Profile};
use crate::verdict::{RunReport, Verdict};

/// A baseline file (`fixtures/expectations/<server>.yaml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// The format version; only `1` exists.
    pub format: FormatVersion,
    /// The server and version the deviations were confirmed on.
    pub server: String,
    /// The profile the verdicts were judged under.
    pub profile: Profile,
    /// The deviations.
    #[serde(default)]
    pub deviations: Vec<Deviation>,
}

/// One known deviation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// The result id (`rfc6749/4.1.3-redirect-uri-omitted`, or `...[public]`).
    pub id: String,
    /// The verdict expected: fail, warn, info or error.
    pub verdict: Verdict,
    /// What the server does, as confirmed from its behaviour or code.
    pub reason: String,
}

/// How a run compares with a baseline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    /// Non-pass verdicts the baseline lists: `(id, verdict)`.
    pub accepted: Vec<(String, Verdict)>,
    /// Non-pass verdicts it does not list: `(id, verdict, reason)`.
    pub new: Vec<(String, Verdict, String)>,
    /// Listed deviations that did not happen: `(id, expected, actual or None if not run)`.
    pub stale: Vec<(String, Verdict, Option<Verdict>)>,
}

impl Comparison {
    /// Whether the gate holds: nothing new, nothing stale.
    pub fn holds(&self) -> bool {
        self.new.is_empty() && self.stale.is_empty()
    }
}

/// Each deviation's nodes, for errors.
#[derive(Default, Deserialize)]
struct BaselineSpans {
    #[serde(default)]
    deviations: Vec<DeviationSpans>,
}

#[derive(Default, Clone, Deserialize)]
struct DeviationSpans {
    id: Node,
    verdict: Node,
    reason: Node,
}

/// Parses a baseline, checking that no id is listed twice and that every verdict is a
/// deviation (listing `pass` or `skip` would excuse nothing).
pub fn parse_baseline(file: &str, text: &str) -> Result<Baseline, LoadError> {
    let b: Baseline = parse_yaml(file, text)?;
    let nodes: BaselineSpans = spans(text);
    let at = |i: usize, field: fn(&DeviationSpans) -> &Node, message: String| {
        let spans = nodes.deviations.get(i).cloned().unwrap_or_default();
        at_node(file, text, field(&spans), message)
    };
    for (i, d) in b.deviations.iter().enumerate() {
        if matches!(d.verdict, Verdict::Pass | Verdict::Skip) {
            return Err(at(
                i,
                |n| &n.verdict,
                format!(
                    "deviation {} lists verdict {}: only fail, warn, info or error are deviations",
                    d.id,
                    d.verdict.as_str()
                ),
            ));
        }
        if d.reason.trim().is_empty() {
            return Err(at(
                i,
                |n| &n.reason,
                format!("deviation {} has no reason: say what the server does", d.id),
            ));
        }
        if d.reason.contains("TODO") {
            return Err(at(
                i,
                |n| &n.reason,
                format!(
                    "deviation {} still says TODO: confirm it from the server's behaviour and say what the server does",
                    d.id
                ),
            ));
        }
        if b.deviations[..i].iter().any(|e| e.id == d.id) {
            return Err(at(
                i,
                |n| &n.id,
                format!("deviation {} is listed twice", d.id),
            ));
        }
    }
    Ok(b)
}

/// A baseline drafted from a run: every verdict that is not a pass or a skip, each with a
/// `TODO` reason quoting what the harness saw. [`parse_baseline`] refuses `TODO`, so the draft
/// gates nothing until someone has confirmed each deviation from the server's behaviour.
pub fn draft(report: &RunReport, server: &str) -> String {
    // JSON strings are YAML 1.2 double-quoted scalars: quoting by serde_json is exact.
    let quote = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    let mut out = format!(
        "# Drafted by `pkce-harness baseline --from` from a run with seed {}.\n\
         # Confirm each deviation from the server's behaviour or code, then replace each TODO\n\
         # with what the server does; `run --baseline` refuses this file until then.\n\
         format: 1\nserver: {}\nprofile: {}\ndeviations:",
        report.seed,
        quote(server),
        report.profile.as_str()
    );
    let deviations: Vec<_> = report
        .results
        .iter()
        .filter(|r| !matches!(r.verdict, Verdict::Pass | Verdict::Skip))
        .collect();
    if deviations.is_empty() {
        out.push_str(" []");
    }
    out.push('\n');
    for r in deviations {
        out.push_str(&format!(
            "  - id: {}\n    verdict: {}\n    reason: {}\n",
            quote(&r.id),
            r.verdict.as_str(),
            quote(&format!(
                "TODO: confirm and say why. The harness saw: {}",
                r.reason
            ))
        ));
    }
    out
}

/// Reads and parses a baseline file.
pub fn load_baseline(path: &std::path::Path) -> Result<Baseline, LoadError> {
    let text = crate::diagnostics::read_text(path, crate::diagnostics::MAX_FILE_BYTES)?;
    parse_baseline(&path.display().to_string(), &text)
}

/// Compares a run with a baseline. Skips are not deviations: they carry their own reason.
pub fn compare(baseline: &Baseline, report: &RunReport) -> Comparison {
    let mut c = Comparison::default();
    for r in &report.results {
        if matches!(r.verdict, Verdict::Pass | Verdict::Skip) {
            continue;
        }
        match baseline.deviations.iter().find(|d| d.id == r.id) {
            Some(d) if d.verdict == r.verdict => c.accepted.push((r.id.clone(), r.verdict)),
            _ => c.new.push((r.id.clone(), r.verdict, r.reason.clone())),
        }
    }
    for d in &baseline.deviations {
        let actual = report
            .results
            .iter()
            .find(|r| r.id == d.id)
            .map(|r| r.verdict);
        if actual != Some(d.verdict) {
            c.stale.push((d.id.clone(), d.verdict, actual));
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::{ClientKind, Level};
    use crate::verdict::{ScenarioResult, Summary};

    fn result(id: &str, verdict: Verdict) -> ScenarioResult {
        ScenarioResult {
            id: id.into(),
            title: String::new(),
            spec: String::new(),
            requirements: Vec::new(),
            level: Level::Must,
            client: ClientKind::Public,
            profile: Profile::Rfc9700,
            verdict,
            reason: "r".into(),
            cause: None,
            guards: Vec::new(),
            evidence: Vec::new(),
            login: Vec::new(),
            screenshot: None,
            duration_ms: 0,
        }
    }

    #[test]
    fn listed_new_and_stale() {
        let b = parse_baseline("b.yaml", "format: 1\nserver: s\nprofile: rfc9700\ndeviations:\n  - {id: a, verdict: fail, reason: does x}\n  - {id: gone, verdict: warn, reason: did y}\n").expect("valid");
        let results = vec![
            result("a", Verdict::Fail),
            result("b", Verdict::Warn),
            result("c", Verdict::Pass),
            result("gone", Verdict::Pass),
        ];
        let report = RunReport {
            version: 1,
            harness: "t".into(),
            target: "t".into(),
            profile: Profile::Rfc9700,
            seed: 0,
            insecure: false,
            interrupted: false,
            server_failures: 0,
            summary: Summary::of(&results),
            results,
        };
        let c = compare(&b, &report);
        assert_eq!(c.accepted, vec![("a".to_owned(), Verdict::Fail)]);
        assert_eq!(c.new.len(), 1);
        assert_eq!(
            c.stale,
            vec![("gone".to_owned(), Verdict::Warn, Some(Verdict::Pass))]
        );
        assert!(!c.holds());
    }

    /// A draft lists exactly the deviations, is refused while it says TODO, and once filled in
    /// holds the gate for the run it came from.
    #[test]
    fn a_draft_is_refused_until_filled_in_and_then_holds() {
        let mut results = vec![
            result("a/x[public]", Verdict::Fail),
            result("b", Verdict::Pass),
            result("c", Verdict::Skip),
            result("d", Verdict::Warn),
        ];
        results[0].reason = "step 2 (token): got \"200\": a # b".into();
        let report = RunReport {
            version: 1,
            harness: "t".into(),
            target: "t".into(),
            profile: Profile::Oauth21,
            seed: 9,
            insecure: false,
            interrupted: false,
            server_failures: 0,
            summary: Summary::of(&results),
            results,
        };
        let text = draft(&report, "Acme: IdP 3.1");
        let e = parse_baseline("d.yaml", &text).expect_err("TODO refused");
        assert!(
            e.to_string()
                .starts_with("d.yaml:10:13: deviation a/x[public] still says TODO"),
            "{e}"
        );
        let filled = text.replace("TODO: confirm and say why.", "Confirmed in its logs.");
        let b = parse_baseline("d.yaml", &filled).expect("filled draft parses");
        assert_eq!(b.server, "Acme: IdP 3.1");
        assert_eq!(b.profile, Profile::Oauth21);
        assert_eq!(b.deviations.len(), 2);
        assert!(b.deviations[0].reason.ends_with("got \"200\": a # b"));
        assert!(compare(&b, &report).holds());
    }

    #[test]
    fn reasons_are_required_and_pass_is_no_deviation() {
        let e = parse_baseline("b.yaml", "format: 1\nserver: s\nprofile: rfc9700\ndeviations:\n  - {id: a, verdict: fail, reason: \"TODO\"}\n").expect_err("TODO reason");
        assert!(
            e.to_string().contains("b.yaml:5:") && e.to_string().contains("still says TODO"),
            "{e}"
        );
        let e = parse_baseline("b.yaml", "format: 1\nserver: s\nprofile: rfc9700\ndeviations:\n  - {id: a, verdict: pass, reason: x}\n").expect_err("pass");
        assert!(
            e.to_string().contains("only fail, warn, info or error"),
            "{e}"
        );
    }
}
