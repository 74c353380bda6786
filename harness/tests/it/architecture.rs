//! The arrows between the crate's parts that must never exist (ARCHITECTURE.md), checked on the
//! source: a `crate::x` path in a part that must not know `x` fails here with the file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every `.rs` file under `dir`, with its path relative to `src`.
fn rust_files(src: &Path, dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(src)
                    .expect("under src")
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, path));
            }
        }
    }
    out
}

/// Every `crate::<module>` a top-level module's code names, with where, comments left out.
fn references() -> BTreeMap<String, Vec<(String, String, usize)>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out: BTreeMap<String, Vec<(String, String, usize)>> = BTreeMap::new();
    for (rel, path) in rust_files(&src, &src) {
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
    let runtime = [
        "engine",
        "server",
        "report",
        "selftest",
        "client_mode",
        "reference_client",
    ];
    let mut wrong = Vec::new();
    wrong.extend(forbid(
        &refs,
        "server",
        &[
            "engine",
            "checks",
            "report",
            "selftest",
            "client_mode",
            "reference_client",
        ],
    ));
    wrong.extend(forbid(
        &refs,
        "pkce",
        &["engine", "server", "checks", "report"],
    ));
    wrong.extend(forbid(
        &refs,
        "engine",
        &[
            "report",
            "selftest",
            "server",
            "client_mode",
            "reference_client",
        ],
    ));
    wrong.extend(forbid(
        &refs,
        "reference_client",
        &[
            "engine",
            "server",
            "client_mode",
            "checks",
            "report",
            "selftest",
        ],
    ));
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
        "tls_hello",
        "client_defect",
        "client_file",
        "seen",
    ] {
        wrong.extend(forbid(&refs, core, &runtime));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The first cycle of a graph, as the nodes along it (the first again at the end): depth-first,
/// a node met again on the current path closes one.
fn find_cycle<'a>(graph: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Option<Vec<&'a str>> {
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
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
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
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn a_cycle_is_found_however_long() {
    let graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::from([
        ("a", BTreeSet::from(["b"])),
        ("b", BTreeSet::from(["c"])),
        ("c", BTreeSet::from(["a", "d"])),
        ("d", BTreeSet::new()),
    ]);
    assert_eq!(find_cycle(&graph), Some(vec!["a", "b", "c", "a"]));
    let acyclic: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::from([
        ("a", BTreeSet::from(["b", "c"])),
        ("b", BTreeSet::from(["c"])),
    ]);
    assert_eq!(find_cycle(&acyclic), None);
}

/// One file of a folder: its module path (`engine::login::browser`) and its parsed source.
struct Unit {
    file: String,
    module: Vec<String>,
    ast: syn::File,
}

/// The files of `src/<folder>`, each with its module path.
fn units(folder: &str) -> Vec<Unit> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    for (rel, path) in rust_files(&src, &src.join(folder)) {
        let mut module: Vec<String> = rel
            .trim_end_matches(".rs")
            .split('/')
            .map(str::to_owned)
            .collect();
        if module.last().is_some_and(|m| m == "mod") {
            module.pop();
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("src/{rel}: {e}"));
        out.push(Unit {
            file: rel,
            module,
            ast,
        });
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

/// Every module path a file's code names (`use` trees and paths in code), made absolute from
/// `crate`, `super`, `self` or a child module's name, with the line it is on. Paths that start
/// elsewhere (`std`, a local name) are left out: they can only reach this crate through a `use`
/// that is counted.
struct Paths<'m> {
    /// Every module of the folder, to tell a child's name (`use job::run;`) from a crate's.
    modules: &'m BTreeSet<Vec<String>>,
    /// The module the code being visited is in: the file's, plus inline `mod`s.
    here: Vec<String>,
    found: Vec<(Vec<String>, usize)>,
}

impl Paths<'_> {
    fn absolute(&self, segments: &[String]) -> Option<Vec<String>> {
        let first = segments.first()?;
        let mut out = match first.as_str() {
            "crate" => Vec::new(),
            "self" | "super" => self.here.clone(),
            _ => {
                let mut child = self.here.clone();
                child.push(first.clone());
                if !self.modules.contains(&child) {
                    return None;
                }
                child.pop();
                child
            }
        };
        let mut rest = segments;
        if rest[0] == "crate" || rest[0] == "self" {
            rest = &rest[1..];
        }
        while rest.first().is_some_and(|s| s == "super") {
            out.pop();
            rest = &rest[1..];
        }
        out.extend(rest.iter().cloned());
        Some(out)
    }

    fn record(&mut self, segments: &[String], line: usize) {
        if let Some(path) = self.absolute(segments) {
            self.found.push((path, line));
        }
    }

    fn tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.record(prefix, n.ident.span().start().line);
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.record(prefix, r.ident.span().start().line);
                prefix.pop();
            }
            syn::UseTree::Glob(g) => {
                let line = g.star_token.spans[0].start().line;
                self.record(prefix, line);
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.tree(prefix, t);
                }
            }
        }
    }
}

