//! Real authorization servers in the loop: each fixture server is installed from its packages
//! (npm, or pip in a virtualenv inside its folder), started on a free loopback port with fresh
//! secrets, driven through the whole library by the CLI with its baseline, and stopped. The
//! gate must hold (no new, no stale deviation), and the secrets must appear in no output.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    l.local_addr().expect("local address").port()
}

fn random_secret() -> String {
    let mut b = [0u8; 18];
    getrandom::fill(&mut b).expect("OS entropy");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Starts `cmd` and waits for its `ready:` line.
fn start(mut cmd: Command, name: &str) -> Server {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: cannot start: {e}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let server = Server(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("ready:") {
                let _ = tx.send(line);
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{name} printed no ready line within 60 s"));
    server
}

/// Runs the library against the server twice, with the default concurrency and with one job at
/// a time: the baseline must hold both times (the same verdicts, whatever the load).
fn check(name: &str, server_cmd: Command, port: u16, secrets: &[(&str, String)]) {
    check_with(name, server_cmd, port, secrets, BOTH, &[], &[]);
}

/// The job counts a server's base set-up runs with: a verdict that changes with how many flows
/// run at once shows as a gate that holds with one count and not the other.
const BOTH: &[&str] = &["8", "1"];
/// Those of a set-up that varies a base one (other clients, a profile, registration): the
/// server and its concurrency are the base set-up's, shown with both counts; run alone, each
/// variant would cost CI a minute more (`--jobs 1` waits out every 30 s sleep in turn).
const EIGHT: &[&str] = &["8"];

/// [`check`] with the job counts to run with, more arguments for `run` (a profile) and more
/// of its environment (values that are not secret).
fn check_with(
    name: &str,
    server_cmd: Command,
    port: u16,
    secrets: &[(&str, String)],
    job_counts: &[&str],
    args: &[&str],
    env: &[(&str, &str)],
) {
    let _beside = super::beside_heavy();
    let server = start(server_cmd, name);
    for &jobs in job_counts {
        let report = std::env::temp_dir().join(format!(
            "pkce-harness-{name}-{jobs}-{}.json",
            std::process::id()
        ));
        let mut harness = Command::new(env!("CARGO_BIN_EXE_pkce-harness"));
        harness
            .current_dir(root())
            .args(["run", "--seed", "11", "-q", "--jobs", jobs, "--target"])
            .arg(format!("fixtures/targets/{name}.yaml"))
            .arg("--baseline")
            .arg(format!("fixtures/expectations/{name}.yaml"))
            .arg("--report")
            .arg(format!("json={}", report.display()))
            .args(args)
            .env("PORT", port.to_string());
        for (k, v) in secrets {
            harness.env(k, v);
        }
        harness.envs(env.iter().copied());
        let out = harness.output().expect("the harness runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name} with --jobs {jobs}: the baseline gate does not hold:\n{stdout}\n{stderr}"
        );
        let json = std::fs::read_to_string(&report).expect("JSON report written");
        for (_, secret) in secrets {
            assert!(
                !json.contains(secret.as_str()) && !stdout.contains(secret.as_str()),
                "{name}: a client secret leaked into the output"
            );
        }
        let _ = std::fs::remove_file(report);
    }
    drop(server);
}

/// Installs the node-oidc-provider fixture's packages once.
fn node_fixture() -> PathBuf {
    // Three tests share the fixture and may start together: one `npm ci` at a time.
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = INSTALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = root().join("fixtures/servers/node-oidc-provider");
    if !dir.join("node_modules/oidc-provider").is_dir() {
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir),
            "npm ci (node-oidc-provider)",
        );
    }
    dir
}

#[test]
fn node_oidc_provider_passes_with_its_baseline() {
    node_with_secret_clients("node-oidc-provider", BOTH, &[]);
}

/// node-oidc-provider's default set-up (two clients with secrets), run with the target file
/// and baseline `name`.
fn node_with_secret_clients(name: &str, job_counts: &[&str], args: &[&str]) {
    let dir = node_fixture();
    let port = free_port();
    let secrets = [
        ("CONFIDENTIAL_SECRET", random_secret()),
        ("CONFIDENTIAL2_SECRET", random_secret()),
    ];
    let mut cmd = Command::new("node");
    cmd.arg("server.mjs")
        .current_dir(&dir)
        .env("PORT", port.to_string());
    for (k, v) in &secrets {
        cmd.env(k, v);
    }
    check_with(name, cmd, port, &secrets, job_counts, args, &[]);
}

/// A key pair from `pkce-harness keygen`: the public JWK Set (to register) and the private PEM.
fn keygen() -> (String, String) {
    let key = std::env::temp_dir().join(format!(
        "pkce-harness-node-key-{}-{}.pem",
        std::process::id(),
        random_secret()
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_pkce-harness"))
        .args(["keygen", "--out"])
        .arg(&key)
        .output()
        .expect("keygen runs");
    assert!(
        out.status.success(),
        "keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let jwks = String::from_utf8(out.stdout).expect("the JWK Set is UTF-8");
    let pem = std::fs::read_to_string(&key).expect("keygen wrote the private key");
    let _ = std::fs::remove_file(&key);
    (jwks, pem)
}

/// The same server with its client-assertion clients: a key pair from `pkce-harness keygen`,
/// the public JWK Set registered for `jwt-client` (private_key_jwt), the private key given to
/// the harness through the environment; `secret-jwt-client` uses client_secret_jwt. The whole
/// library runs with them (the OpenID and RFC 7523 checks included).
#[test]
fn node_oidc_provider_with_jwt_clients_passes_with_its_baseline() {
    let dir = node_fixture();
    let (jwks, pem) = keygen();
    let port = free_port();
    let secrets = [
        ("CONFIDENTIAL_SECRET", random_secret()),
        ("CONFIDENTIAL2_SECRET", random_secret()),
        ("CLIENT_PRIVATE_KEY", pem),
    ];
    let mut cmd = Command::new("node");
    cmd.arg("server.mjs")
        .current_dir(&dir)
        .env("PORT", port.to_string())
        .env("CLIENT_JWKS", jwks);
    for (k, v) in &secrets[..2] {
        cmd.env(k, v);
    }
    check_with(
        "node-oidc-provider-jwt",
        cmd,
        port,
        &secrets,
        EIGHT,
        &[],
        &[],
    );
}

/// The FAPI 2.0 set-up (`FAPI=1`: PAR required, DPoP nonces, a private_key_jwt client and an
/// mTLS one) over HTTPS, judged under `--profile fapi2`: every flow pushed and sender-bound
/// (DPoP, or the mTLS client's certificate), the nonce dance followed, the TLS versions and
/// suites asked. Its certificates are the reference server's test ones (loopback only).
#[test]
fn node_oidc_provider_fapi2_passes_with_its_baseline() {
    let dir = node_fixture();
    let (jwks, pem) = keygen();
    let port = free_port();
    let tls = root().join("harness/src/server/tls");
    let read = |name: &str| std::fs::read_to_string(tls.join(name)).expect("test certificate");
    let secrets = [
        ("CLIENT_PRIVATE_KEY", pem),
        ("MTLS_CLIENT_KEY", read("client1.key")),
    ];
    let mut cmd = Command::new("node");
    cmd.arg("server.mjs")
        .current_dir(&dir)
        .env("PORT", port.to_string())
        .env("FAPI", "1")
        .env("CLIENT_JWKS", jwks)
        .env("TLS_CERT", tls.join("server.pem"))
        .env("TLS_KEY", tls.join("server.key"))
        .env("MTLS_CLIENT_CERT", read("client1.pem"));
    let ca = tls.join("ca.pem");
    let cert = read("client1.pem");
    check_with(
        "node-oidc-provider-fapi",
        cmd,
        port,
        &secrets,
        EIGHT,
        &[
            "--profile",
            "fapi2",
            "--ca-cert",
            ca.to_str().expect("UTF-8 path"),
        ],
        &[("MTLS_CLIENT_CERT", &cert)],
    );
}

#[test]
fn authlib_passes_with_its_baseline() {
    let dir = root().join("fixtures/servers/authlib");
    let python = dir.join(".venv/bin/python");
    if !python.is_file() {
        run(
            Command::new("python3")
                .args(["-m", "venv", ".venv"])
                .current_dir(&dir),
            "python3 -m venv (authlib)",
        );
        run(
            Command::new(".venv/bin/pip")
                .args(["install", "--quiet", "-r", "requirements.txt"])
                .current_dir(&dir),
            "pip install (authlib)",
        );
    }
    let port = free_port();
    let secrets = [
        ("CONFIDENTIAL_SECRET", random_secret()),
        ("CONFIDENTIAL2_SECRET", random_secret()),
    ];
    let mut cmd = Command::new(&python);
    cmd.arg("server.py")
        .current_dir(&dir)
        .env("PORT", port.to_string());
    for (k, v) in &secrets {
        cmd.env(k, v);
    }
    check("authlib", cmd, port, &secrets);
    refresh_policy_named(&dir, &python, &secrets);
}

/// Issue 26: a target file that declares refresh tokens for a server issuing none (Authlib's
/// fixture registers only the authorization_code grant) is caught by `check`, which names the
/// key and quotes the token response's members, and each refresh check's `error` names it too.
fn refresh_policy_named(dir: &Path, python: &Path, secrets: &[(&str, String)]) {
    let _beside = super::beside_heavy();
    let port = free_port();
    let mut cmd = Command::new(python);
    cmd.arg("server.py")
        .current_dir(dir)
        .env("PORT", port.to_string());
    for (k, v) in secrets {
        cmd.env(k, v);
    }
    let server = start(cmd, "authlib");
    let written = std::fs::read_to_string(root().join("fixtures/targets/authlib.yaml"))
        .expect("the fixture's target file")
        .replace(
            "refresh_tokens_public: false",
            "refresh_tokens_public: true",
        );
    let target = std::env::temp_dir().join(format!(
        "pkce-harness-authlib-refresh-{}.yaml",
        std::process::id()
    ));
    std::fs::write(&target, written).expect("write the target file");
    let harness = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pkce-harness"));
        cmd.args(args).arg("--target").arg(&target);
        cmd.env("PORT", port.to_string());
        for (k, v) in secrets {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("the harness runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = harness(&["check"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("policy.refresh_tokens_public is true, and the public client's token response had no refresh_token (it had access_token")
            && out.contains("set policy.refresh_tokens_public: false"),
        "{out}"
    );
    let (code, out) = harness(&[
        "run",
        "--only",
        "rfc9700/4.14.2-refresh-token-rotation",
        "--seed",
        "1",
    ]);
    assert_eq!(code, Some(3), "{out}");
    assert!(
        out.contains("the target file declares policy.refresh_tokens_public: true"),
        "{out}"
    );

    // Issue 26: SARIF points a finding at the line of the target file that set up its client,
    // by a path relative to the directory the job runs in.
    let sarif =
        std::env::temp_dir().join(format!("pkce-harness-authlib-{}.sarif", std::process::id()));
    let name = target.file_name().expect("a file name").to_string_lossy();
    let out = Command::new(env!("CARGO_BIN_EXE_pkce-harness"))
        .current_dir(std::env::temp_dir())
        .args(["run", "-q", "--seed", "1", "--only"])
        .arg("rfc7636/4.4.1-missing-challenge-public")
        .args(["--target", &name, "--report"])
        .arg(format!("sarif={}", sarif.display()))
        .env("PORT", port.to_string())
        .envs(secrets.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("the harness runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).expect("SARIF written"))
            .expect("JSON");
    let location = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    let public_line = std::fs::read_to_string(&target)
        .expect("the target file")
        .lines()
        .position(|l| l.trim_start().starts_with("client_id: public-client"))
        .expect("the public client")
        + 1;
    assert_eq!(
        (
            &location["artifactLocation"]["uri"],
            &location["artifactLocation"]["uriBaseId"],
            &location["region"]["startLine"]
        ),
        (
            &serde_json::json!(name),
            &serde_json::json!("%SRCROOT%"),
            &serde_json::json!(public_line)
        ),
        "{location}"
    );
    let _ = std::fs::remove_file(sarif);
    let _ = std::fs::remove_file(target);
    drop(server);
}

/// Issue 27: node-oidc-provider from a target file that names no clients (`register: true`):
/// the harness registers its own at the server's open registration endpoint and deletes them
/// afterwards; the same known deviations as with configured clients.
#[test]
fn node_oidc_provider_from_registration_alone_passes_with_its_baseline() {
    // The key-rotation check waits out node-oidc-provider's 60 s cache of a client's JWK Set
    // (it refetches on an unknown kid only after it, as the OpenID Foundation's suite allows)
    // in the run: a minute more of CI for one verdict. It passes after the wait:
    // `pkce-harness run --target fixtures/targets/node-oidc-provider-register.yaml --only
    // oidc-registration/10.1.1-rotated-client-key-fetched-again`.
    node_with_secret_clients(
        "node-oidc-provider-register",
        EIGHT,
        &[
            "--exclude",
            "oidc-registration/10.1.1-rotated-client-key-fetched-again",
        ],
    );
}
