//! Baselines: a server's known deviations, as data with a reason each (rustls' bogo
//! `DisabledTests` with its stale check). A listed deviation does not fail the gate, an unlisted
//! one does, and a listed one that no longer happens is reported as stale and fails too, so a
//! baseline cannot silently outlive the bug it excused.

use serde::Deserialize;

use crate::diagnostics::{LoadError, Node, at_node, parse_yaml, spans};
use crate::scenario::model::{ClientKind, FormatVersion, Level, Profile};
use crate::verdict::{BaselineSummary, GateMark, RunReport, ScenarioResult, Summary, Verdict};

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

impl Baseline {
    /// Marks `r` as the baseline sees it: a listed deviation with the listed verdict is known,
    /// with another verdict (a pass included) stale, an unlisted deviation new. A pass of a
    /// check that finds by chance (a race) is no evidence of a fix: its entry stays known,
    /// saying it was not reproduced. Skips carry their own reason and are never deviations.
    pub fn mark(&self, r: &mut ScenarioResult) {
        let listed = self.deviations.iter().find(|d| d.id == r.id);
        r.gate = match (listed, r.verdict) {
            (Some(d), v) if d.verdict == v => Some(GateMark::Known {
                reason: d.reason.clone(),
            }),
            (Some(d), Verdict::Pass) if r.by_chance => Some(GateMark::Known {
                reason: format!(
                    "listed as {}, not reproduced this run (a race is won by chance, so a pass does not show it gone): {}",
                    d.verdict.as_str(),
                    d.reason
                ),
            }),
            (Some(d), _) => Some(GateMark::Stale {
                listed: d.verdict,
                reason: d.reason.clone(),
            }),
            (None, Verdict::Pass | Verdict::Skip) => None,
            (None, _) => Some(GateMark::New),
        };
    }

    /// Marks every result of `report`, adds a stale result for each listed deviation that did
    /// not run at all (`selected` says which ids this run meant to run: an entry outside a
    /// `--only` selection is not stale), and recounts. Every report written from it then shows
    /// what the gate decides.
    pub fn apply(&self, report: &mut RunReport, selected: impl Fn(&str) -> bool) {
        for r in &mut report.results {
            self.mark(r);
        }
        for d in &self.deviations {
            if selected(&d.id) && !report.results.iter().any(|r| r.id == d.id) {
                report.results.push(not_run(d));
            }
        }
        report.results.sort_by(|a, b| a.id.cmp(&b.id));
        report.summary = Summary::of(&report.results);
        let count = |f: fn(&GateMark) -> bool| {
            report
                .results
                .iter()
                .filter(|r| r.gate.as_ref().is_some_and(f))
                .count()
        };
        report.baseline = Some(BaselineSummary {
            server: self.server.clone(),
            known: count(|m| matches!(m, GateMark::Known { .. })),
            new: count(|m| *m == GateMark::New),
            stale: count(|m| matches!(m, GateMark::Stale { .. })),
        });
    }
}

