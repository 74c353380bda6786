//! The install path (issue 26): the installer a user pipes to `sh` installs a release only when
//! its checksum matches, the action's run step drives the harness from its inputs and hands
//! the verdict on, and the release workflow, the installer and `cargo binstall` name the same
//! assets.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pkce-harness-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// The target `install.sh` picks on this machine.
fn this_target() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "aarch64-unknown-linux-gnu",
        _ => "x86_64-unknown-linux-musl",
    }
}

#[test]
fn the_installer_installs_a_checked_release_and_refuses_a_tampered_one() {
    let assets = scratch("assets");
    let name = format!("pkce-harness-v0.1.0-{}", this_target());
    std::fs::create_dir_all(assets.join(&name)).expect("folder");
    std::fs::copy(
        env!("CARGO_BIN_EXE_pkce-harness"),
        assets.join(&name).join("pkce-harness"),
    )
    .expect("copy the binary");
    let tar = Command::new("tar")
        .current_dir(&assets)
        .args(["czf", &format!("{name}.tar.gz"), &name])
        .status()
        .expect("tar runs");
    assert!(tar.success());
    let archive = std::fs::read(assets.join(format!("{name}.tar.gz"))).expect("archive");
    let sum: String = Sha256::digest(&archive)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let checksum = assets.join(format!("{name}.tar.gz.sha256"));
    let install = |into: &Path| {
        Command::new("sh")
            .arg(root().join("action/install.sh"))
            .env("PKCE_HARNESS_VERSION", "v0.1.0")
            .env(
                "PKCE_HARNESS_ASSETS",
                format!("file://{}", assets.display()),
            )
            .env("PKCE_HARNESS_DIR", into)
            .output()
            .expect("sh runs")
    };

    std::fs::write(&checksum, format!("{sum}  {name}.tar.gz\n")).expect("checksum");
    let bin = scratch("bin");
    let out = install(&bin);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let version = Command::new(bin.join("pkce-harness"))
        .arg("--version")
        .output()
        .expect("the installed binary runs");
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("pkce-harness "));

    std::fs::write(&checksum, format!("{}  {name}.tar.gz\n", "0".repeat(64))).expect("checksum");
    let tampered = scratch("bin-tampered");
    let out = install(&tampered);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not match its published SHA-256"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!tampered.join("pkce-harness").exists(), "nothing installed");
    for dir in [assets, bin, tampered] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn the_action_runs_from_its_inputs_and_hands_on_the_verdict() {
    let _beside = super::beside_heavy();
    let dir = scratch("action");
    let (summary, output, reports) = (
        dir.join("summary.md"),
        dir.join("output"),
        dir.join("reports"),
    );
    let out = Command::new("sh")
        .arg(root().join("action/run.sh"))
        .env("PKCE_HARNESS_BIN", env!("CARGO_BIN_EXE_pkce-harness"))
        .env(
            "INPUT_ARGS",
            "--only rfc7636/4.6-wrong-verifier --defect accepts-wrong-verifier --seed 3",
        )
        .env("INPUT_REPORTS", &reports)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &output)
        .output()
        .expect("sh runs");
    // The step itself succeeds so the SARIF upload after it runs; the verdict is an output.
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outputs = std::fs::read_to_string(&output).expect("outputs written");
    assert!(outputs.contains("exit-code=1\n"), "{outputs}");
    let sarif = format!("sarif={}\n", reports.join("results.sarif").display());
    assert!(outputs.contains(&sarif), "{outputs}");
    let log: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reports.join("results.sarif")).expect("SARIF written"),
    )
    .expect("JSON");
    assert_eq!(
        log["runs"][0]["results"][0]["ruleId"],
        "rfc7636/4.6-wrong-verifier"
    );
    let shown = std::fs::read_to_string(&summary).expect("job summary written");
    assert!(shown.contains("rfc7636/4.6-wrong-verifier"), "{shown}");
    let _ = std::fs::remove_dir_all(dir);
}

/// The workflow uploads `pkce-harness-<tag>-<target>`, the installer asks for
/// `pkce-harness-<version>-<target>` of the targets the workflow builds, and binstall for the
/// same name with `v` before the version.
#[test]
fn the_workflow_the_installer_and_binstall_name_the_same_assets() {
    let read = |p: &str| std::fs::read_to_string(root().join(p)).expect(p);
    let workflow = read(".github/workflows/release.yml");
    let installer = read("action/install.sh");
    let manifest = read("harness/Cargo.toml");
    assert!(workflow.contains("name=\"pkce-harness-${GITHUB_REF_NAME}-${{ matrix.target }}\""));
    assert!(installer.contains("name=\"pkce-harness-$version-$target\""));
    assert!(manifest.contains("pkce-harness-v{ version }-{ target }{ archive-suffix }"));
    let targets: Vec<&str> = installer
        .lines()
        .filter_map(|l| l.split("target=").nth(1))
        .map(|t| t.trim_end_matches(" ;;").trim())
        .filter(|t| !t.starts_with('$') && !t.is_empty())
        .collect();
    assert_eq!(targets.len(), 4, "{targets:?}");
    for target in targets {
        assert!(
            workflow.contains(&format!("target: {target},")),
            "the installer asks for {target}, which the workflow does not build"
        );
    }
}

/// The README's screenshot caption names the command `fixtures/screenshots/retake.sh` runs, so
/// retaking it shows what the caption says.
#[test]
fn the_screenshot_caption_is_the_retake_scripts_command() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let script =
        std::fs::read_to_string(root().join("fixtures/screenshots/retake.sh")).expect("script");
    let caption = readme
        .split("![The HTML report of `pkce-harness ")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .expect("the caption names a command");
    assert!(
        script.contains(&format!("\"$bin\" {caption} -q")),
        "the caption says `pkce-harness {caption}`; retake.sh runs something else"
    );
}
