use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::verdict::{RunReport, Verdict};

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

/// The JUnit document for a run: one `<testsuite>` per specification folder; a failed `must` is
/// a `<failure>`, a harness problem an `<error>`, a skip `<skipped>` with its reason; unmet
/// `should`/`may` pass with the finding in `<system-out>`.
pub fn junit_xml(report: &RunReport) -> String {
    let mut suites: BTreeMap<&str, Vec<&crate::verdict::ScenarioResult>> = BTreeMap::new();
    for r in &report.results {
        suites.entry(r.spec.as_str()).or_default().push(r);
    }
    let s = &report.summary;
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total_time: u64 = report.results.iter().map(|r| r.duration_ms).sum();
    let _ = writeln!(
        x,
        // No `skipped` here: Jenkins' junit-10 schema has it per suite only.
        "<testsuites name=\"pkce-harness\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3}\">",
        s.total,
        s.failed,
        s.errors,
        total_time as f64 / 1000.0
    );
    for (spec, results) in suites {
        let count = |v: Verdict| results.iter().filter(|r| r.verdict == v).count();
        let time: u64 = results.iter().map(|r| r.duration_ms).sum();
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            esc(spec),
            results.len(),
            count(Verdict::Fail),
            count(Verdict::Error),
            count(Verdict::Skip),
            time as f64 / 1000.0
        );
        let _ = writeln!(
            x,
            "    <properties><property name=\"profile\" value=\"{}\"/><property name=\"seed\" value=\"{}\"/><property name=\"target\" value=\"{}\"/><property name=\"tls_verified\" value=\"{}\"/>{}</properties>",
            report.profile.as_str(),
            report.seed,
            esc(&report.target),
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
                    "{}\nrequirements: {}\nlevel: {} client: {}\n",
                    r.title,
                    r.requirements.join(", "),
                    r.level.as_str(),
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
            match r.verdict {
                Verdict::Pass => x.push_str("/>\n"),
                Verdict::Fail => {
                    let _ = write!(
                        x,
                        ">\n      <failure message=\"{}\" type=\"must\">{}</failure>\n    </testcase>\n",
                        esc(&r.reason),
                        detail()
                    );
                }
                Verdict::Error => {
                    let _ = write!(
                        x,
                        ">\n      <error message=\"{}\" type=\"harness\">{}</error>\n    </testcase>\n",
                        esc(&r.reason),
                        detail()
                    );
                }
                Verdict::Skip => {
                    let _ = write!(
                        x,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                        esc(&r.reason)
                    );
                }
                Verdict::Warn | Verdict::Info => {
                    let _ = write!(
                        x,
                        ">\n      <system-out>{}: {}</system-out>\n    </testcase>\n",
                        r.verdict.as_str().to_uppercase(),
                        esc(&r.reason)
                    );
                }
            }
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}
