//! Client mode (`pkce-harness client`): the client scenarios against the reference client
//! through the real `command` driver (a process per login, its pipes, its exit status), the
//! client kill matrix, and a client file's command that misbehaves.

use std::process::Command;

fn harness() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pkce-harness"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn every_client_check_passes_on_the_reference_client_and_fails_on_what_it_lists() {
    let out = harness()
        .args(["client", "--selftest"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("no gaps"),
        "{}",
        text(&out.stdout)
    );
}

/// A client file whose command is the reference client, run from its folder: every check
/// passes, and the JSON report shows what reached the server with the code and the verifier
/// as fingerprints.
#[test]
fn a_client_file_drives_its_command_and_the_report_masks_what_it_sent() {
    let dir = tempfile_dir("client-file");
    let file = dir.join("client.yaml");
    std::fs::write(
        &file,
        format!(
            "format: 1\nname: reference client from a file\nredirect_uri: \"http://127.0.0.1:8765/callback\"\ndriver:\n  command:\n    run: [{:?}, reference-client]\n    timeout_seconds: 20\n",
            env!("CARGO_BIN_EXE_pkce-harness")
        ),
    )
    .expect("write the client file");
    let report = dir.join("report.json");
    let junit = dir.join("junit.xml");
    let out = harness()
        .args(["client", "--target"])
        .arg(&file)
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .arg("--report")
        .arg(format!("junit={}", junit.display()))
        .output()
        .expect("runs");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let xml = std::fs::read_to_string(&junit).expect("JUnit report");
    assert_eq!(xml.matches("<testcase").count(), 21, "{xml}");
    // The checks of a confidential client's authentication, of PAR, of DPoP and of refresh
    // skip: this one is public and claims none of them.
    assert!(
        stdout.contains("16 passed, 0 failed, 0 warned, 0 info, 5 skipped"),
        "{stdout}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("JSON");
    let evidence = json["results"].to_string();
    assert!(
        evidence.contains("code_challenge_method=S256"),
        "{evidence}"
    );
    for name in ["code_verifier", "code"] {
        let shown = evidence
            .split(&format!("{name}="))
            .nth(1)
            .unwrap_or_else(|| panic!("no {name} in the evidence"));
        assert!(
            shown.starts_with("redacted."),
            "{name} is not masked: {}",
            &shown[..shown.len().min(40)]
        );
    }
}

/// A confidential client (a secret from the environment, client_secret_basic or _post): the
/// harness's server registers it so, the command gets the secret, every check passes, and the
/// secret appears nowhere in the report.
#[test]
fn a_confidential_client_gets_its_secret_and_the_report_keeps_it() {
    let dir = tempfile_dir("confidential-client");
    for method in ["client_secret_basic", "client_secret_post"] {
        let file = dir.join(format!("{method}.yaml"));
        std::fs::write(
            &file,
            format!(
                "format: 1\nname: confidential reference client\nredirect_uri: \"http://127.0.0.1:8765/callback\"\nclient_secret: \"${{env:CLIENT_SECRET}}\"\nauth_method: {method}\ndriver:\n  command:\n    run: [{:?}, reference-client]\n",
                env!("CARGO_BIN_EXE_pkce-harness")
            ),
        )
        .expect("write the client file");
        let report = dir.join(format!("{method}.json"));
        let secret = "s3cret-of-the-confidential-client-0451";
        let out = harness()
            .args(["client", "--target"])
            .arg(&file)
            .arg("--report")
            .arg(format!("json={}", report.display()))
            .env("CLIENT_SECRET", secret)
            .output()
            .expect("runs");
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{method}: {stdout}");
        assert!(
            stdout.contains("PASS  client/rfc6749/2.3.1-authenticates-as-registered"),
            "{method}: {stdout}"
        );
        let json = std::fs::read_to_string(&report).expect("report");
        assert!(
            !json.contains(secret) && !stdout.contains(secret),
            "{method}"
        );
        if method == "client_secret_post" {
            assert!(json.contains("client_secret=redacted."), "{method}: {json}");
        }
    }
}

/// A command that prints no authorization URL and never exits is stopped at its time limit:
/// each check is `error` saying so, and the run ends.
#[test]
fn a_client_that_hangs_is_stopped_and_judged_error() {
    let dir = tempfile_dir("hanging-client");
    let file = dir.join("client.yaml");
    std::fs::write(
        &file,
        "format: 1\nname: hangs\nredirect_uri: \"http://127.0.0.1:8765/callback\"\ndriver:\n  command:\n    run: [sleep, \"60\"]\n    timeout_seconds: 1\n",
    )
    .expect("write the client file");
    let started = std::time::Instant::now();
    let out = harness()
        .args(["client", "--only", "client/rfc7636/4.2", "--target"])
        .arg(&file)
        .output()
        .expect("runs");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("ERROR") && stdout.contains("did not end within 1 s"),
        "{stdout}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pkce-harness-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A client that echoes the redirect it got (the code in it) on standard error: the reason and
/// the report show the code as a fingerprint, never in clear.
#[test]
fn what_a_client_prints_is_masked_like_everything_else() {
    let dir = tempfile_dir("leaky-client");
    let script = dir.join("leaky.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"$PKCE_HARNESS_ISSUER/authorize?response_type=code&client_id=$PKCE_HARNESS_CLIENT_ID&redirect_uri=$PKCE_HARNESS_REDIRECT_URI&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256\"\nread back\necho \"refused, having got $back\" >&2\nexit 1\n",
    )
    .expect("write the script");
    let file = dir.join("client.yaml");
    std::fs::write(
        &file,
        "format: 1\nname: leaky\nredirect_uri: \"http://127.0.0.1:8765/callback\"\nscope: profile\ndriver: {command: {run: [sh, leaky.sh], timeout_seconds: 10}}\n",
    )
    .expect("write the client file");
    let report = dir.join("report.json");
    let out = harness()
        .args(["client", "--only", "client/rfc7636/4.2", "--target"])
        .arg(&file)
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .output()
        .expect("runs");
    let json = std::fs::read_to_string(&report).expect("report");
    let said = json
        .split("having got ")
        .nth(1)
        .expect("the client's words are kept");
    let code = said
        .split("code=")
        .nth(1)
        .expect("the redirect it echoed has a code");
    assert!(
        code.starts_with("redacted."),
        "the code is shown in clear: {}\n{}",
        &code[..code.len().min(40)],
        text(&out.stdout)
    );
}

/// openid-client 6 (Node), installed like the server fixtures, through every client check: it
/// holds its baseline (two deviations the specification allows, read in its source), plain and
/// with PAR and DPoP.
#[test]
fn openid_client_passes_with_its_baseline() {
    let dir = root().join("fixtures/clients/openid-client");
    install(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir),
    );
    holds_its_baseline("openid-client", "openid-client", 2);
    // The same login.mjs with PAR and DPoP: every check of them passes.
    holds_its_baseline("openid-client-par-dpop", "openid-client-par-dpop", 2);
}

/// Authlib's OAuth 2.0 client (Python), in a virtualenv inside its folder like the Authlib
/// server fixture: it holds its baseline (RFC 9207 iss never read, confirmed in its source).
/// Its Flask integration as a web app, through the `http` driver (the app started for each
/// server, the browser from /login through the server to /callback), holds its own (the same
/// deviation). One test, so the virtualenv is made once.
#[test]
fn authlib_clients_pass_with_their_baselines() {
    authlib_venv();
    holds_its_baseline("authlib", "authlib-client", 1);
    holds_its_baseline("authlib-flask", "authlib-flask", 1);
    // The same login.py as a confidential client: it authenticates as registered.
    let out = harness()
        .current_dir(root())
        .args(["client", "--only", "client/rfc6749/2.3.1", "--target"])
        .arg("fixtures/clients/authlib-confidential.yaml")
        .env("AUTHLIB_CLIENT_SECRET", "authlib-s3cret-for-the-harness")
        .output()
        .expect("runs");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
}

/// The `oauth2` crate (Rust), built as `examples/oauth2_client` beside this test: it holds its
/// baseline (no RFC 9207 support). The client file in fixtures/ points at the default target
/// folder; this test points at the folder it was built in.
#[test]
fn the_oauth2_crate_holds_its_baseline() {
    let exe = std::env::current_exe().expect("the test's path");
    let debug = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>/deps");
    let example = debug.join("examples/oauth2_client");
    if !example.is_file() {
        install(
            Command::new(env!("CARGO"))
                .args(["build", "--example", "oauth2_client"])
                .current_dir(root()),
        );
    }
    let shipped = std::fs::read_to_string(root().join("fixtures/clients/oauth2-crate.yaml"))
        .expect("the fixture client file");
    let dir = tempfile_dir("oauth2-crate");
    let file = dir.join("oauth2-crate.yaml");
    std::fs::write(
        &file,
        shipped.replace(
            "[../../target/debug/examples/oauth2_client]",
            &format!("[{:?}]", example.display().to_string()),
        ),
    )
    .expect("write the client file");
    let out = harness()
        .current_dir(root())
        .args(["client", "--target"])
        .arg(&file)
        .args(["--baseline", "fixtures/expectations/oauth2-crate.yaml"])
        .output()
        .expect("runs");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("7 passed, 0 failed")
            && stdout.contains("1 known deviations seen, 0 new, 0 stale"),
        "{stdout}"
    );
}

