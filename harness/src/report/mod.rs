//! Reports: the terminal sink follows the engine's [`Event`] stream live; every file format is a
//! function of the finished [`RunReport`], written by one [`file_sink`]. Adding a format is one
//! file here (its render function) and one [`ReportFormat`] variant.

mod html;
mod json;
mod junit;
mod markdown;
mod terminal;

use std::io::Write;
use std::path::PathBuf;

pub use html::html_report;
pub use json::json_report;
pub use junit::junit_xml;
pub use markdown::markdown_summary;
pub use terminal::{Style, TerminalSink, Verbosity};

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
}

impl std::str::FromStr for ReportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "json" => Ok(Self::Json),
            "junit" => Ok(Self::Junit),
            "markdown" => Ok(Self::Markdown),
            "html" => Ok(Self::Html),
            other => Err(format!(
                "unknown report format {other:?}: expected json, junit, markdown or html"
            )),
        }
    }
}

/// A sink that writes one file in `format` when the run is done.
pub fn file_sink(format: ReportFormat, path: PathBuf) -> Box<dyn Sink + Send> {
    let render = match format {
        ReportFormat::Json => json_report,
        ReportFormat::Junit => junit_xml,
        ReportFormat::Markdown => markdown_summary,
        ReportFormat::Html => html_report,
    };
    Box::new(FileSink { path, render })
}

/// Every file format is a function of the finished run; only the terminal follows the run live.
struct FileSink {
    path: PathBuf,
    render: fn(&RunReport) -> String,
}

impl Sink for FileSink {
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        if let Event::Done(report) = event {
            write_file(&self.path, (self.render)(report).as_bytes())?;
        }
        Ok(())
    }
}

/// Writes `contents` to `path`, creating its folder.
fn write_file(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::File::create(path)?;
    f.write_all(contents)?;
    f.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::{ClientKind, Level, Profile};
    use crate::verdict::{Exchange, ScenarioResult, Summary, Verdict};

    /// What a hostile server can put into a reason and the evidence: a forged result line, an
    /// escape sequence, HTML and a link. Every sink neutralises it for what it writes into.
    #[test]
    fn server_text_is_neutralised_in_every_format() {
        let hostile =
            "x\r\nPASS forged\u{1b}[2J <img src=x onerror=alert(1)> [click](https://evil.example)";
        let result = ScenarioResult {
            id: "rfc7636/x".into(),
            title: "t".into(),
            spec: "rfc7636".into(),
            requirements: vec!["REQ-50".into()],
            level: Level::Must,
            client: ClientKind::Public,
            profile: Profile::Oauth21,
            verdict: Verdict::Fail,
            reason: hostile.into(),
            cause: None,
            guards: Vec::new(),
            evidence: vec![Exchange {
                step: "1 (token)".into(),
                method: "POST".into(),
                url: "https://as.example/token".into(),
                request_headers: Vec::new(),
                request_body: None,
                status: Some(400),
                response_headers: vec![("x-echo".into(), hostile.into())],
                response_body: Some(hostile.into()),
                error: None,
            }],
            duration_ms: 1,
        };
        let report = RunReport {
            version: crate::verdict::REPORT_VERSION,
            harness: "t".into(),
            target: "https://as.example".into(),
            profile: Profile::Oauth21,
            seed: 1,
            insecure: false,
            summary: Summary::of(std::slice::from_ref(&result)),
            results: vec![result],
        };
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
