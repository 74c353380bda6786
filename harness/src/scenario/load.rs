//! Finding and reading scenario files. Discovery is by scanning: adding a check is adding a file.

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::model::{ScenarioFile, Step};

/// A loaded scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The id, from the path: `rfc7636/4.6-verifier-mismatch`.
    pub id: String,
    /// The file it came from.
    pub path: PathBuf,
    /// Its content.
    pub file: ScenarioFile,
}

/// A file that could not be loaded, pointing at the cause.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LoadError {
    /// Malformed YAML or a value the format does not allow.
    #[error("{file}:{line}:{column}: {message}\n{snippet}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What is wrong.
        message: String,
        /// The line with a caret under the column.
        snippet: String,
    },
    /// The file or folder could not be read.
    #[error("{file}: {message}")]
    Io {
        /// The path.
        file: String,
        /// The operating system's reason.
        message: String,
    },
}

/// Reads a YAML document into `T` with the strict options every input file of the harness uses:
/// YAML 1.2 booleans only (`no` stays a string), duplicate keys rejected, bounded size.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, LoadError> {
    let options = serde_saphyr::options! { strict_booleans: true, with_snippet: false };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let (line, column) = e
            .location()
            .map_or((1, 1), |l| (l.line().max(1), l.column().max(1)));
        located(file, text, line, column, first_line(&e.to_string()))
    })
}

/// A [`LoadError::Syntax`] with the snippet made from `text`.
pub fn located(file: &str, text: &str, line: u64, column: u64, message: String) -> LoadError {
    let src = yaml_lines(text)
        .nth(usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX))
        .unwrap_or("");
    let gutter = line.to_string().len();
    let pad = " ".repeat(gutter);
    let caret = " ".repeat(
        usize::try_from(column.saturating_sub(1))
            .unwrap_or(0)
            .min(src.len()),
    );
    let snippet = format!("{pad} |\n{line} | {src}\n{pad} | {caret}^");
    LoadError::Syntax {
        file: file.to_owned(),
        line,
        column,
        message,
        snippet,
    }
}

/// The lines of `text` as YAML counts them: `\r\n`, `\r` and `\n` each end one (YAML 1.2
/// §5.4), so a file with old Mac line ends is shown at the line the parser names.
pub fn yaml_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let s = rest?;
        match s.find(['\r', '\n']) {
            Some(i) => {
                let skip = if s[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&s[i + skip..]);
                Some(&s[..i])
            }
            None => {
                rest = None;
                Some(s)
            }
        }
    })
}

/// The message without the location suffix serde-saphyr appends (we print our own).
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or(message);
    match line.rfind(" at line ") {
        Some(i) => line[..i].to_owned(),
        None => line.to_owned(),
    }
}

/// Parses one scenario and checks what the types alone cannot: at least one requirement and
/// step, and flows referred to before they are defined.
pub fn parse_scenario(file: &str, text: &str) -> Result<ScenarioFile, LoadError> {
    let s: ScenarioFile = parse_yaml(file, text)?;
    let at = |needle: &str, message: String| {
        let (line, column) = find(text, needle);
        located(file, text, line, column, message)
    };
    if s.requirements.is_empty() {
        return Err(at(
            "requirements",
            "a scenario must cite at least one requirement id".into(),
        ));
    }
    if s.steps.is_empty() {
        return Err(at("steps", "a scenario needs at least one step".into()));
    }
    if s.clients.is_empty() {
        return Err(at(
            "clients",
            "clients must list at least one client kind".into(),
        ));
    }
    let mut flows: Vec<&str> = Vec::new();
    let mut saved: Vec<&str> = Vec::new();
    for step in &s.steps {
        match step {
            Step::Authorize(a) => flows.push(&a.flow),
            Step::Token(t) => {
                if !flows.contains(&t.flow.as_str()) {
                    return Err(at(
                        &format!("flow: {}", t.flow),
                        format!(
                            "token step refers to flow {:?}, which no earlier authorize step starts",
                            t.flow
                        ),
                    ));
                }
                saved.push(t.save_as.as_deref().unwrap_or(&t.flow));
            }
            Step::Refresh(r) => {
                if !saved.contains(&r.tokens.as_str()) {
                    return Err(at(
                        &format!("tokens: {}", r.tokens),
                        format!(
                            "refresh step uses tokens {:?}, which no earlier step saved",
                            r.tokens
                        ),
                    ));
                }
                if let Some(name) = &r.save_as {
                    saved.push(name);
                }
            }
            Step::Userinfo(r) if !saved.contains(&r.tokens.as_str()) => {
                return Err(at(
                    "userinfo",
                    format!(
                        "userinfo step uses tokens {:?}, which no earlier step saved",
                        r.tokens
                    ),
                ));
            }
            Step::Introspect(r) if !saved.contains(&r.tokens.as_str()) => {
                return Err(at(
                    "introspect",
                    format!(
                        "introspect step uses tokens {:?}, which no earlier step saved",
                        r.tokens
                    ),
                ));
            }
            Step::Race(r) => {
                if !(2..=200).contains(&r.count)
                    || !(1..=100).contains(&r.trials)
                    || r.at_most >= r.count
                {
                    return Err(at(
                        "race",
                        format!(
                            "race needs count 2..=200, trials 1..=100 and at_most below count (got {}, {}, {})",
                            r.count, r.trials, r.at_most
                        ),
                    ));
                }
                if let Some(name) = &r.save_as {
                    saved.push(name);
                }
            }
            Step::Codes(c) if !(2..=20).contains(&c.count) => {
                return Err(at(
                    "count",
                    format!("codes.count is {}, must be 2..=20", c.count),
                ));
            }
            _ => {}
        }
    }
    Ok(s)
}

