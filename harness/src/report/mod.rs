//! Reports: the terminal sink follows the engine's [`Event`] stream live; every file format is a
//! function of the finished [`RunReport`], written by one [`file_sink`]. Adding a format is one
//! file here (its render function) and one [`ReportFormat`] variant.

mod combined;
mod findings;
mod gitlab;
mod html;
mod json;
mod junit;
mod markdown;
mod sarif;
mod terminal;

use std::io::Write;
use std::path::PathBuf;

pub use combined::{
    combined_exit_status, combined_gitlab, combined_json, combined_junit, combined_markdown,
    combined_sarif,
};
pub use gitlab::gitlab_dast_report;
pub use html::html_report;
pub use json::json_report;
pub use junit::junit_xml;
pub use markdown::markdown_summary;
pub use sarif::sarif_report;
pub use terminal::{Style, TerminalSink, Verbosity, counts, line as terminal_line};

use crate::engine::Event;
use crate::verdict::RunReport;

/// A consumer of engine events.
pub trait Sink {
    /// Called for every event, in order.
    fn event(&mut self, event: &Event) -> std::io::Result<()>;
}

/// A file report format, as in `--report json=PATH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// The versioned JSON report.
    Json,
    /// JUnit XML for CI systems.
    Junit,
    /// A Markdown summary for a CI job page.
    Markdown,
    /// A single-file HTML report with the evidence.
    Html,
    /// SARIF 2.1.0 for code scanning and security dashboards.
    Sarif,
    /// GitLab's DAST report (`gl-dast-report.json`) for its security dashboard.
    Gitlab,
}

impl std::str::FromStr for ReportFormat {
    type Err = crate::diagnostics::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const NAMES: [&str; 6] = ["json", "junit", "markdown", "html", "sarif", "gitlab"];
        match s {
            "json" => Ok(Self::Json),
            "junit" => Ok(Self::Junit),
            "markdown" => Ok(Self::Markdown),
            "html" => Ok(Self::Html),
            "sarif" => Ok(Self::Sarif),
            "gitlab" => Ok(Self::Gitlab),
            other => Err(crate::diagnostics::UnknownName::new(
                "report format",
                other,
                NAMES,
            )),
        }
    }
}

/// Where a file format goes: a path, or standard output (`-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Standard output; the terminal sink then writes to standard error.
    Stdout,
    /// A file, written whole when the run ends (a temporary file renamed into place).
    File(PathBuf),
}

impl Destination {
    /// `-` is standard output, anything else a path.
    pub fn parse(s: &str) -> Self {
        if s == "-" {
            Self::Stdout
        } else {
            Self::File(PathBuf::from(s))
        }
    }
}

/// Checks report destinations before a run, so a bad one fails in a second rather than after
/// the whole run: no path twice, standard output at most once, and every folder writable (its
/// folder is created and a probe file written and removed).
pub fn check_destinations(reports: &[(ReportFormat, Destination)]) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut stdout = 0;
    for (_, dest) in reports {
        match dest {
            Destination::Stdout => {
                stdout += 1;
                if stdout > 1 {
                    return Err("only one report can go to standard output (-)".into());
                }
            }
            Destination::File(path) => {
                let dir = folder(path);
                std::fs::create_dir_all(&dir).map_err(|e| {
                    format!("report {}: cannot create its folder: {e}", path.display())
                })?;
                let real = std::fs::canonicalize(&dir)
                    .unwrap_or(dir.clone())
                    .join(path.file_name().unwrap_or_default());
                if !seen.insert(real) {
                    return Err(format!(
                        "report {} is named twice; each format needs its own file",
                        path.display()
                    ));
                }
                if let Some(kind) = not_a_file(path) {
                    return Err(format!(
                        "report {} is {kind}; a report goes to a regular file or a new path (it is written beside and renamed over, which would replace it)",
                        path.display()
                    ));
                }
                let probe = temporary(path);
                std::fs::write(&probe, b"")
                    .and_then(|()| std::fs::remove_file(&probe))
                    .map_err(|e| format!("report {}: cannot write there: {e}", path.display()))?;
            }
        }
    }
    Ok(())
}

