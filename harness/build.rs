//! Compiles the scenario library into the crate: `scenarios/` (a link to the workspace's
//! top-level folder, which `cargo package` follows) becomes `BUILT_IN`, a sorted list of
//! (relative path, text), so the binary works from any folder and the packaged crate carries
//! its checks. The files are parsed and validated at run time by the same loader as a user's.

use std::path::{Path, PathBuf};

fn main() {
    // Read when the script runs, not compiled into it: cargo reuses a built script for the same
    // package unpacked elsewhere (`cargo package`'s check), and `env!` would name the old place.
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"))
        .join("scenarios");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    assert!(
        !files.is_empty(),
        "no scenario files under {}: the built-in library would be empty",
        root.display()
    );
    let mut out = String::from(
        "/// The built-in scenario library: (path relative to `scenarios/`, text).\npub static BUILT_IN: &[(&str, &str)] = &[\n",
    );
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .expect("collected under the root")
            .to_string_lossy()
            .replace('\\', "/");
        out.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("library.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}