/// The 1-based line and column of the first occurrence of `needle`, or 1:1.
fn find(text: &str, needle: &str) -> (u64, u64) {
    for (i, line) in yaml_lines(text).enumerate() {
        if let Some(col) = line.find(needle) {
            return (i as u64 + 1, col as u64 + 1);
        }
    }
    (1, 1)
}

/// Loads every `*.yaml` under `dir`, sorted by id. Returns every broken file, not just the first,
/// so one run shows them all.
pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let mut paths = Vec::new();
    walk(dir, &mut paths).map_err(|e| vec![e])?;
    paths.sort();
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let shown = path.display().to_string();
        let id = scenario_id(dir, &path);
        match std::fs::read_to_string(&path) {
            Ok(text) => match parse_scenario(&shown, &text) {
                Ok(file) => scenarios.push(Scenario { id, path, file }),
                Err(e) => errors.push(e),
            },
            Err(e) => errors.push(LoadError::Io {
                file: shown,
                message: e.to_string(),
            }),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(errors)
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let io = |e: std::io::Error| LoadError::Io {
        file: dir.display().to_string(),
        message: e.to_string(),
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

/// `scenarios/rfc7636/4.6-x.yaml` under `scenarios` gives `rfc7636/4.6-x`.
fn scenario_id(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path).with_extension("");
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "format: 1\ntitle: t\nrequirements: [REQ-50]\ncatches: [accepts-wrong-verifier]\nsteps:\n  - authorize: {}\n  - token:\n      verifier: wrong\n      expect: {status: 400, error: invalid_grant}\n";

    #[test]
    fn parses_a_good_file() {
        let s = parse_scenario("x.yaml", GOOD).expect("valid scenario");
        assert_eq!(s.steps.len(), 2);
    }

    fn err(text: &str) -> String {
        parse_scenario("bad.yaml", text)
            .expect_err("must fail")
            .to_string()
    }

    /// Found by the `file_loaders` fuzz target: YAML ends a line at a lone `\r` too, so the
    /// snippet must count lines the way the parser does.
    #[test]
    fn lone_carriage_returns_end_lines_in_snippets() {
        assert_eq!(
            yaml_lines("a\r\nb\rc\nd").collect::<Vec<_>>(),
            ["a", "b", "c", "d"]
        );
        let e = err(&GOOD
            .replace('\n', "\r")
            .replace("verifier: wrong", "verifier: wrnog"));
        assert!(e.starts_with("bad.yaml:8:"), "{e}");
        assert!(e.contains("8 |       verifier: wrnog"), "{e}");
    }

    #[test]
    fn errors_point_at_file_line_and_column() {
        let e = err(&GOOD.replace("verifier: wrong", "verifier: wrnog"));
        assert!(e.starts_with("bad.yaml:8:"), "{e}");
        assert!(e.contains("wrnog") && e.contains('^'), "{e}");
        let e = err(&GOOD.replace("REQ-50", "REQ-99"));
        assert!(
            e.starts_with("bad.yaml:3:") && e.contains("unknown requirement id \"REQ-99\""),
            "{e}"
        );
        let e = err(&GOOD.replace("expect: {", "expcet: {"));
        assert!(e.contains("bad.yaml:9:") && e.contains("expcet"), "{e}");
        let e = err(&GOOD.replace("format: 1", "format: 2"));
        assert!(e.contains("unsupported scenario format 2"), "{e}");
        let e = err(&GOOD.replace("accepts-wrong-verifier", "accepts-everything"));
        assert!(
            e.contains("bad.yaml:4:") && e.contains("accepts-everything"),
            "{e}"
        );
        let e = err(&GOOD.replace("  - token:", "  - token:\n      flow: other"));
        assert!(e.contains("flow \"other\""), "{e}");
    }
}
