use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::requirements::requirement;
use crate::verdict::{RunReport, ScenarioResult, Verdict};

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
    let s = &report.summary;
    let mut md = String::new();
    let status = if report.interrupted {
        "⏹️ interrupted: only the checks that finished are listed"
    } else if s.failed > 0 {
        "❌ a MUST failed"
    } else if s.errors > 0 {
        "⚠️ some checks could not be judged"
    } else {
        "✅ no MUST failed"
    };
    let _ = writeln!(md, "## pkce-harness: {status}\n");
    let _ = writeln!(
        md,
        "Target {}, profile `{}`, seed `{}` (replay with `--seed {}`), pkce-harness {}.{}\n",
        code(&report.target),
        report.profile.as_str(),
        report.seed,
        report.seed,
        report.harness,
        if report.insecure {
            " **TLS certificates were not verified (`--insecure`).**"
        } else {
            ""
        }
    );
    let mut by_spec: BTreeMap<&str, [usize; 6]> = BTreeMap::new();
    for r in &report.results {
        by_spec.entry(r.spec.as_str()).or_default()[column(r.verdict)] += 1;
    }
    md.push_str("| spec | pass | fail | warn | info | skip | error |\n|---|---:|---:|---:|---:|---:|---:|\n");
    for (spec, n) in &by_spec {
        let _ = writeln!(
            md,
            "| {spec} | {} | {} | {} | {} | {} | {} |",
            n[0], n[1], n[2], n[3], n[4], n[5]
        );
    }
    let _ = writeln!(
        md,
        "| **all** | {} | {} | {} | {} | {} | {} |",
        s.passed, s.failed, s.warned, s.info, s.skipped, s.errors
    );
    for (verdict, heading) in [
        (Verdict::Fail, "Failed MUST requirements"),
        (Verdict::Error, "Could not be judged"),
        (Verdict::Warn, "Unmet SHOULD recommendations"),
        (Verdict::Info, "Unmet MAY options"),
    ] {
        let of: Vec<&ScenarioResult> = report
            .results
            .iter()
            .filter(|r| r.verdict == verdict)
            .collect();
        if of.is_empty() {
            continue;
        }
        let _ = writeln!(md, "\n### {heading} ({})\n", of.len());
        for r in of {
            let _ = writeln!(
                md,
                "- **{}** [{}]: {}",
                cell(&r.id),
                r.requirements
                    .iter()
                    .map(|id| match requirement(id) {
                        Some(req) => format!("{id} {}", req.source),
                        None => id.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                code(&r.reason)
            );
        }
    }
    let skipped: Vec<&ScenarioResult> = report
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Skip)
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

fn column(v: Verdict) -> usize {
    match v {
        Verdict::Pass => 0,
        Verdict::Fail => 1,
        Verdict::Warn => 2,
        Verdict::Info => 3,
        Verdict::Skip => 4,
        Verdict::Error => 5,
    }
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
