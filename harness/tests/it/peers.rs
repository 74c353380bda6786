//! The peer coverage maps (docs/peers/): every test of a peer suite, with the scenarios that
//! answer it or the reason none does. Kept honest here: every scenario a map names exists in the
//! library, every reason says something, and the totals README.md gives are the map's.

use std::collections::{BTreeMap, BTreeSet};

/// One peer suite's map.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PeerMap {
    /// The suite's name, as README.md's totals line starts.
    peer: String,
    /// Where its tests were read.
    source: String,
    /// Test id to answer.
    tests: BTreeMap<String, Answer>,
}

/// What answers one peer test.
#[derive(serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Answer {
    /// The scenarios check what the test checks.
    Covered(Vec<String>),
    /// The scenarios check part of it.
    Partly { by: Vec<String>, left: String },
    /// No scenario yet: what one would check.
    Missing(String),
    /// Why the test has no place in this harness.
    NotApplicable(String),
}

fn read_map(name: &str) -> PeerMap {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/peers")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("the map is there");
    pkce_harness::diagnostics::parse_yaml(&path.display().to_string(), &text)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The totals line of a map, as README.md states it.
fn totals(map: &PeerMap) -> String {
    let mut counts = [0usize; 4];
    for answer in map.tests.values() {
        let i = match answer {
            Answer::Covered(_) => 0,
            Answer::Partly { .. } => 1,
            Answer::Missing(_) => 2,
            Answer::NotApplicable(_) => 3,
        };
        counts[i] += 1;
    }
    format!(
        "{}: {} tests: {} covered, {} partly, {} not yet, {} not applicable",
        map.peer,
        map.tests.len(),
        counts[0],
        counts[1],
        counts[2],
        counts[3]
    )
}

/// Every map, with the address its `source` must start with.
const MAPS: &[(&str, &str)] = &[
    ("oauch.yaml", "https://github.com/DistriNet/OAuch/"),
    (
        "oidf-oidcc.yaml",
        "https://github.com/openid-certification/conformance-suite/",
    ),
    (
        "oidf-fapi2.yaml",
        "https://github.com/openid-certification/conformance-suite/",
    ),
];

#[test]
fn every_map_is_listed_here() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/peers");
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir)
        .expect("docs/peers")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    let listed: BTreeSet<String> = MAPS.iter().map(|(n, _)| (*n).to_owned()).collect();
    assert_eq!(on_disk, listed);
}

#[test]
fn every_map_names_real_scenarios_and_readme_gives_its_totals() {
    let library: BTreeSet<String> = super::library().into_iter().map(|s| s.id).collect();
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"),
    )
    .expect("README");
    for (file, source) in MAPS {
        let map = read_map(file);
        assert!(
            map.source.starts_with(source),
            "{file}: source {}",
            map.source
        );
        for (test, answer) in &map.tests {
            let (named, words): (&[String], &str) = match answer {
                Answer::Covered(by) => (by, "covered"),
                Answer::Partly { by, left } => (by, left.as_str()),
                Answer::Missing(what) => (&[], what.as_str()),
                Answer::NotApplicable(why) => (&[], why.as_str()),
            };
            assert!(words.len() > 5, "{file}: {test}: say why, or what is left");
            assert!(
                !matches!(answer, Answer::Covered(by) | Answer::Partly { by, .. } if by.is_empty()),
                "{file}: {test}: covered by no scenario"
            );
            for id in named {
                assert!(library.contains(id), "{file}: {test}: no scenario {id}");
            }
        }
        let line = totals(&map);
        assert!(readme.contains(&line), "README.md should say: {line}");
    }
}
