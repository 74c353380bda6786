//! What `--help` and the man pages say after the options: the exit statuses, the environment
//! and examples, written once here as text (clap prints it as is) and turned into man sections
//! (`EXIT STATUS`, `ENVIRONMENT`, `EXAMPLES`) for the pages.

/// The exit statuses every command shares (`Exit`), as a literal for `concat!`.
macro_rules! exit_status {
    () => {
        "Exit status:
  0    Success: no MUST failed (with --baseline: nothing new, nothing stale; with --fail-on: nothing at or above it)
  1    A check failed the gate
  2    Bad usage, or a scenario, target, baseline or report file that does not load or needs a change
  3    The target is unreachable or misbehaved, or a check could not be judged
  130  Interrupted (Ctrl-C); the reports hold what finished, marked interrupted
"
    };
}

/// The variables the harness reads, as a literal for `concat!`.
macro_rules! environment {
    () => {
        "Environment:
  NO_COLOR              Set (to anything): no colours
  CI                    Set: no live progress line, plain lines instead (also when stderr is not a terminal)
  PKCE_HARNESS_BROWSER  Chromium's executable for login: browser (default: chromium or chromium-browser on PATH)
  ${env:NAME}           Any variable a target file names, read while it loads; one that is not set is an error
"
    };
}

/// After `pkce-harness --help`.
pub(super) const TOP: &str = concat!(
    exit_status!(),
    environment!(),
    "Examples:
  pkce-harness run
      The whole library against the embedded reference server
  pkce-harness check --target target.yaml
      Preflight a target file: what to change before a run
  pkce-harness run --target target.yaml --baseline baseline.yaml --report sarif=results.sarif
      A CI gate with known deviations, SARIF for code scanning
  pkce-harness run --target target.yaml --only high --only CVE-2024-22258
      Only the high-severity checks and one CVE's"
);

/// After `pkce-harness run --help`.
pub(super) const RUN: &str = concat!(
    exit_status!(),
    environment!(),
    "Examples:
  pkce-harness run -q
      The whole library against the embedded server, the summary only
  pkce-harness run --defect accepts-wrong-verifier --only rfc7636/*
      See the RFC 7636 checks fail against a deliberately broken server
  pkce-harness run --target target.yaml --report junit=reports/junit.xml --report gitlab=gl-dast-report.json
      JUnit and GitLab's DAST report for a pipeline
  pkce-harness run --target target.yaml --only must --exclude low --fail-on medium
      The MUST checks but the low-severity ones; fail on medium and above
  pkce-harness run --target target.yaml --rerun-failed reports/report.json
      Again only what failed or could not be judged last time
"
);

/// After `pkce-harness check --help`.
pub(super) const CHECK: &str = concat!(
    "Exit status:
  0    Ready to run (a possible deviation of the server is printed as a warning)
  2    The target file or a client's settings need a change (each is named with what to change)
  3    The server is not reachable, or failed during a normal flow
Examples:
  pkce-harness check --target target.yaml
      Discovery and one normal flow per configured client
",
    environment!()
);

/// After `pkce-harness fuzz --help`.
pub(super) const FUZZ: &str = concat!(
    exit_status!(),
    environment!(),
    "Examples:
  pkce-harness fuzz --budget 1000 --seed 2
      1,000 generated cases per surface against the embedded server, replayable by seed
  pkce-harness fuzz --target target.yaml --budget 200 --report json=fuzz.json
      Against a live server, with a report"
);

/// After `pkce-harness validate --help`.
pub(super) const VALIDATE: &str = concat!(
    exit_status!(),
    "Examples:
  pkce-harness validate --target target.yaml
      The file loads (every error with its line and column); nothing is sent"
);

/// `text` (headings ending in `:`, items indented two spaces with their text after a gap of
/// two or more spaces or on lines indented six) as man sections.
pub(super) fn to_roff(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            let title = line.trim_end_matches(':').to_uppercase();
            out.push_str(&format!(".SH \"{title}\"\n"));
        } else if let Some(rest) = line.strip_prefix("      ") {
            out.push_str(&format!("{}\n", escape(rest.trim())));
        } else if let Some(item) = line.strip_prefix("  ") {
            let (term, what) = match item.find("  ") {
                Some(gap) => (&item[..gap], item[gap..].trim()),
                None => (item, ""),
            };
            out.push_str(&format!(".TP\n\\fB{}\\fR\n", escape(term)));
            if !what.is_empty() {
                out.push_str(&format!("{}\n", escape(what)));
            }
        }
    }
    out
}

/// Text as roff reads it literally: backslashes and dashes escaped, no line read as a request.
fn escape(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_items_become_man_requests() {
        let roff = to_roff(
            "Exit status:\n  0    Fine\nExamples:\n  pkce-harness run -q\n      The summary\n",
        );
        assert_eq!(
            roff,
            ".SH \"EXIT STATUS\"\n.TP\n\\fB0\\fR\nFine\n.SH \"EXAMPLES\"\n.TP\n\\fBpkce\\-harness run \\-q\\fR\nThe summary\n"
        );
    }
}
