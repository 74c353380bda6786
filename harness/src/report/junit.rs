use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::verdict::{GateMark, RunReport, Standing};

fn esc(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
        })
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The JUnit document for a run: one `<testsuite>` per specification folder. What fails the
/// gate (a failed `must`; under a baseline a new deviation or a stale entry) is a `<failure>`, a
/// check that could not be judged an `<error>`, a skip `<skipped>` with its reason. A known
/// deviation and an unmet `should` or `may` are `<skipped>` with a message saying so, which
/// GitLab and Jenkins both list (neither shows `<system-out>` of a passed case in its summary);
/// the detail goes to `<system-out>` as well.
pub fn junit_xml(report: &RunReport) -> String {
    junit_of(std::slice::from_ref(report))
}

/// The JUnit document of several targets' runs (`merge`): their suites side by side, each
/// named `target: spec` when there is more than one target.
pub fn junit_of(reports: &[RunReport]) -> String {
    let sum = |f: fn(&RunReport) -> usize| reports.iter().map(f).sum::<usize>();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        // No `skipped` here: Jenkins' junit-10 schema has it per suite only. The time is the
        // runs' wall time: checks run in parallel, so their durations add up to more.
        "<testsuites name=\"pkce-harness\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3}\">",
        sum(|r| r.summary.total),
        sum(|r| r.summary.failed),
        sum(|r| r.summary.errors),
        reports.iter().map(|r| r.duration_ms).max().unwrap_or(0) as f64 / 1000.0
    );
    for report in reports {
        let prefix = if reports.len() > 1 {
            format!("{}: ", report.target)
        } else {
            String::new()
        };
        suites(&mut x, report, &prefix);
    }
    x.push_str("</testsuites>\n");
    x
}

/// One `<testsuite>` per specification folder of `report`, named with `prefix`.
fn suites(x: &mut String, report: &RunReport, prefix: &str) {
    let mut suites: BTreeMap<&str, Vec<&crate::verdict::ScenarioResult>> = BTreeMap::new();
    for r in &report.results {
        suites.entry(r.spec.as_str()).or_default().push(r);
    }
    for (spec, results) in suites {
        let count = |f: fn(Standing) -> bool| results.iter().filter(|r| f(r.standing())).count();
        // A suite's checks overlap in time too: its span is at most the run's.
        let time = results
            .iter()
            .map(|r| r.duration_ms)
            .max()
            .unwrap_or(0)
            .min(report.duration_ms.max(1));
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\"{}>",
            esc(&format!("{prefix}{spec}")),
            results.len(),
            count(Standing::fails_gate),
            count(|s| s == Standing::Error),
            count(|s| matches!(
                s,
                Standing::Skip
                    | Standing::Known
                    | Standing::Below
                    | Standing::Warn
                    | Standing::Info
            )),
            time as f64 / 1000.0,
            // xs:dateTime; an interrupted report written before the clock was read has none.
            if report.started.is_empty() {
                String::new()
            } else {
                format!(" timestamp=\"{}\"", esc(&report.started))
            }
        );
        let _ = writeln!(
            x,
            "    <properties><property name=\"harness\" value=\"{}\"/><property name=\"profile\" value=\"{}\"/><property name=\"seed\" value=\"{}\"/><property name=\"target\" value=\"{}\"/><property name=\"issuer\" value=\"{}\"/><property name=\"started\" value=\"{}\"/><property name=\"tls_verified\" value=\"{}\"/>{}</properties>",
            esc(&report.harness),
            report.profile.as_str(),
            report.seed,
            esc(&report.target),
            esc(&report.issuer),
            esc(&report.started),
            !report.insecure,
            if report.interrupted {
                "<property name=\"interrupted\" value=\"true\"/>"
            } else {
                ""
            }
        );
        for r in results {
            let _ = write!(
                x,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
                esc(&r.id),
                esc(&format!("pkce-harness.{spec}")),
                r.duration_ms as f64 / 1000.0
            );
            let detail = || {
                let mut d = format!(
                    "{}\nrequirements: {}\nlevel: {} severity: {} client: {}\n",
                    r.title,
                    r.requirements.join(", "),
                    r.level.as_str(),
                    r.severity.as_str(),
                    r.client.as_str()
                );
                if let Some((expected, actual)) = r.cause.as_ref().and_then(|c| c.expected_actual())
                {
                    let _ = writeln!(d, "expected: {expected}\nactual: {actual}");
                }
                for e in &r.evidence {
                    let _ = writeln!(
                        d,
                        "[{}] {} {} -> {}",
                        e.step,
                        e.method,
                        e.url,
                        e.status
                            .map_or_else(|| e.error.clone().unwrap_or_default(), |s| s.to_string())
                    );
                }
                esc(&d)
            };
            let reason = esc(&r.reason_shown());
            match r.standing() {
                Standing::Pass => x.push_str("/>\n"),
                Standing::Fail | Standing::Stale => {
                    let kind = match &r.gate {
                        Some(GateMark::Stale { .. }) => "stale-baseline-entry",
                        Some(GateMark::New) => "new-deviation",
                        Some(GateMark::Over { .. }) => "severity",
                        _ => "must",
                    };
                    let _ = write!(
                        x,
                        ">\n      <failure message=\"{reason}\" type=\"{kind}\">{}</failure>\n    </testcase>\n",
                        detail()
                    );
                }
                Standing::Error => {
                    let _ = write!(
                        x,
                        ">\n      <error message=\"{reason}\" type=\"harness\">{}</error>\n    </testcase>\n",
                        detail()
                    );
                }
                Standing::Skip => {
                    let _ = write!(
                        x,
                        ">\n      <skipped message=\"{reason}\"/>\n    </testcase>\n"
                    );
                }
                Standing::Warn | Standing::Info | Standing::Known | Standing::Below => {
                    let label = match r.standing() {
                        Standing::Warn => "WARN (SHOULD not met)",
                        Standing::Info => "INFO (MAY not met)",
                        Standing::Below => "BELOW the --fail-on threshold",
                        _ => "KNOWN deviation",
                    };
                    let _ = write!(
                        x,
                        ">\n      <skipped message=\"{label}: {reason}\"/>\n      <system-out>{label}: {reason}\n{}</system-out>\n    </testcase>\n",
                        detail()
                    );
                }
            }
        }
        x.push_str("  </testsuite>\n");
    }
}
