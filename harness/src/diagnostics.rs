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

/// Where a node of a document is, as the parser saw it. Loaders read a document a second time
/// into a small struct of these for the nodes their cross-field rules may point at (a rule that
/// the types alone cannot state), so such an error lands on the node, not on a text search.
pub type Node = Option<serde_saphyr::Spanned<serde::de::IgnoredAny>>;

/// Reads the node positions `S` describes; a document that parsed once parses again, and if it
/// somehow does not, errors point at the start of the file.
pub fn spans<S: serde::de::DeserializeOwned + Default>(text: &str) -> S {
    let options = serde_saphyr::options! { strict_booleans: true, with_snippet: false };
    serde_saphyr::from_str_with_options(text, options).unwrap_or_default()
}

/// A [`LoadError::Syntax`] at `node` (1:1 when the node is absent).
pub fn at_node(file: &str, text: &str, node: &Node, message: String) -> LoadError {
    let (line, column) = node.as_ref().map_or((1, 1), |n| {
        (n.referenced.line().max(1), n.referenced.column().max(1))
    });
    located(file, text, line, column, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_as_yaml_counts_them() {
        assert_eq!(
            yaml_lines("a\r\nb\rc\nd").collect::<Vec<_>>(),
            ["a", "b", "c", "d"]
        );
    }

    #[derive(serde::Deserialize, Default)]
    struct Spans {
        b: Node,
        list: Vec<Node>,
    }

    #[test]
    fn nodes_are_located_by_the_parser() {
        let text = "a: 1\rb:\r  c: 2\rlist:\r  - x\r  - {y: 1}\r";
        let s: Spans = spans(text);
        let e = at_node("f.yaml", text, &s.list[1], "bad".into());
        assert!(e.to_string().starts_with("f.yaml:6:5: bad"), "{e}");
        assert!(e.to_string().contains("6 |   - {y: 1}"), "{e}");
        let e = at_node("f.yaml", text, &s.b, "b".into());
        assert!(e.to_string().starts_with("f.yaml:3:"), "{e}");
        let none: Spans = spans("[not, a, map]");
        assert!(
            at_node("f.yaml", "", &none.b, "x".into())
                .to_string()
                .starts_with("f.yaml:1:1: x")
        );
    }
}