/// oidc-client-ts 3 in a single-page app, in headless Chromium through the `browser` driver
/// (the app served by its node script, the login button clicked, the page read): it holds its
/// baseline (no ID Token validation beyond sub and nonce, read in its source). Needs Chromium
/// (`.ci/run` installs it; elsewhere the test says it did not run).
#[test]
fn oidc_client_ts_in_chromium_holds_its_baseline() {
    if !crate::logins::chromium_here() {
        return;
    }
    let dir = root().join("fixtures/clients/oidc-client-ts");
    install(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir),
    );
    holds_its_baseline("oidc-client-ts", "oidc-client-ts", 7);
}

/// The reference client as a web app (`reference-client --serve`) through the `http` driver:
/// every check passes, and the trail shows the browser going from the app to the server and
/// back. With its retry defect, the browser's rounds are counted and the check names them.
#[test]
fn the_http_driver_follows_a_web_app_through_the_server_and_back() {
    let dir = tempfile_dir("web-app");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let file = |defect: &str| {
        let path = dir.join(format!("client{defect}.yaml"));
        std::fs::write(
            &path,
            format!(
                "format: 1\nname: reference web app\nredirect_uri: \"http://127.0.0.1:{port}/callback\"\ndriver:\n  http:\n    run: [{:?}, reference-client, --serve{defect}]\n    login_url: \"http://127.0.0.1:{port}/login\"\n    success_text: Signed in\n",
                env!("CARGO_BIN_EXE_pkce-harness")
            ),
        )
        .expect("write the client file");
        path
    };
    let report = dir.join("report.json");
    let out = harness()
        .args(["client", "--target"])
        .arg(file(""))
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .output()
        .expect("runs");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("16 passed, 0 failed, 0 warned, 0 info, 5 skipped"),
        "{stdout}"
    );
    let json = std::fs::read_to_string(&report).expect("report");
    for hop in [
        format!("GET http://127.0.0.1:{port}/login -> 302"),
        format!("GET http://127.0.0.1:{port}/callback -> 200"),
        "the app's page says the login was accepted".to_owned(),
    ] {
        assert!(json.contains(&hop), "{hop} not in {json}");
    }
    let out = harness()
        .args(["client", "--only", "client/rfc6749/4.1.2.1", "--target"])
        .arg(file(", --defect, retries-on-error"))
        .output()
        .expect("runs");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("WARN") && stdout.contains("4 authorization requests"),
        "{stdout}"
    );
}

