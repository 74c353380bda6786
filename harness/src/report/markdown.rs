use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::requirements::requirement;
use crate::verdict::{RunReport, ScenarioResult, Standing};

/// Table cells hold no pipes or line breaks.
/// A scenario id (the harness's own text) for a list item: one line.
fn cell(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// Text that may come from the server (a reason quotes what it answered) or the user (a target
/// name) as an inline code span: inside one, Markdown renders no HTML, no link and no emphasis,
/// so a server cannot put an image, a script or a link into a CI job summary. The fence is
/// longer than any run of backticks in the text, so the text cannot close it.
fn code(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.trim().is_empty() {
        return String::new();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in flat.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if flat.starts_with('`') || flat.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{flat}{pad}{fence}")
}

/// The Markdown summary of a run, sized for a CI job summary (GitHub's `$GITHUB_STEP_SUMMARY`,
/// a merge-request note): the counts by specification, then each finding in one line with its
/// requirements, then what could not be judged. Evidence stays in the JSON report.
pub fn markdown_summary(report: &RunReport) -> String {
    let mut md = String::new();
    // The heading says what the exit code says.
    let status = match (report.interrupted, report.exit_status(), &report.baseline) {
        (true, _, _) => "⏹️ interrupted: only the checks that finished are listed",
        (false, 1, Some(_)) => "❌ the baseline gate fails: a new deviation or a stale entry",
        (false, 1, None) => "❌ a MUST failed",
        (false, 3, _) => "⚠️ some checks could not be judged",
        (false, _, Some(_)) => "✅ the baseline gate holds: only known deviations",
        (false, _, None) => "✅ no MUST failed",
    };
    let _ = writeln!(md, "## pkce-harness: {status}\n");
    let _ = writeln!(
        md,
        "Target {} ({}), profile `{}`, seed `{}` (replay with `--seed {}`), pkce-harness {}, started {} and took {:.1} s.{}\n",
        code(&report.target),
        code(&report.issuer),
        report.profile.as_str(),
        report.seed,
        report.seed,
        report.harness,
        code(&report.started),
        report.duration_ms as f64 / 1000.0,
        if report.insecure {
            " **TLS certificates were not verified (`--insecure`).**"
        } else {
            ""
        }
    );
    if let Some(b) = &report.baseline {
        let _ = writeln!(
            md,
            "Baseline for {}: {} known deviations seen, {} new, {} stale.\n",
            code(&b.server),
            b.known,
            b.new,
            b.stale
        );
    }
    let columns = super::columns(report);
    let mut by_spec: BTreeMap<&str, BTreeMap<Standing, usize>> = BTreeMap::new();
    let mut all: BTreeMap<Standing, usize> = BTreeMap::new();
    for r in &report.results {
        *by_spec
            .entry(r.spec.as_str())
            .or_default()
            .entry(r.standing())
            .or_default() += 1;
        *all.entry(r.standing()).or_default() += 1;
    }
    let names: Vec<&str> = columns.iter().map(|c| c.as_str()).collect();
    let _ = writeln!(
        md,
        "| spec | {} |\n|---|{}",
        names.join(" | "),
        "---:|".repeat(columns.len())
    );
    let row = |counts: &BTreeMap<Standing, usize>| {
        columns
            .iter()
            .map(|c| counts.get(c).copied().unwrap_or(0).to_string())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    for (spec, n) in &by_spec {
        let _ = writeln!(md, "| {spec} | {} |", row(n));
    }
    let _ = writeln!(md, "| **all** | {} |", row(&all));
    let failing = if report.baseline.is_some() || report.fail_on.is_some() {
        "Failing the gate"
    } else {
        "Failed MUST requirements"
    };
    for (standing, heading) in [
        (Standing::Fail, failing),
        (Standing::Stale, "Stale baseline entries"),
        (Standing::Error, "Could not be judged"),
        (Standing::Warn, "Unmet SHOULD recommendations"),
        (Standing::Info, "Unmet MAY options"),
        (Standing::Below, "Below the --fail-on threshold"),
        (Standing::Known, "Known deviations (baseline)"),
    ] {
        let of: Vec<&ScenarioResult> = report
            .results
            .iter()
            .filter(|r| r.standing() == standing)
            .collect();
        if of.is_empty() {
            continue;
        }
        let _ = writeln!(md, "\n### {heading} ({})\n", of.len());
        for r in of {
            let _ = writeln!(
                md,
                "- **{}** ({}) [{}]: {}",
                cell(&r.id),
                r.severity.as_str(),
                r.requirements
                    .iter()
                    .map(|id| match requirement(id) {
                        Some(req) => format!("{id} {}", req.source),
                        None => id.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                code(&r.reason_shown())
            );
        }
    }
    let skipped: Vec<&ScenarioResult> = report
        .results
        .iter()
        .filter(|r| r.standing() == Standing::Skip)
        .collect();
    if !skipped.is_empty() {
        let _ = writeln!(
            md,
            "\n<details><summary>Skipped ({}), with the reason</summary>\n",
            skipped.len()
        );
        for r in skipped {
            let _ = writeln!(md, "- {}: {}", cell(&r.id), code(&r.reason));
        }
        md.push_str("\n</details>\n");
    }
    md
}

#[cfg(test)]
mod tests {
    use super::code;

    #[test]
    fn server_text_renders_as_code_only() {
        assert_eq!(
            code("expected HTTP 400, got 200"),
            "`expected HTTP 400, got 200`"
        );
        assert_eq!(
            code("<img src=x onerror=alert(1)> [a](https://evil.example)"),
            "`<img src=x onerror=alert(1)> [a](https://evil.example)`"
        );
        assert_eq!(code("a `` b"), "```a `` b```");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("line\nbreak\r"), "`line break `");
        assert_eq!(code(""), "");
    }
}
