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
/// YAML 1.2 booleans only (`no` stays a string), duplicate keys rejected, bounded size, and no
/// tags but YAML's own (`!evil {}` is refused where it stands, not silently dropped: no file
/// format of the harness gives a tag a meaning).
pub fn parse_yaml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, LoadError> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
        reject_unsupported_tags: true,
        reject_tagged_field_names: true,
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let (line, column) = e
            .location()
            .map_or((1, 1), |l| (l.line().max(1), l.column().max(1)));
        located(file, text, line, column, first_line(&e.to_string()))
    })
}

/// The most characters of a source line a snippet shows, around the column.
const SNIPPET_WIDTH: usize = 120;
/// The most characters of a parser message shown (a message may quote the offending value).
const MESSAGE_WIDTH: usize = 300;

/// A [`LoadError::Syntax`] with the snippet made from `text`: the line (a window of it around
/// the column when it is long) with a caret under the column.
pub fn located(file: &str, text: &str, line: u64, column: u64, message: String) -> LoadError {
    let src: Vec<char> = yaml_lines(text)
        .nth(usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX))
        .unwrap_or("")
        .chars()
        .collect();
    let col = usize::try_from(column.saturating_sub(1))
        .unwrap_or(0)
        .min(src.len());
    let start = if src.len() > SNIPPET_WIDTH {
        col.saturating_sub(SNIPPET_WIDTH / 2)
    } else {
        0
    };
    let end = (start + SNIPPET_WIDTH).min(src.len());
    let mut shown: String = if start > 0 {
        "…".into()
    } else {
        String::new()
    };
    let caret_at = col - start + usize::from(start > 0);
    shown.extend(
        src[start..end]
            .iter()
            .map(|&c| if c.is_control() { ' ' } else { c }),
    );
    if end < src.len() {
        shown.push('…');
    }
    let gutter = line.to_string().len();
    let pad = " ".repeat(gutter);
    let caret = " ".repeat(caret_at);
    let snippet = format!("{pad} |\n{line} | {shown}\n{pad} | {caret}^");
    LoadError::Syntax {
        file: file.to_owned(),
        line,
        column,
        message: cut(&message, MESSAGE_WIDTH),
        snippet,
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

/// The largest scenario, target, baseline or certificate file the harness reads: 1 MiB. Such a
/// file is a few KiB; a larger one is not one, and `/dev/zero` must not be read until memory
/// runs out.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// The largest JSON report read back (`baseline --from`): 256 MiB, far above a whole-library
/// run with its evidence.
pub const MAX_REPORT_BYTES: u64 = 256 << 20;

/// Reads a file the user named, bounded: a regular file only (a FIFO would block, a device
/// never ends), at most `max` bytes.
pub fn read_bounded(path: &std::path::Path, max: u64) -> Result<Vec<u8>, LoadError> {
    use std::io::Read as _;
    let shown = path.display().to_string();
    let io = |message: String| LoadError::Io {
        file: shown.clone(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| io(e.to_string()))?;
    if !meta.is_file() {
        return Err(io(
            "not a regular file (a folder, FIFO or device is never read)".into(),
        ));
    }
    if meta.len() > max {
        return Err(io(format!(
            "{} bytes is over the {max}-byte limit for this kind of file",
            meta.len()
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
        .map_err(|e| io(e.to_string()))?;
    if bytes.len() as u64 > max {
        return Err(io(format!(
            "grew over the {max}-byte limit for this kind of file while being read"
        )));
    }
    Ok(bytes)
}

/// [`read_bounded`], as UTF-8 text; other bytes are refused at their offset.
pub fn read_text(path: &std::path::Path, max: u64) -> Result<String, LoadError> {
    let bytes = read_bounded(path, max)?;
    text_of(&path.display().to_string(), bytes)
}

/// Bytes as UTF-8 text, or an error with the byte offset (and line) of the first bad byte.
pub fn text_of(file: &str, bytes: Vec<u8>) -> Result<String, LoadError> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let utf16 = bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]);
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        LoadError::Io {
            file: file.to_owned(),
            message: if utf16 {
                "not UTF-8: it starts with a UTF-16 byte-order mark; save it as UTF-8".into()
            } else {
                format!("not UTF-8: byte {at} (line {line}) is {:#04x}", bytes[at])
            },
        }
    })
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

/// A name that is none of the names a setting takes (a profile, a defect, a report format, a
/// requirement id): said with the names it could be, so the user can pick one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown {what} {got:?}; known: {known}")]
pub struct UnknownName {
    /// What the name was to name: "profile", "defect".
    pub what: &'static str,
    /// The name given.
    pub got: String,
    /// The names it could be, joined.
    pub known: String,
}

impl UnknownName {
    /// `got` is not one of `known`.
    pub fn new<T: std::fmt::Display>(
        what: &'static str,
        got: &str,
        known: impl IntoIterator<Item = T>,
    ) -> Self {
        let known: Vec<String> = known.into_iter().map(|k| k.to_string()).collect();
        Self {
            what,
            got: got.to_owned(),
            known: known.join(", "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_show_a_window_around_the_column() {
        let line = format!("key: {}BAD{}", "x".repeat(5000), "y".repeat(5000));
        let e = located("f.yaml", &line, 1, 5006, "x".repeat(10_000));
        let shown = e.to_string();
        assert!(shown.len() < 1000, "{} bytes", shown.len());
        let lines: Vec<&str> = shown.lines().collect();
        let caret = lines[3].chars().position(|c| c == '^').expect("caret");
        let src: String = lines[2].chars().skip(caret).take(3).collect();
        assert_eq!(src, "BAD", "{shown}");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_refused_at_their_offset() {
        let e = text_of("f.yaml", b"a: 1\nb: \xff\n".to_vec()).expect_err("not utf-8");
        assert_eq!(e.to_string(), "f.yaml: not UTF-8: byte 8 (line 2) is 0xff");
        let e = text_of("f.yaml", vec![0xff, 0xfe, b'a', 0]).expect_err("utf-16");
        assert!(e.to_string().contains("UTF-16"), "{e}");
    }

    #[test]
    fn only_bounded_regular_files_are_read() {
        let e =
            read_bounded(std::path::Path::new("/dev/zero"), MAX_FILE_BYTES).expect_err("a device");
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let e = read_bounded(std::path::Path::new("/"), MAX_FILE_BYTES).expect_err("a folder");
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }

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