/// What `path` is, when it exists and is not a regular file (links followed): a report
/// renamed over a device, a FIFO or a socket would replace it.
fn not_a_file(path: &std::path::Path) -> Option<&'static str> {
    let meta = std::fs::metadata(path).ok()?;
    let kind = meta.file_type();
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_char_device() || kind.is_block_device() {
            return Some("a device");
        }
        if kind.is_fifo() {
            return Some("a FIFO");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

fn folder(path: &std::path::Path) -> PathBuf {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
}

/// The temporary file a report is written to before it is renamed into place.
fn temporary(path: &std::path::Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    folder(path).join(format!(".{name}.{}.tmp", std::process::id()))
}

/// How `format` renders several targets' runs at once (`merge`); HTML has no combined form
/// (each target's report is its own page).
pub fn combined_renderer(format: ReportFormat) -> Option<fn(&[RunReport]) -> String> {
    match format {
        ReportFormat::Json => Some(combined_json),
        ReportFormat::Junit => Some(combined_junit),
        ReportFormat::Markdown => Some(combined_markdown),
        ReportFormat::Sarif => Some(combined_sarif),
        ReportFormat::Gitlab => Some(combined_gitlab),
        ReportFormat::Html => None,
    }
}

/// A sink that writes `format` to `dest` when the run is done.
pub fn file_sink(format: ReportFormat, dest: Destination) -> Box<dyn Sink + Send> {
    let render = match format {
        ReportFormat::Json => json_report,
        ReportFormat::Junit => junit_xml,
        ReportFormat::Markdown => markdown_summary,
        ReportFormat::Html => html_report,
        ReportFormat::Sarif => sarif_report,
        ReportFormat::Gitlab => gitlab_dast_report,
    };
    Box::new(FileSink { dest, render })
}

/// Every file format is a function of the finished run; only the terminal follows the run live.
struct FileSink {
    dest: Destination,
    render: fn(&RunReport) -> String,
}

impl Sink for FileSink {
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        if let Event::Done(report) = event {
            let text = (self.render)(report);
            match &self.dest {
                Destination::Stdout => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(text.as_bytes())?;
                    out.flush()?;
                }
                Destination::File(path) => write_file(path, text.as_bytes())?,
            }
        }
        Ok(())
    }
}

/// Writes `contents` to `path` whole or not at all: into a temporary file in the same folder,
/// renamed over `path`, so a reader (or an interrupted run) never sees half a report. The error
/// names the path.
fn write_file(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    let named =
        |e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    std::fs::create_dir_all(folder(path)).map_err(named)?;
    if let Some(kind) = not_a_file(path) {
        return Err(named(std::io::Error::other(format!(
            "is {kind}, not replaced"
        ))));
    }
    let tmp = temporary(path);
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(contents)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(named(e));
    }
    Ok(())
}

/// The standings a report counts in columns, pass first: `known` and `stale` only under a
/// baseline, `below` only under `--fail-on`, so a plain run's tables keep their six columns.
pub fn columns(report: &crate::verdict::RunReport) -> Vec<crate::verdict::Standing> {
    use crate::verdict::Standing;
    let mut c = vec![
        Standing::Pass,
        Standing::Fail,
        Standing::Warn,
        Standing::Info,
        Standing::Skip,
        Standing::Error,
    ];
    if report.baseline.is_some() {
        c.extend([Standing::Known, Standing::Stale]);
    }
    if report.fail_on.is_some() {
        c.push(Standing::Below);
    }
    c
}