/// The reference web app through the `browser` driver (Chromium opens its /login and reads the
/// page it ends on): every check passes on the clean app; a loop of authorization requests is
/// stopped and counted, and an unchecked state fails. Needs Chromium, like the SPA fixture.
#[test]
fn the_browser_driver_reads_the_page_a_login_ends_on() {
    if !crate::logins::chromium_here() {
        return;
    }
    let dir = tempfile_dir("browser-app");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let run = |defect: &str, only: &[&str]| {
        let path = dir.join(format!("client{}.yaml", defect.len()));
        std::fs::write(
            &path,
            format!(
                "format: 1\nname: reference web app in Chromium\nredirect_uri: \"http://127.0.0.1:{port}/callback\"\ndriver:\n  browser:\n    run: [{:?}, reference-client, --serve{defect}]\n    app_url: \"http://127.0.0.1:{port}/login\"\n    success_text: Signed in\n    failure_text: \"Refused:\"\n",
                env!("CARGO_BIN_EXE_pkce-harness")
            ),
        )
        .expect("write the client file");
        let mut cmd = harness();
        cmd.args(["client", "--target"]).arg(&path);
        for o in only {
            cmd.args(["--only", o]);
        }
        text(&cmd.output().expect("runs").stdout)
    };
    let clean = run(
        "",
        &[
            "client/rfc7636",
            "client/rfc6749",
            "client/oidc-core/3.1.3.7-wrong",
        ],
    );
    assert!(clean.contains(" 0 failed, 0 warned, 0 info, "), "{clean}");
    assert!(clean.contains(", 0 errors"), "{clean}");
    let looping = run(", --defect, retries-on-error", &["client/rfc6749/4.1.2.1"]);
    assert!(
        looping.contains("WARN") && looping.contains("stopped: sent to the authorization endpoint"),
        "{looping}"
    );
    let state = run(", --defect, state-unchecked", &["client/rfc6749/10.12"]);
    assert!(state.contains("FAIL  client/rfc6749/10.12"), "{state}");
}

