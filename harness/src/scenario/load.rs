//! Finding and reading scenario files. Discovery is by scanning: adding a check is adding a file.

use std::path::{Path, PathBuf};

use super::model::{ScenarioFile, Step};
use std::collections::BTreeSet;

use crate::diagnostics::{LoadError, MAX_FILE_BYTES, Node, at_node, parse_yaml, read_text, spans};

/// A loaded scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The id, from the path: `rfc7636/4.6-verifier-mismatch`.
    pub id: String,
    /// The file it came from (for a built-in scenario, `built-in/` and its path in the library).
    pub path: PathBuf,
    /// Its content.
    pub file: ScenarioFile,
}

impl Scenario {
    /// Whether it is one of the library compiled into the harness.
    pub fn is_built_in(&self) -> bool {
        self.path.starts_with(BUILT_IN_PREFIX)
    }
}

mod library {
    include!(concat!(env!("OUT_DIR"), "/library.rs"));
}

/// How built-in scenarios' paths start.
const BUILT_IN_PREFIX: &str = "built-in";

/// The library compiled into the harness, parsed and checked by the same loader as a user's
/// folder (a broken built-in file is a bug the test suite catches).
pub fn built_in() -> Result<Vec<Scenario>, Vec<LoadError>> {
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    let server_side = library::BUILT_IN
        .iter()
        .filter(|(rel, _)| !rel.starts_with(super::client::CLIENT_FOLDER));
    for (rel, text) in server_side {
        let path = Path::new(BUILT_IN_PREFIX).join(rel);
        let id = rel.trim_end_matches(".yaml").to_owned();
        match parse_scenario(&path.display().to_string(), text) {
            Ok(file) => scenarios.push(Scenario { id, path, file }),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(errors)
    }
}

/// The built-in client scenarios (`scenarios/client/`), which `pkce-harness client` runs.
pub fn built_in_client() -> Result<Vec<super::client::ClientScenario>, Vec<LoadError>> {
    super::client::client_scenarios(library::BUILT_IN)
}

/// The built-in library with a user's scenarios added: the same id twice is an error naming
/// both files, so a user's scenario never silently replaces a built-in one.
pub fn with_added(
    mut library: Vec<Scenario>,
    added: Vec<Scenario>,
) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let clashes: Vec<LoadError> = added
        .iter()
        .filter_map(|a| {
            library
                .iter()
                .find(|s| s.id == a.id)
                .map(|s| LoadError::Io {
                    file: a.path.display().to_string(),
                    message: format!(
                        "scenario id {} is already taken by {}; rename the file",
                        a.id,
                        s.path.display()
                    ),
                })
        })
        .collect();
    if !clashes.is_empty() {
        return Err(clashes);
    }
    library.extend(added);
    library.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(library)
}

/// The nodes a scenario's cross-field rules point at.
#[derive(Default, serde::Deserialize)]
struct Spans {
    requirements: Node,
    clients: Node,
    steps: Node,
}

/// Each step's node, read separately because `steps` is both a node and a list.
#[derive(Default, serde::Deserialize)]
struct StepSpans {
    #[serde(default)]
    steps: Vec<Node>,
}

/// The fields of each step a rule may point at (`- token: {flow: x}` gives the node of `x`).
#[derive(Default, serde::Deserialize)]
struct StepFieldSpans {
    #[serde(default)]
    steps: Vec<std::collections::BTreeMap<String, FieldSpans>>,
}

#[derive(Default, Clone, serde::Deserialize)]
struct FieldSpans {
    flow: Node,
    tokens: Node,
    count: Node,
}