/// "1 check", "2 checks": a result is a check (a scenario run with one client); a scenario is a
/// file.
pub fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// "1 check", "107 checks".
pub fn checks(n: usize) -> String {
    counted(n, "check")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::Profile;
    use crate::verdict::{Exchange, ScenarioResult, Summary, Verdict};

    fn a_result(id: &str, verdict: Verdict, reason: &str) -> ScenarioResult {
        ScenarioResult {
            title: "t".into(),
            spec: "rfc7636".into(),
            requirements: vec!["REQ-50".into()],
            profile: Profile::Oauth21,
            duration_ms: 1,
            ..ScenarioResult::new(id, verdict, reason)
        }
    }

    fn a_report(results: Vec<ScenarioResult>) -> RunReport {
        RunReport {
            version: crate::verdict::REPORT_VERSION,
            harness: "t".into(),
            target: "https://as.example".into(),
            issuer: "https://as.example".into(),
            started: "2026-11-29T08:00:00Z".into(),
            duration_ms: 1200,
            baseline: None,
            fail_on: None,
            target_file: None,
            target_lines: Default::default(),
            profile: Profile::Oauth21,
            seed: 1,
            insecure: false,
            interrupted: false,
            server_failures: 0,
            summary: Summary::of(&results),
            results,
        }
    }

    /// `-q` shows only the summary, and the summary names every check that could not be judged
    /// with its reason, as it names the failures: an exit 3 is never left unexplained.
    #[test]
    fn the_quiet_summary_names_the_checks_that_could_not_be_judged() {
        let report = a_report(vec![
            a_result("rfc7636/ok", Verdict::Pass, ""),
            a_result(
                "rfc7636/stuck",
                Verdict::Error,
                "the login form came back after submitting it twice",
            ),
        ]);
        let mut terminal = TerminalSink::new(Vec::new(), true);
        for r in &report.results {
            terminal
                .event(&Event::Finished(Box::new(r.clone())))
                .expect("writes");
        }
        terminal
            .event(&Event::Done(Box::new(report.clone())))
            .expect("writes");
        let shown = String::from_utf8(terminal.into_inner()).expect("utf-8");
        assert!(
            shown.contains("could not be judged")
                && shown.contains(
                    "rfc7636/stuck [REQ-50]: the login form came back after submitting it twice"
                ),
            "{shown}"
        );
        assert!(!shown.contains("rfc7636/ok"), "{shown}");
    }

    /// What a hostile server can put into a reason and the evidence: a forged result line, an
    /// escape sequence, HTML and a link. Every sink neutralises it for what it writes into.
    #[test]
    fn destinations_are_checked_before_the_run() {
        let dir = std::env::temp_dir().join(format!("pkce-harness-dest-{}", std::process::id()));
        let a = Destination::File(dir.join("r.json"));
        assert_eq!(
            check_destinations(&[(ReportFormat::Json, a.clone())]),
            Ok(())
        );
        let twice = check_destinations(&[(ReportFormat::Json, a.clone()), (ReportFormat::Html, a)]);
        assert!(twice.is_err_and(|e| e.contains("named twice")));
        let two_stdout = check_destinations(&[
            (ReportFormat::Json, Destination::Stdout),
            (ReportFormat::Junit, Destination::Stdout),
        ]);
        assert!(two_stdout.is_err_and(|e| e.contains("standard output")));
        let bad = Destination::File(PathBuf::from("/proc/no-such/r.json"));
        let e = check_destinations(&[(ReportFormat::Json, bad)]).expect_err("unwritable");
        assert!(e.contains("/proc/no-such/r.json"), "{e}");
        assert_eq!(Destination::parse("-"), Destination::Stdout);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reports_are_written_whole_or_not_at_all() {
        let dir = std::env::temp_dir().join(format!("pkce-harness-atomic-{}", std::process::id()));
        let path = dir.join("r.txt");
        write_file(&path, b"first").expect("writes");
        write_file(&path, b"second").expect("replaces");
        assert_eq!(std::fs::read(&path).expect("reads"), b"second");
        let left: Vec<_> = std::fs::read_dir(&dir).expect("dir").collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
        let e = write_file(&PathBuf::from("/proc/no-such/r.txt"), b"x").expect_err("fails");
        assert!(e.to_string().contains("/proc/no-such/r.txt"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn server_text_is_neutralised_in_every_format() {
        let hostile =
            "x\r\nPASS forged\u{1b}[2J <img src=x onerror=alert(1)> [click](https://evil.example)";
        let mut result = a_result("rfc7636/x", Verdict::Fail, hostile);
        result.evidence = vec![Exchange {
            step: "1 (token)".into(),
            method: "POST".into(),
            url: "https://as.example/token".into(),
            request_headers: Vec::new(),
            request_body: None,
            status: Some(400),
            response_headers: vec![("x-echo".into(), hostile.into())],
            response_body: Some(hostile.into()),
            error: None,
        }];
        result.login = vec![hostile.into()];
        let report = a_report(vec![result]);
        let mut terminal = TerminalSink::with_style(
            Vec::new(),
            Style {
                color: false,
                progress: false,
                verbosity: Verbosity::Verbose,
            },
        );
        terminal
            .event(&Event::Finished(Box::new(report.results[0].clone())))
            .expect("writes");
        terminal
            .event(&Event::Done(Box::new(report.clone())))
            .expect("writes");
        let shown = String::from_utf8(terminal.into_inner()).expect("utf-8");
        assert!(!shown.contains('\u{1b}'), "{shown}");
        assert!(!shown.lines().any(|l| l.starts_with("PASS")), "{shown}");
        let md = markdown_summary(&report);
        assert!(md.contains("`x  PASS forged [2J <img"), "{md}");
        assert!(!md.lines().any(|l| l.starts_with("PASS")), "{md}");
        let html = html_report(&report);
        assert!(
            !html.contains("<img src=x") && html.contains("&lt;img src=x"),
            "html escapes"
        );
        assert!(!html.contains('\u{1b}'));
        let junit = junit_xml(&report);
        assert!(
            !junit.contains("<img") && !junit.contains('\u{1b}'),
            "{junit}"
        );
    }
}