/// An app that exits before it listens makes each check `error`, with what it said.
#[test]
fn a_web_app_that_never_listens_is_an_error_with_its_words() {
    let dir = tempfile_dir("broken-web-app");
    let file = dir.join("client.yaml");
    std::fs::write(
        &file,
        "format: 1\nname: broken\nredirect_uri: \"http://127.0.0.1:8766/callback\"\ndriver:\n  http:\n    run: [sh, -c, \"echo missing setting FOO >&2; exit 3\"]\n    login_url: \"http://127.0.0.1:8766/login\"\n",
    )
    .expect("write the client file");
    let out = harness()
        .args(["client", "--only", "client/rfc7636/4.2", "--target"])
        .arg(&file)
        .output()
        .expect("runs");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("ERROR")
            && stdout.contains("exited")
            && stdout.contains("missing setting FOO"),
        "{stdout}"
    );
}

/// The virtualenv of the Authlib fixtures, made or brought up to date with its
/// requirements.txt (a copy of the one installed is kept inside it).
fn authlib_venv() {
    let dir = root().join("fixtures/clients/authlib");
    let wanted = std::fs::read_to_string(dir.join("requirements.txt")).expect("requirements");
    let installed = std::fs::read_to_string(dir.join(".venv/installed.txt")).unwrap_or_default();
    if dir.join(".venv/bin/python").is_file() && installed == wanted {
        return;
    }
    install(
        Command::new("python3")
            .args(["-m", "venv", ".venv"])
            .current_dir(&dir),
    );
    install(
        Command::new(".venv/bin/pip")
            .args(["install", "--quiet", "-r", "requirements.txt"])
            .current_dir(&dir),
    );
    std::fs::write(dir.join(".venv/installed.txt"), wanted).expect("note what is installed");
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs an installer step; it must succeed.
fn install(cmd: &mut Command) {
    let out = cmd.output().expect("the installer runs");
    assert!(out.status.success(), "{cmd:?}: {}", text(&out.stderr));
}

/// `client` with `fixtures/clients/{file}.yaml` and `fixtures/expectations/{expectations}.yaml`
/// exits 0 with its `known` deviations seen.
fn holds_its_baseline(file: &str, expectations: &str, known: usize) {
    let out = harness()
        .current_dir(root())
        .args(["client", "--target"])
        .arg(format!("fixtures/clients/{file}.yaml"))
        .arg("--baseline")
        .arg(format!("fixtures/expectations/{expectations}.yaml"))
        .output()
        .expect("runs");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("{known} known deviations seen, 0 new, 0 stale")),
        "{stdout}"
    );
}

/// What a client prints is untrusted: an escape sequence in it is shown escaped on the
/// terminal, so it can neither recolour the screen nor forge a `PASS` line.
#[test]
fn a_client_cannot_write_escape_sequences_to_the_terminal() {
    let dir = tempfile_dir("escaping-client");
    std::fs::write(
        dir.join("esc.sh"),
        "#!/bin/sh\nprintf '\\033[2K\\rPASS  forged\\n' >&2\nexit 1\n",
    )
    .expect("write the script");
    let file = dir.join("client.yaml");
    std::fs::write(
        &file,
        "format: 1\nname: escapes\nredirect_uri: \"http://127.0.0.1:8765/callback\"\ndriver: {command: {run: [sh, esc.sh], timeout_seconds: 10}}\n",
    )
    .expect("write the client file");
    let out = harness()
        .args(["client", "--only", "client/rfc7636/4.2", "--target"])
        .arg(&file)
        .output()
        .expect("runs");
    let stdout = text(&out.stdout);
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
    assert!(stdout.contains("\\u{1b}[2K\\rPASS  forged"), "{stdout}");
}
