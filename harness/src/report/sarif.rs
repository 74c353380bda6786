//! SARIF 2.1.0, for GitHub code scanning and the security dashboards that read it: one rule per
//! scenario (its title, its requirements' text, a help link to the RFC section, its severity as
//! `security-severity`), one result per unmet check, its level from the verdict. A deviation the
//! baseline lists is a result with an external suppression (its reason); a stale entry is a
//! result too. Every result points at the line of the target file that sets up what the check
//! ran with, by a path relative to the checkout, or, for the embedded server, at the scenario's
//! file in the library. The test suite validates the output against the official
//! schema (`fixtures/schemas/sarif-schema-2.1.0.json`).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_json::{Value, json};

use super::findings::{first_source, help_uri, requirement_texts, scenario_id, unmet};
use crate::defect::Severity;
use crate::verdict::{GateMark, RunReport, ScenarioResult, Standing, Verdict};

/// The schema URI of SARIF 2.1.0 (OASIS Standard, errata 01).
const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The SARIF log of a run.
pub fn sarif_report(report: &RunReport) -> String {
    let mut rules: BTreeMap<&str, &ScenarioResult> = BTreeMap::new();
    for r in &report.results {
        rules.entry(scenario_id(&r.id)).or_insert(r);
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let rules: Vec<Value> = rules.iter().map(|(id, r)| rule(id, r)).collect();
    let cwd = std::env::current_dir().unwrap_or_default();
    let results: Vec<Value> = report
        .results
        .iter()
        .filter(|r| unmet(r))
        .map(|r| {
            let location = location(report, r, &cwd);
            result(r, index[scenario_id(&r.id)], location)
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "pkce-harness",
                "version": report.harness,
                "semanticVersion": report.harness,
                "informationUri": "https://www.rfc-editor.org/rfc/rfc7636",
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": !report.interrupted,
                "startTimeUtc": report.started,
                "properties": {
                    "target": report.target,
                    "issuer": report.issuer,
                    "profile": report.profile.as_str(),
                    "seed": report.seed,
                    "durationMs": report.duration_ms,
                    "exitStatus": report.exit_status(),
                },
            }],
            "results": results,
        }],
    });
    super::json::pretty(&log)
}

fn rule(id: &str, r: &ScenarioResult) -> Value {
    let texts = requirement_texts(r);
    let source = first_source(r);
    let level = match r.level {
        crate::scenario::model::Level::Must => "error",
        crate::scenario::model::Level::Should => "warning",
        crate::scenario::model::Level::May => "note",
    };
    let mut tags = vec!["security".to_owned(), "oauth".to_owned(), r.spec.clone()];
    tags.extend(r.requirements.iter().cloned());
    json!({
        "id": id,
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": if texts.is_empty() { r.title.clone() } else { texts.join(" ") }},
        "helpUri": help_uri(source),
        "help": {"text": format!("{}. Requirements: {}.", r.title, r.requirements.join(", "))},
        "defaultConfiguration": {"level": level},
        "properties": {
            "tags": tags,
            "security-severity": security_severity(r.severity),
            "severity": r.severity.as_str(),
            "precision": "very-high",
        },
    })
}

/// Where a result points (GitHub code scanning places only results with a file and a line):
/// the target file, at the line that sets up the client the check ran with (else the issuer,
/// the endpoints, the first line). Without a target file (the embedded server) it is the
/// scenario's own file in the library, `scenarios/<id>.yaml`.
fn location(report: &RunReport, r: &ScenarioResult, cwd: &Path) -> Value {
    let (path, line) = match &report.target_file {
        Some(file) => {
            let lines = &report.target_lines;
            let line = [
                format!("clients.{}", r.client.as_str()),
                "issuer".into(),
                "endpoints".into(),
            ]
            .iter()
            .find_map(|k| lines.get(k).copied())
            .unwrap_or(1);
            (file.clone(), line)
        }
        None => (format!("scenarios/{}.yaml", scenario_id(&r.id)), 1),
    };
    json!({"physicalLocation": {
        "artifactLocation": artifact(&path, cwd),
        "region": {"startLine": line.max(1)},
    }})
}

/// A file as SARIF names it: relative to the working directory (the checkout a CI job runs in)
/// under `uriBaseId` `%SRCROOT%`, with `.` and `..` resolved; a file outside it by its absolute
/// `file:` URI.
fn artifact(path: &str, cwd: &Path) -> Value {
    let joined = cwd.join(path);
    let mut absolute = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                absolute.pop();
            }
            other => absolute.push(other),
        }
    }
    match absolute.strip_prefix(cwd) {
        Ok(relative) => {
            let segments: Vec<String> = relative
                .components()
                .map(|c| {
                    percent_encoding::utf8_percent_encode(&c.as_os_str().to_string_lossy(), SEGMENT)
                        .to_string()
                })
                .collect();
            json!({"uri": segments.join("/"), "uriBaseId": SRCROOT})
        }
        Err(_) => match url::Url::from_file_path(&absolute) {
            Ok(u) => json!({"uri": u.as_str()}),
            Err(()) => json!({"uri": path}),
        },
    }
}

/// The base a relative artifact URI is resolved against: the repository's checkout.
const SRCROOT: &str = "%SRCROOT%";

/// What a path segment of a URI escapes (RFC 3986 §3.3: everything but unreserved characters
/// and sub-delims that are safe in file names).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'+')
    .remove(b'@');

fn result(r: &ScenarioResult, rule_index: usize, location: Value) -> Value {
    let level = match (r.standing(), r.verdict) {
        (Standing::Stale, _) | (_, Verdict::Fail) => "error",
        (_, Verdict::Warn) => "warning",
        _ => "note",
    };
    let mut v = json!({
        "ruleId": scenario_id(&r.id),
        "ruleIndex": rule_index,
        "level": level,
        "kind": "fail",
        "message": {"text": r.reason_shown()},
        "locations": [location],
        "partialFingerprints": {"checkId/v1": r.id},
        "properties": {
            "client": r.client.as_str(),
            "verdict": r.verdict.as_str(),
            "standing": r.standing().as_str(),
            "severity": r.severity.as_str(),
            "requirements": r.requirements,
        },
    });
    match &r.gate {
        Some(GateMark::Known { reason }) => {
            v["suppressions"] = json!([{"kind": "external", "justification": reason}]);
            v["baselineState"] = json!("unchanged");
        }
        Some(GateMark::New) => v["baselineState"] = json!("new"),
        Some(GateMark::Stale { .. }) => v["baselineState"] = json!("absent"),
        _ => {}
    }
    v
}

/// GitHub sorts by `security-severity`: high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::High => "8.0",
        Severity::Medium => "5.0",
        Severity::Low => "2.0",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_are_relative_to_the_checkout_without_dots() {
        let cwd = Path::new("/work/repo");
        assert_eq!(
            artifact("./ci/../ci/my target.yaml", cwd),
            json!({"uri": "ci/my%20target.yaml", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact("/work/repo/targets/a.yaml", cwd),
            json!({"uri": "targets/a.yaml", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact("../elsewhere/t.yaml", cwd),
            json!({"uri": "file:///work/elsewhere/t.yaml"})
        );
    }
}
