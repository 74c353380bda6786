//! The arrows between the crate's parts that must never exist (ARCHITECTURE.md), checked on the
//! source: a `crate::x` path in a part that must not know `x` fails here with the file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every `crate::<module>` a top-level module's code names, with where, comments left out.
fn references() -> BTreeMap<String, Vec<(String, String, usize)>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out: BTreeMap<String, Vec<(String, String, usize)>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path
                .strip_prefix(&src)
                .expect("under src")
                .to_string_lossy()
                .into_owned();
            let top = rel
                .split('/')
                .next()
                .unwrap_or("")
                .trim_end_matches(".rs")
                .to_owned();
            let text = std::fs::read_to_string(&path).expect("readable");
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for part in code.split("crate::").skip(1) {
                    let name: String = part
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != top {
                        out.entry(top.clone())
                            .or_default()
                            .push((name, rel.clone(), i + 1));
                    }
                }
            }
        }
    }
    out
}

fn forbid(
    refs: &BTreeMap<String, Vec<(String, String, usize)>>,
    part: &str,
    never: &[&str],
) -> Vec<String> {
    refs.get(part)
        .into_iter()
        .flatten()
        .filter(|(to, _, _)| never.contains(&to.as_str()))
        .map(|(to, file, line)| format!("src/{file}:{line}: {part} must never use {to}"))
        .collect()
}

#[test]
fn no_arrow_against_the_design() {
    let refs = references();
    let runtime = ["engine", "server", "report", "selftest"];
    let mut wrong = Vec::new();
    wrong.extend(forbid(
        &refs,
        "server",
        &["engine", "checks", "report", "selftest"],
    ));
    wrong.extend(forbid(
        &refs,
        "pkce",
        &["engine", "server", "checks", "report"],
    ));
    wrong.extend(forbid(&refs, "engine", &["report", "selftest", "server"]));
    wrong.extend(forbid(&refs, "checks", &runtime));
    for core in [
        "outcome",
        "wire",
        "verdict",
        "scenario",
        "target",
        "baseline",
        "redact",
        "params",
        "callback",
        "forms",
        "diagnostics",
        "requirements",
        "defect",
    ] {
        wrong.extend(forbid(&refs, core, &runtime));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_module_graph_has_no_cycle() {
    let refs = references();
    let graph: BTreeMap<&str, BTreeSet<&str>> = refs
        .iter()
        .map(|(from, to)| {
            (
                from.as_str(),
                to.iter().map(|(t, _, _)| t.as_str()).collect(),
            )
        })
        .collect();
    // Depth-first search; a node met again on the current path closes a cycle.
    fn visit<'a>(
        node: &'a str,
        graph: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(i) = path.iter().position(|n| *n == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node);
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}