/// Parses one scenario and checks what the types alone cannot: at least one requirement and
/// step, and flows and tokens referred to before an earlier step made them. Errors point at the
/// node the parser located.
pub fn parse_scenario(file: &str, text: &str) -> Result<ScenarioFile, LoadError> {
    let s: ScenarioFile = parse_yaml(file, text)?;
    let nodes: Spans = spans(text);
    let at = |node: &Node, message: String| at_node(file, text, node, message);
    if s.requirements.is_empty() {
        return Err(at(
            &nodes.requirements,
            "a scenario must cite at least one requirement id".into(),
        ));
    }
    if s.steps.is_empty() {
        return Err(at(
            &nodes.steps,
            "a scenario needs at least one step".into(),
        ));
    }
    if s.clients.is_empty() {
        return Err(at(
            &nodes.clients,
            "clients must list at least one client kind".into(),
        ));
    }
    let steps: StepSpans = spans(text);
    let fields: StepFieldSpans = spans(text);
    let mut flows: Vec<&str> = Vec::new();
    let mut saved: Vec<&str> = Vec::new();
    for (i, step) in s.steps.iter().enumerate() {
        // The field the rule is about, else the step, else the file's start.
        let step_node = steps.steps.get(i).cloned().flatten();
        let field = fields
            .steps
            .get(i)
            .and_then(|m| m.values().next())
            .cloned()
            .unwrap_or_default();
        let at_field = |node: Node, message: String| {
            at_node(file, text, &node.or_else(|| step_node.clone()), message)
        };
        let at = |message: String| at_node(file, text, &step_node, message);
        match step {
            Step::Authorize(a) => flows.push(&a.flow),
            Step::Token(t) => {
                if !flows.contains(&t.flow.as_str()) {
                    return Err(at_field(
                        field.flow,
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
                    return Err(at_field(
                        field.tokens,
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
                return Err(at_field(
                    field.tokens,
                    format!(
                        "userinfo step uses tokens {:?}, which no earlier step saved",
                        r.tokens
                    ),
                ));
            }
            Step::Introspect(r) if !saved.contains(&r.tokens.as_str()) => {
                return Err(at_field(
                    field.tokens,
                    format!(
                        "introspect step uses tokens {:?}, which no earlier step saved",
                        r.tokens
                    ),
                ));
            }
            Step::Revoke(r) if !saved.contains(&r.tokens.as_str()) => {
                return Err(at_field(
                    field.tokens,
                    format!(
                        "revoke step uses tokens {:?}, which no earlier step saved",
                        r.tokens
                    ),
                ));
            }
            Step::Race(r) => {
                if !(2..=200).contains(&r.count)
                    || !(1..=100).contains(&r.trials)
                    || r.at_most >= r.count
                {
                    return Err(at(format!(
                        "race needs count 2..=200, trials 1..=100 and at_most below count (got {}, {}, {})",
                        r.count, r.trials, r.at_most
                    )));
                }
                if let Some(name) = &r.save_as {
                    saved.push(name);
                }
            }
            Step::Sleep(w) if w.past_code_lifetime && w.within_code_lifetime => {
                return Err(at(
                    "sleep cannot wait both past and within the code lifetime".into(),
                ));
            }
            Step::Sleep(w)
                if w.past_access_token_lifetime
                    .as_ref()
                    .is_some_and(|name| !saved.contains(&name.as_str())) =>
            {
                return Err(at(format!(
                    "sleep waits out the lifetime of tokens {:?}, which no earlier step saved",
                    w.past_access_token_lifetime.as_deref().unwrap_or_default()
                )));
            }
            Step::Codes(c) if !(2..=20).contains(&c.count) => {
                return Err(at_field(
                    field.count,
                    format!("codes.count is {}, must be 2..=20", c.count),
                ));
            }
            _ => {}
        }
    }
    Ok(s)
}

/// Loads every `*.yaml` under `dir`, sorted by id. Returns every broken file, not just the first,
/// so one run shows them all.
pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let mut paths = Vec::new();
    walk(dir, &mut paths, &mut BTreeSet::new()).map_err(|e| vec![e])?;
    // `client/` holds client scenarios (another format), which `pkce-harness client` reads.
    let clients = dir.join(super::client::CLIENT_FOLDER);
    paths.retain(|p| !p.starts_with(&clients));
    paths.sort();
    // One file reached through two paths (a symlink) is one scenario.
    let mut seen = BTreeSet::new();
    paths.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let shown = path.display().to_string();
        let id = scenario_id(dir, &path);
        match read_text(&path, MAX_FILE_BYTES).and_then(|text| parse_scenario(&shown, &text)) {
            Ok(file) => scenarios.push(Scenario { id, path, file }),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(errors)
    }
}

/// Collects `*.yaml` paths under `dir`, entering each real folder once (a symlink loop ends).
/// Anything named `.yaml` is collected, so a FIFO or device is refused by the reader with its
/// name rather than skipped or read.
fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    entered: &mut BTreeSet<PathBuf>,
) -> Result<(), LoadError> {
    let io = |e: std::io::Error| LoadError::Io {
        file: dir.display().to_string(),
        message: e.to_string(),
    };
    if !entered.insert(std::fs::canonicalize(dir).map_err(io)?) {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            walk(&path, out, entered)?;
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

    /// A scenario with a custom tag is refused at the tag's line, on a value and on
    /// a field name alike.
    #[test]
    fn custom_tags_are_refused_where_they_stand() {
        for text in [
            "format: 1\ntitle: t\nrequirements: [REQ-21]\nsteps:\n  - authorize: !evil {}\n",
            "format: 1\ntitle: t\nrequirements: [REQ-21]\n!evil steps:\n  - authorize: {}\n",
        ] {
            let e = parse_scenario("s.yaml", text).expect_err("refused");
            assert!(e.to_string().starts_with("s.yaml:"), "{e}");
            assert!(
                e.to_string().contains(":4:") || e.to_string().contains(":5:"),
                "points at the tag: {e}"
            );
        }
    }

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
    fn a_wait_both_past_and_within_the_code_lifetime_is_refused_at_its_step() {
        let e = err(
            "format: 1\ntitle: t\nrequirements: [REQ-57]\nsteps:\n  - authorize: {}\n  - sleep: {seconds: 3, past_code_lifetime: true, within_code_lifetime: true}\n",
        );
        assert!(e.starts_with("bad.yaml:6:"), "{e}");
        assert!(e.contains("both past and within"), "{e}");
    }

    #[test]
    fn lone_carriage_returns_end_lines_in_snippets() {
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
        let e = err(&GOOD.replace("REQ-50", "REQ-999"));
        assert!(
            e.starts_with("bad.yaml:3:") && e.contains("unknown requirement id \"REQ-999\""),
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