impl<'ast> syn::visit::Visit<'ast> for Paths<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if m.content.is_some() {
            self.here.push(m.ident.to_string());
            syn::visit::visit_item_mod(self, m);
            self.here.pop();
        }
    }

    /// `pub(super)` says who may see an item, not what it uses.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.tree(&mut Vec::new(), &u.tree);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        if let Some(first) = p.segments.first() {
            self.record(&segments, first.ident.span().start().line);
        }
        syn::visit::visit_path(self, p);
    }
}

/// The file-level import graph inside one folder: an arrow from a file to every other file of
/// the folder whose module (or an item it defines) its code names. A name a `mod.rs` re-exports
/// (`pub use child::X`) counts as the child's, so reaching it through the parent adds no arrow
/// to the parent; declaring a child (`mod x;`) is not an arrow.
fn file_graph(folder: &str) -> BTreeMap<String, BTreeMap<String, usize>> {
    let units = units(folder);
    let by_module: BTreeMap<Vec<String>, &Unit> =
        units.iter().map(|u| (u.module.clone(), u)).collect();
    let modules: BTreeSet<Vec<String>> = by_module.keys().cloned().collect();
    // What each module re-exports: `name` -> the absolute path it stands for.
    let mut reexports: BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for unit in &units {
        for item in &unit.ast.items {
            let syn::Item::Use(u) = item else { continue };
            if matches!(u.vis, syn::Visibility::Inherited) {
                continue;
            }
            let mut paths = Paths {
                modules: &modules,
                here: unit.module.clone(),
                found: Vec::new(),
            };
            paths.tree(&mut Vec::new(), &u.tree);
            // Relative re-exports (`pub use child::X`) start at the module itself.
            let mut relative = Paths {
                modules: &modules,
                here: unit.module.clone(),
                found: Vec::new(),
            };
            let mut prefix = vec!["self".to_owned()];
            relative.tree(&mut prefix, &u.tree);
            for (path, _) in paths.found.into_iter().chain(relative.found) {
                if let Some(name) = path.last() {
                    reexports
                        .entry(unit.module.clone())
                        .or_default()
                        .insert(name.clone(), path.clone());
                }
            }
        }
    }
    let resolve = |path: &[String]| -> Option<&Unit> {
        let mut path = path.to_vec();
        for _ in 0..4 {
            let owner = (1..=path.len())
                .rev()
                .find_map(|n| by_module.get(&path[..n]).map(|u| (n, *u)))?;
            let (n, unit) = owner;
            let next = path.get(n);
            match next.and_then(|name| reexports.get(&unit.module)?.get(name)) {
                Some(target) if target.as_slice() != path.as_slice() => {
                    let mut redirected = target.clone();
                    redirected.extend(path[n + 1..].iter().cloned());
                    path = redirected;
                }
                _ => return Some(unit),
            }
        }
        by_module.get(&path[..]).copied()
    };
    let mut graph: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for unit in &units {
        let mut paths = Paths {
            modules: &modules,
            here: unit.module.clone(),
            found: Vec::new(),
        };
        syn::visit::Visit::visit_file(&mut paths, &unit.ast);
        let arrows = graph.entry(unit.file.clone()).or_default();
        for (path, line) in paths.found {
            // Naming the module itself (`use super::steps;`) reaches its file too.
            if let Some(to) = resolve(&path)
                && to.file != unit.file
                && to.module.first() == unit.module.first()
            {
                arrows.entry(to.file.clone()).or_insert(line);
            }
        }
    }
    graph
}

