//! Diagnostics for every file the harness loads (scenarios, targets, baselines): one YAML
//! reader with the same strict options, one line splitter that counts lines as the parser does,
//! and one snippet format, so an error in any file points at its line and column the same way.

use thiserror::Error;

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

/// The 1-based line and column of the first line holding `needle` that `on_line` accepts, or 1:1.
/// A fallback for what the parser cannot locate (a value that is valid YAML but breaks a rule
/// across fields); lines are counted as the parser counts them.
pub fn find(text: &str, needle: &str) -> (u64, u64) {
    find_where(text, needle, |_| true)
}

/// [`find`], on lines that `on_line` accepts.
pub fn find_where(text: &str, needle: &str, on_line: impl Fn(&str) -> bool) -> (u64, u64) {
    for (i, line) in yaml_lines(text).enumerate() {
        if let Some(col) = line.find(needle).filter(|_| on_line(line)) {
            return (i as u64 + 1, col as u64 + 1);
        }
    }
    (1, 1)
}

/// A [`LoadError::Syntax`] at a node the parser located (a [`serde_saphyr::Spanned`] value).
pub fn at_node(
    file: &str,
    text: &str,
    location: &serde_saphyr::Location,
    message: String,
) -> LoadError {
    located(
        file,
        text,
        location.line().max(1),
        location.column().max(1),
        message,
    )
}