/// The result standing for a listed deviation whose check did not run (removed from the
/// library, or its id misspelt).
fn not_run(d: &Deviation) -> ScenarioResult {
    ScenarioResult {
        id: d.id.clone(),
        title: "a deviation the baseline lists".into(),
        spec: d.id.split('/').next().unwrap_or_default().to_owned(),
        requirements: Vec::new(),
        level: Level::Must,
        client: ClientKind::Public,
        profile: Profile::default(),
        verdict: Verdict::Skip,
        severity: Default::default(),
        layer: Default::default(),
        reason: "no check with this id ran".into(),
        cause: None,
        guards: Vec::new(),
        evidence: Vec::new(),
        login: Vec::new(),
        screenshot: None,
        gate: Some(GateMark::Stale {
            listed: d.verdict,
            reason: d.reason.clone(),
        }),
        by_chance: false,
        duration_ms: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Standing;

    fn report(profile: Profile, results: Vec<ScenarioResult>) -> RunReport {
        RunReport {
            version: 1,
            harness: "t".into(),
            target: "t".into(),
            issuer: "https://as.example".into(),
            started: String::new(),
            duration_ms: 0,
            baseline: None,
            fail_on: None,
            target_file: None,
            target_lines: Default::default(),
            profile,
            seed: 9,
            insecure: false,
            interrupted: false,
            server_failures: 0,
            summary: Summary::of(&results),
            results,
        }
    }

    fn result(id: &str, verdict: Verdict) -> ScenarioResult {
        ScenarioResult {
            profile: Profile::Rfc9700,
            ..ScenarioResult::new(id, verdict, "r")
        }
    }

    /// Known, new and stale, as every report and the exit code see them: a listed deviation is
    /// known; an unlisted warning is a new deviation and fails; a listed one that passes now, or
    /// that did not run, is stale and fails; one outside the selection is left alone.
    #[test]
    fn listed_new_and_stale() {
        let b = parse_baseline("b.yaml", "format: 1\nserver: s\nprofile: rfc9700\ndeviations:\n  - {id: a, verdict: fail, reason: does x}\n  - {id: gone, verdict: warn, reason: did y}\n  - {id: removed, verdict: fail, reason: was z}\n  - {id: other, verdict: fail, reason: not selected}\n").expect("valid");
        let mut r = report(
            Profile::Rfc9700,
            vec![
                result("a", Verdict::Fail),
                result("b", Verdict::Warn),
                result("c", Verdict::Pass),
                result("gone", Verdict::Pass),
            ],
        );
        b.apply(&mut r, |id| id != "other");
        let standing: Vec<(&str, Standing)> = r
            .results
            .iter()
            .map(|x| (x.id.as_str(), x.standing()))
            .collect();
        assert_eq!(
            standing,
            [
                ("a", Standing::Known),
                ("b", Standing::Fail),
                ("c", Standing::Pass),
                ("gone", Standing::Stale),
                ("removed", Standing::Stale),
            ]
        );
        assert_eq!(
            r.baseline,
            Some(BaselineSummary {
                server: "s".into(),
                known: 1,
                new: 1,
                stale: 2
            })
        );
        assert_eq!(
            (r.summary.failed, r.summary.known, r.summary.warned),
            (3, 1, 0)
        );
        assert_eq!(r.exit_status(), 1);
        assert!(
            r.results[0]
                .reason_shown()
                .starts_with("known deviation (fail): does x")
        );
        assert!(
            r.results[3]
                .reason_shown()
                .starts_with("stale baseline entry: listed as warn (did y), now pass")
        );
    }

    /// A listed race that this run did not win is not reproduced, not fixed: a pass of a check
    /// that judges by chance (a race step) stays known, saying so; any other pass of a listed
    /// deviation is stale.
    #[test]
    fn a_race_not_won_this_run_is_not_a_stale_entry() {
        let b = parse_baseline("b.yaml", "format: 1\nserver: s\nprofile: rfc9700\ndeviations:\n  - {id: race, verdict: fail, reason: two tokens for one code}\n  - {id: plain, verdict: fail, reason: does x}\n").expect("valid");
        let mut race = result("race", Verdict::Pass);
        race.by_chance = true;
        let mut r = report(Profile::Rfc9700, vec![race, result("plain", Verdict::Pass)]);
        b.apply(&mut r, |_| true);
        assert_eq!(r.results[0].id, "plain");
        assert_eq!(r.results[0].standing(), Standing::Stale);
        assert_eq!(r.results[1].standing(), Standing::Known);
        assert!(
            r.results[1]
                .reason_shown()
                .contains("not reproduced this run"),
            "{}",
            r.results[1].reason_shown()
        );
        assert_eq!(r.exit_status(), 1, "the stale plain entry still fails");
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
        let run = report(Profile::Oauth21, results);
        let text = draft(&run, "Acme: IdP 3.1");
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
        let mut gated = run.clone();
        b.apply(&mut gated, |_| true);
        assert_eq!(gated.exit_status(), 0);
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
