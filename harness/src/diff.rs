//! Two runs compared (`pkce-harness diff OLD.json NEW.json`), for tracking a vendor's server
//! over releases and reviewing a regression: which checks are new or gone, which got fixed,
//! which got worse, and which changed otherwise.

use std::collections::BTreeMap;

use crate::verdict::{RunReport, Verdict};

/// How one check changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Only in the new run.
    New(Verdict),
    /// Only in the old run.
    Gone(Verdict),
    /// A deviation that now passes.
    Fixed(Verdict),
    /// Worse than before: a pass that now deviates, or a deviation at a higher level.
    Regressed {
        /// Before.
        old: Verdict,
        /// Now.
        new: Verdict,
    },
    /// Otherwise different (a skip that now runs, a deviation now milder).
    Changed {
        /// Before.
        old: Verdict,
        /// Now.
        new: Verdict,
    },
}

/// How bad a verdict is, for the direction of a change; a skip says nothing either way.
fn rank(v: Verdict) -> Option<u8> {
    match v {
        Verdict::Pass => Some(0),
        Verdict::Info => Some(1),
        Verdict::Warn => Some(2),
        Verdict::Error => Some(3),
        Verdict::Fail => Some(4),
        Verdict::Skip => None,
    }
}

/// Every check whose verdict differs between `old` and `new`, by id.
pub fn diff(old: &RunReport, new: &RunReport) -> BTreeMap<String, Change> {
    let before: BTreeMap<&str, Verdict> = old
        .results
        .iter()
        .map(|r| (r.id.as_str(), r.verdict))
        .collect();
    let after: BTreeMap<&str, Verdict> = new
        .results
        .iter()
        .map(|r| (r.id.as_str(), r.verdict))
        .collect();
    let mut out = BTreeMap::new();
    for (id, &n) in &after {
        let change = match before.get(id) {
            None => Some(Change::New(n)),
            Some(&o) if o == n => None,
            Some(&o) => Some(match (rank(o), rank(n)) {
                (Some(a), Some(0)) if a > 0 => Change::Fixed(o),
                (Some(a), Some(b)) if b > a => Change::Regressed { old: o, new: n },
                _ => Change::Changed { old: o, new: n },
            }),
        };
        if let Some(c) = change {
            out.insert((*id).to_owned(), c);
        }
    }
    for (id, &o) in &before {
        if !after.contains_key(id) {
            out.insert((*id).to_owned(), Change::Gone(o));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::{ScenarioResult, Summary};

    fn run(results: &[(&str, Verdict)]) -> RunReport {
        let results: Vec<ScenarioResult> = results
            .iter()
            .map(|(id, v)| {
                let mut r: ScenarioResult = serde_json::from_value(serde_json::json!({
                    "id": id, "title": "", "spec": "", "requirements": [], "level": "must",
                    "client": "public", "profile": "rfc9700", "verdict": v.as_str(),
                    "reason": "", "guards": [], "evidence": [], "duration_ms": 0
                }))
                .expect("result");
                r.verdict = *v;
                r
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "version": 1, "harness": "t", "target": "t", "profile": "rfc9700", "seed": 1,
            "insecure": false, "summary": Summary::of(&results), "results": results
        }))
        .expect("report")
    }

    #[test]
    fn new_gone_fixed_regressed_and_changed() {
        let old = run(&[
            ("a", Verdict::Fail),
            ("b", Verdict::Pass),
            ("c", Verdict::Warn),
            ("d", Verdict::Skip),
            ("gone", Verdict::Pass),
            ("same", Verdict::Fail),
        ]);
        let new = run(&[
            ("a", Verdict::Pass),
            ("b", Verdict::Warn),
            ("c", Verdict::Info),
            ("d", Verdict::Fail),
            ("fresh", Verdict::Fail),
            ("same", Verdict::Fail),
        ]);
        let d = diff(&old, &new);
        assert_eq!(d["a"], Change::Fixed(Verdict::Fail));
        assert_eq!(
            d["b"],
            Change::Regressed {
                old: Verdict::Pass,
                new: Verdict::Warn
            }
        );
        assert_eq!(
            d["c"],
            Change::Changed {
                old: Verdict::Warn,
                new: Verdict::Info
            }
        );
        assert_eq!(
            d["d"],
            Change::Changed {
                old: Verdict::Skip,
                new: Verdict::Fail
            }
        );
        assert_eq!(d["fresh"], Change::New(Verdict::Fail));
        assert_eq!(d["gone"], Change::Gone(Verdict::Pass));
        assert!(!d.contains_key("same"));
    }
}
