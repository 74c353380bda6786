//! Several targets' runs as one report (`merge`): a CI matrix fans the targets out, one job
//! each, and the reports it brings back become one gate. Each format holds every target's part
//! whole (a JSON document of the reports, JUnit suites named by target, one SARIF run per
//! target, the GitLab vulnerabilities of all), with an overview first.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{gitlab_dast_report, junit, markdown_summary, sarif_report};
use crate::verdict::RunReport;

/// The exit status of the combined gate: 1 when any target fails it, else 3 when any check of
/// any target could not be judged, else 0.
pub fn combined_exit_status(reports: &[RunReport]) -> u8 {
    let statuses: Vec<u8> = reports.iter().map(RunReport::exit_status).collect();
    if statuses.contains(&1) {
        1
    } else if statuses.contains(&3) {
        3
    } else {
        0
    }
}

/// One JSON document: an overview per target and overall, then the reports as they were.
pub fn combined_json(reports: &[RunReport]) -> String {
    let targets: Vec<Value> = reports.iter().map(overview).collect();
    let doc = json!({
        "kind": "pkce-harness merged report",
        "exit_status": combined_exit_status(reports),
        "targets": targets,
        "reports": reports,
    });
    super::json::pretty(&doc)
}

fn overview(r: &RunReport) -> Value {
    json!({
        "target": r.target,
        "issuer": r.issuer,
        "profile": r.profile.as_str(),
        "passed": r.summary.passed,
        "failed": r.summary.failed,
        "errors": r.summary.errors,
        "exit_status": r.exit_status(),
    })
}

/// A table of the targets, then each target's summary under its own heading.
pub fn combined_markdown(reports: &[RunReport]) -> String {
    let status = match combined_exit_status(reports) {
        1 => "❌ a target fails the gate",
        3 => "⚠️ some checks could not be judged",
        _ => "✅ every target holds the gate",
    };
    let mut md = format!(
        "# pkce-harness: {} targets: {status}\n\n| target | issuer | passed | failed | errors | exit |\n|---|---|---|---|---|---|\n",
        reports.len()
    );
    for r in reports {
        let _ = writeln!(
            md,
            "| {} | `{}` | {} | {} | {} | {} |",
            r.target.replace('|', "\\|"),
            r.issuer,
            r.summary.passed,
            r.summary.failed,
            r.summary.errors,
            r.exit_status()
        );
    }
    for r in reports {
        md.push('\n');
        for line in markdown_summary(r).lines() {
            // One level down: each target's summary sits under the overview.
            if line.starts_with('#') {
                md.push('#');
            }
            md.push_str(line);
            md.push('\n');
        }
    }
    md
}

/// JUnit with every target's suites.
pub fn combined_junit(reports: &[RunReport]) -> String {
    junit::junit_of(reports)
}

/// SARIF with one run per target, each with its own `automationDetails.id`, so code scanning
/// keeps the targets' results apart.
pub fn combined_sarif(reports: &[RunReport]) -> String {
    let mut runs = Vec::new();
    let mut log = json!({});
    for r in reports {
        let Ok(mut one) = serde_json::from_str::<Value>(&sarif_report(r)) else {
            continue;
        };
        if let Some(Value::Array(rs)) = one.get_mut("runs") {
            for run in rs.iter_mut() {
                run["automationDetails"] = json!({"id": format!("pkce-harness/{}/", r.target)});
            }
            runs.append(rs);
        }
        log = one;
    }
    log["runs"] = Value::Array(runs);
    super::json::pretty(&log)
}

/// GitLab's DAST report of all targets: one scan (the first target's times and tool, every
/// target's resources) and every target's vulnerabilities.
pub fn combined_gitlab(reports: &[RunReport]) -> String {
    let mut doc: Option<Value> = None;
    for r in reports {
        let Ok(one) = serde_json::from_str::<Value>(&gitlab_dast_report(r)) else {
            continue;
        };
        match &mut doc {
            None => doc = Some(one),
            Some(all) => {
                for pointer in ["/vulnerabilities", "/scan/scanned_resources"] {
                    if let (Some(Value::Array(to)), Some(Value::Array(from))) =
                        (all.pointer_mut(pointer), one.pointer(pointer))
                    {
                        to.extend(from.iter().cloned());
                    }
                }
            }
        }
    }
    super::json::pretty(&doc.unwrap_or_default())
}
