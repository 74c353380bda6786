//! One integration-test binary (one link step on a 2-core CI): CLI behaviour, the kill matrix,
//! report formats, and the engine against odd target behaviour.

mod cli;
mod odd_targets;
mod real_servers;
mod reports;
mod selftest;

/// The scenario library of this checkout.
pub fn library() -> Vec<pkce_harness::scenario::Scenario> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    pkce_harness::scenario::load_dir(&dir)
        .unwrap_or_else(|e| panic!("library does not load: {e:?}"))
}
