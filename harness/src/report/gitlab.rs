//! GitLab's DAST report (`gl-dast-report.json`, security report schema 15.2.1), so a GitLab
//! pipeline shows the findings in its merge request widget and security dashboard: one
//! vulnerability per unmet check, identified by the check and its requirements, located at the
//! endpoint it was judged at, with the last exchange as its evidence (redacted, like every
//! report). The test suite validates the output against the published schema
//! (`fixtures/schemas/gitlab-dast-report-format-15.2.1.json`).

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::findings::{first_source, help_uri, requirement_texts, scenario_id, unmet};
use crate::defect::Severity;
use crate::verdict::{Exchange, GateMark, RunReport, ScenarioResult, Verdict, parse_rfc3339};

/// The schema version the report conforms to.
const VERSION: &str = "15.2.1";

/// The GitLab DAST report of a run.
pub fn gitlab_dast_report(report: &RunReport) -> String {
    let tool = json!({
        "id": "pkce-harness",
        "name": "pkce-harness",
        "version": report.harness,
        "url": "https://www.rfc-editor.org/rfc/rfc7636",
        "vendor": {"name": "pkce-harness"},
    });
    let started = report.started.trim_end_matches('Z').to_owned();
    let ended = parse_rfc3339(&report.started)
        .map(|t| t + std::time::Duration::from_millis(report.duration_ms))
        .map_or_else(
            || started.clone(),
            |t| crate::verdict::rfc3339(t).trim_end_matches('Z').to_owned(),
        );
    let mut messages: Vec<Value> = report
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Error)
        .map(|r| json!({"level": "warn", "value": format!("{} could not be judged: {}", r.id, r.reason)}))
        .collect();
    if report.interrupted {
        messages.push(
            json!({"level": "fatal", "value": "the run was stopped before every check finished"}),
        );
    }
    let log = json!({
        "version": VERSION,
        "schema": format!("https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v{VERSION}/dist/dast-report-format.json"),
        "scan": {
            "analyzer": tool,
            "scanner": tool,
            "type": "dast",
            "start_time": started,
            "end_time": ended,
            "status": if report.interrupted { "failure" } else { "success" },
            "messages": messages,
            "options": [
                {"name": "profile", "value": report.profile.as_str(), "source": "argument"},
                {"name": "seed", "value": report.seed.to_string(), "source": "argument"},
            ],
            "scanned_resources": scanned(report),
        },
        "vulnerabilities": report
            .results
            .iter()
            .filter(|r| unmet(r))
            .map(|r| vulnerability(report, r))
            .collect::<Vec<_>>(),
    });
    super::json::pretty(&log)
}

/// Every endpoint the run sent to, once per method, without query (what the attack surface
/// was; the values sent are the evidence's).
fn scanned(report: &RunReport) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    for e in report.results.iter().flat_map(|r| &r.evidence) {
        seen.insert((e.method.clone(), bare(&e.url)));
    }
    seen.into_iter()
        .map(|(method, url)| json!({"method": method, "url": url, "type": "url"}))
        .collect()
}

fn bare(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_owned()
}

fn vulnerability(report: &RunReport, r: &ScenarioResult) -> Value {
    let check = scenario_id(&r.id);
    let source = first_source(r);
    let help = help_uri(source);
    let texts = requirement_texts(r);
    let mut description = format!(
        "{}\n\nWith the {} client: {}",
        r.title,
        r.client.as_str(),
        r.reason_shown()
    );
    match &r.gate {
        Some(GateMark::Known { reason }) => {
            description.push_str(&format!("\n\nListed in the baseline: {reason}"));
        }
        Some(GateMark::Stale { .. }) => {
            description
                .push_str("\n\nThe baseline lists it and this run did not see it: a stale entry.");
        }
        _ => {}
    }
    let mut identifiers = vec![json!({
        "type": "pkce-harness",
        "name": check,
        "value": check,
        "url": help,
    })];
    identifiers.extend(
        r.requirements
            .iter()
            .map(|q| json!({"type": "requirement", "name": q, "value": q})),
    );
    let shown = r.evidence.iter().rev().find(|e| e.status.is_some());
    let (method, path) = shown.map_or((String::new(), String::new()), |e| {
        let path = url::Url::parse(&e.url)
            .map(|u| u.path().to_owned())
            .unwrap_or_default();
        (e.method.clone(), path)
    });
    let mut v = json!({
        "id": uuid_of(&format!("{}\u{0}{}", report.issuer, r.id)),
        "name": r.title.chars().take(255).collect::<String>(),
        "description": description,
        "severity": severity(r),
        "solution": if texts.is_empty() { r.title.clone() } else { texts.join(" ") },
        "identifiers": identifiers,
        "links": [{"name": source, "url": help}],
        "location": {
            "hostname": report.issuer,
            "method": method,
            "path": path,
            "param": r.client.as_str(),
        },
    });
    if let Some(e) = shown {
        v["evidence"] = evidence(r, e);
    }
    v
}

/// The severity GitLab shows: the check's own for an unmet MUST or a stale baseline entry,
/// one step lower for a SHOULD, `Info` for a MAY.
fn severity(r: &ScenarioResult) -> &'static str {
    let of = |s: Severity| match s {
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
    };
    match r.verdict {
        Verdict::Info => "Info",
        Verdict::Warn => match r.severity {
            Severity::High => "Medium",
            _ => "Low",
        },
        _ => of(r.severity),
    }
}

fn evidence(r: &ScenarioResult, e: &Exchange) -> Value {
    let headers = |h: &[(String, String)]| -> Vec<Value> {
        h.iter()
            .filter(|(name, _)| !name.is_empty())
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect()
    };
    let mut request = json!({
        "headers": headers(&e.request_headers),
        "method": e.method,
        "url": e.url,
    });
    if let Some(b) = &e.request_body {
        request["body"] = json!(b);
    }
    let status = e.status.unwrap_or(0);
    let mut response = json!({
        "headers": headers(&e.response_headers),
        "reason_phrase": http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or(""),
        "status_code": status,
    });
    if let Some(b) = &e.response_body {
        response["body"] = json!(b);
    }
    json!({
        "source": {"id": format!("pkce-harness:{}", scenario_id(&r.id)), "name": r.title},
        "summary": r.reason_shown(),
        "request": request,
        "response": response,
    })
}

/// A stable UUID-shaped id (GitLab recommends a UUID), the same for the same check against the
/// same issuer in every run, so the dashboard tracks a finding across pipelines.
fn uuid_of(key: &str) -> String {
    let h = Sha256::digest(key.as_bytes());
    let hex: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_uuid_shaped() {
        let a = uuid_of("http://127.0.0.1:1\u{0}rfc7636/4.6-wrong-verifier");
        assert_eq!(
            a,
            uuid_of("http://127.0.0.1:1\u{0}rfc7636/4.6-wrong-verifier")
        );
        assert_ne!(
            a,
            uuid_of("http://127.0.0.1:2\u{0}rfc7636/4.6-wrong-verifier")
        );
        let lengths: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(lengths, [8, 4, 4, 4, 12]);
    }
}
