//! The gate: what fails a run. By default a failed MUST (exit 1) and, failing nothing, a check
//! that could not be judged (exit 3). A baseline (`--baseline`) accepts the deviations it lists
//! and fails on new ones and on stale entries; a severity threshold (`--fail-on`) fails on
//! deviations at or above it, whatever their level, and on nothing below. The gate marks each
//! result before any report is written, so every format shows what the exit code says.

use crate::baseline::Baseline;
use crate::defect::Severity;
use crate::verdict::{RunReport, ScenarioResult, Summary};

/// The gate of a run.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    /// Known deviations.
    pub baseline: Option<Baseline>,
    /// The severity a deviation must reach to fail the run.
    pub fail_on: Option<Severity>,
}

impl Gate {
    /// Marks one result as it finishes (a listed deviation that did not run is only known at
    /// the end, in [`Gate::apply`]).
    pub fn mark(&self, r: &mut ScenarioResult) {
        if let Some(b) = &self.baseline {
            b.mark(r);
        }
        if let Some(t) = self.fail_on {
            r.gate_on_severity(t);
        }
    }

    /// Marks a whole run and recounts it; `selected` says which ids the run meant to run.
    pub fn apply(&self, report: &mut RunReport, selected: impl Fn(&str) -> bool) {
        if let Some(b) = &self.baseline {
            b.apply(report, selected);
        }
        if let Some(t) = self.fail_on {
            for r in &mut report.results {
                r.gate_on_severity(t);
            }
            report.fail_on = Some(t);
        }
        report.summary = Summary::of(&report.results);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::Profile;
    use crate::verdict::{Standing, Verdict};

    fn result(id: &str, verdict: Verdict, severity: Severity) -> ScenarioResult {
        ScenarioResult {
            spec: "s".into(),
            profile: Profile::Rfc9700,
            severity,
            ..ScenarioResult::new(id, verdict, "r")
        }
    }

    /// `--fail-on medium`: a low MUST failure does not fail the run, a medium SHOULD does; a
    /// skip and an error are left alone, and the exit status follows.
    #[test]
    fn a_severity_threshold_gates_on_severity_not_level() {
        let gate = Gate {
            baseline: None,
            fail_on: Some(Severity::Medium),
        };
        let mut results = vec![
            result("low-must", Verdict::Fail, Severity::Low),
            result("medium-should", Verdict::Warn, Severity::Medium),
            result("high-pass", Verdict::Pass, Severity::High),
            result("skip", Verdict::Skip, Severity::High),
        ];
        for r in &mut results {
            gate.mark(r);
        }
        let standing: Vec<Standing> = results.iter().map(ScenarioResult::standing).collect();
        assert_eq!(
            standing,
            [
                Standing::Below,
                Standing::Fail,
                Standing::Pass,
                Standing::Skip
            ]
        );
        assert!(
            results[0]
                .reason_shown()
                .starts_with("fail below --fail-on medium (severity low)")
        );
    }
}