/// The first import circle between the files of `folder`, as `a.rs:line -> b.rs:line -> a.rs`.
fn file_cycle(folder: &str) -> Option<String> {
    let arrows = file_graph(folder);
    let graph: BTreeMap<&str, BTreeSet<&str>> = arrows
        .iter()
        .map(|(from, to)| (from.as_str(), to.keys().map(String::as_str).collect()))
        .collect();
    let cycle = find_cycle(&graph)?;
    let shown: Vec<String> = cycle
        .windows(2)
        .map(|w| format!("src/{}:{}", w[0], arrows[w[0]][w[1]]))
        .chain(cycle.last().map(|f| format!("src/{f}")))
        .collect();
    Some(shown.join(" -> "))
}

#[test]
fn no_import_circle_between_the_files_of_the_engine() {
    if let Some(cycle) = file_cycle("engine") {
        panic!("import circle inside engine/: {cycle}");
    }
}

#[test]
fn no_import_circle_between_the_files_of_the_server() {
    if let Some(cycle) = file_cycle("server") {
        panic!("import circle inside server/: {cycle}");
    }
}

/// Folders whose files still import each other in a circle (a child using a helper its
/// `mod.rs` defines, while the `mod.rs` re-exports the child): to be taken apart, one by one.
/// The test below fails when one of them no longer has a circle, so the list only shrinks.
const STILL_CIRCULAR: &[&str] = &["checks", "jose", "pkce", "report", "schema", "target"];

/// One way down inside every other folder too (the client mode, the reference client, the
/// differential fuzzer, ...).
#[test]
fn no_import_circle_between_the_files_of_any_folder() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut circles = Vec::new();
    for entry in std::fs::read_dir(&src).expect("src") {
        let path = entry.expect("entry").path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !path.is_dir() || ["engine", "server", "cli"].contains(&name) {
            continue;
        }
        match (file_cycle(name), STILL_CIRCULAR.contains(&name)) {
            (Some(cycle), false) => circles.push(format!("inside {name}/: {cycle}")),
            (None, true) => circles.push(format!(
                "{name}/ has no circle any more: take it off STILL_CIRCULAR"
            )),
            _ => {}
        }
    }
    assert!(circles.is_empty(), "import circles: {circles:#?}");
}

/// The graph reader itself: a known arrow is found (so a circle test that passes is not blind).
#[test]
fn the_file_graph_sees_the_arrows_there_are() {
    let engine = file_graph("engine");
    assert!(
        engine["engine/job.rs"].contains_key("engine/steps.rs"),
        "job runs steps: {:?}",
        engine["engine/job.rs"]
    );
    // `use super::options::RunOptions` in a child, and a name a `mod.rs` re-exports from a
    // child (`use super::http::Tls` reaches `tls.rs`, where `Tls` is defined).
    assert!(engine["engine/options.rs"].contains_key("engine/tls.rs"));
    assert!(
        !engine["engine/job.rs"].contains_key("engine/mod.rs"),
        "{:?}",
        engine["engine/job.rs"]
    );
    let server = file_graph("server");
    assert!(
        server["server/token.rs"].contains_key("server/state.rs"),
        "{:?}",
        server["server/token.rs"]
    );
}

/// Issue 26: the lock file holds one `reqwest` (the harness's and chromiumoxide's), and no
/// `jsonwebtoken` before 10.3 (GHSA-h395-gr6q-cpjc), for every user's `cargo audit` to agree.
#[test]
fn one_reqwest_and_no_advised_jsonwebtoken() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
        .expect("Cargo.lock");
    let versions = |name: &str| -> Vec<String> {
        let mut lines = lock.lines();
        let mut found = Vec::new();
        while let Some(line) = lines.next() {
            if line == format!("name = \"{name}\"")
                && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = "))
            {
                found.push(v.trim_matches('"').to_owned());
            }
        }
        found
    };
    assert_eq!(versions("reqwest").len(), 1, "{:?}", versions("reqwest"));
    for v in versions("jsonwebtoken") {
        let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        assert!((major, minor) >= (10, 3), "jsonwebtoken {v}");
    }
}
