//! The binary's behaviour and exit codes, as a user or CI sees them.

use std::process::{Command, Output};

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pkce-harness"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn pkce_challenge_prints_the_rfc_7636_appendix_b_challenge() {
    let out = harness(&[
        "pkce",
        "challenge",
        "--verifier",
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\n"
    );
}

#[test]
fn pkce_verify_exit_codes() {
    let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let ok = harness(&[
        "pkce",
        "verify",
        "--verifier",
        v,
        "--challenge",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    ]);
    assert_eq!(ok.status.code(), Some(0));
    let mismatch = harness(&[
        "pkce",
        "verify",
        "--verifier",
        v,
        "--challenge",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN",
    ]);
    assert_eq!(mismatch.status.code(), Some(1));
    assert!(
        text(&mismatch.stderr).starts_with("mismatch:"),
        "{}",
        text(&mismatch.stderr)
    );
    let invalid = harness(&[
        "pkce",
        "verify",
        "--verifier",
        "short",
        "--challenge",
        "x",
        "--method",
        "s256",
    ]);
    assert_eq!(invalid.status.code(), Some(2));
    assert_eq!(
        text(&invalid.stderr).lines().count(),
        1,
        "one-line reason: {}",
        text(&invalid.stderr)
    );
    assert!(text(&invalid.stderr).contains("unknown code challenge method \"s256\""));
}

#[test]
fn pkce_generate_gives_a_matching_pair() {
    let out = harness(&["pkce", "generate", "--length", "64"]);
    let stdout = text(&out.stdout);
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .expect("field printed")
            .to_owned()
    };
    assert_eq!(field("code_verifier").len(), 64);
    // `=` form: a verifier or challenge may start with `-` (1 in 66), which would read as a flag.
    let check = harness(&[
        "pkce",
        "verify",
        &format!("--verifier={}", field("code_verifier")),
        &format!("--challenge={}", field("code_challenge")),
    ]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
}

#[test]
fn validate_points_at_the_broken_line_and_exits_2() {
    let dir = std::env::temp_dir().join(format!("pkce-harness-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("broken.yaml");
    std::fs::write(&file, "format: 1\ntitle: t\nrequirements: [REQ-50]\nsteps:\n  - authorize: {}\n  - token:\n      verifier: wrnog\n").expect("write");
    let out = harness(&["validate", file.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("broken.yaml:7:17: unknown variant `wrnog`"),
        "{err}"
    );
    assert!(err.contains("^"), "{err}");
}

#[test]
fn run_exits_0_on_the_clean_server_and_1_when_a_must_fails() {
    let _heavy = super::heavy();
    let clean = harness(&["run", "--seed", "5", "--only", "rfc7636/4.6-*"]);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean.stdout));
    assert!(text(&clean.stdout).contains("seed 5"));
    let broken = harness(&[
        "run",
        "--seed",
        "5",
        "--only",
        "rfc7636/4.6-wrong-verifier",
        "--defect",
        "accepts-wrong-verifier",
    ]);
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken.stdout));
    assert!(text(&broken.stdout).contains("failed MUST requirements:"));
}

#[test]
fn run_with_a_bad_target_file_exits_2_and_an_unreachable_target_exits_3() {
    let dir = std::env::temp_dir().join(format!("pkce-harness-target-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "format: 1\nissuer: http://127.0.0.1:9\nclientz: {}\n").expect("write");
    let out = harness(&["run", "--target", bad.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("bad.yaml:3:1"),
        "{}",
        text(&out.stderr)
    );

    let unreachable = dir.join("unreachable.yaml");
    // Port 9 (discard) on loopback: nothing listens there on a test machine.
    std::fs::write(&unreachable, "format: 1\nissuer: \"http://127.0.0.1:9\"\nclients:\n  public: {client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}\n  confidential: {client_id: c, client_secret: s, auth_method: client_secret_basic, redirect_uri: \"http://127.0.0.1:8765/cb\"}\nlogin: {auto: {}}\n").expect("write");
    let out = harness(&["run", "--target", unreachable.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("target unreachable")
            && text(&out.stderr).contains("127.0.0.1:9"),
        "{}",
        text(&out.stderr)
    );
}

/// Every file of the broken-input corpus is refused with exit code 2, a message that names the
/// file and line (and what is wrong, where the corpus says), and no panic.
#[test]
fn the_broken_file_corpus_is_refused_with_located_messages() {
    let mut checked = 0;
    for (kind, flag) in [("scenarios", None), ("targets", Some("--target"))] {
        let dir = format!("fixtures/broken/{kind}");
        let expected = std::fs::read_to_string(format!(
            "{}/../{dir}/EXPECTED.tsv",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("EXPECTED.tsv");
        let files = std::fs::read_dir(format!("{}/../{dir}", env!("CARGO_MANIFEST_DIR")))
            .expect("corpus folder")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".yaml"));
        for name in files {
            assert!(
                expected
                    .lines()
                    .any(|l| l.starts_with(&format!("{name}\t"))),
                "{dir}/{name} is not listed in EXPECTED.tsv"
            );
        }
        for row in expected
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let mut cols = row.splitn(3, '\t');
            let (file, line, fragment) = (
                cols.next().unwrap_or(""),
                cols.next().unwrap_or(""),
                cols.next().unwrap_or(""),
            );
            let path = format!("{dir}/{file}");
            let mut args = vec!["validate"];
            args.extend(flag);
            args.push(&path);
            let out = harness(&args);
            let err = text(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{path}: exit code; stderr: {err}"
            );
            assert!(!err.contains("panicked"), "{path}: panicked: {err}");
            assert!(
                err.contains(&format!("{path}:{line}:")),
                "{path}: expected line {line} in: {err}"
            );
            assert!(
                err.contains(fragment),
                "{path}: expected {fragment:?} in: {err}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "the corpus has {checked} files");
}

/// A report drafts a baseline; the draft is refused until its TODOs are replaced; filled in, it
/// holds the gate for the same deviations, and turns stale (exit 1) when they are fixed.
#[test]
fn a_baseline_drafted_from_a_report_gates_once_filled_in() {
    let _heavy = super::heavy();
    let dir = std::env::temp_dir().join(format!("pkce-harness-baseline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let report = dir.join("r.json");
    let baseline = dir.join("b.yaml");
    let (report_s, baseline_s) = (report.display().to_string(), baseline.display().to_string());
    let only = ["--only", "rfc7636/4.6-wrong-verifier", "--seed", "1"];
    let json_arg = format!("json={report_s}");
    let mut args = vec![
        "run",
        "--defect",
        "accepts-wrong-verifier",
        "--report",
        &json_arg,
        "-q",
    ];
    args.extend(only);
    assert_eq!(harness(&args).status.code(), Some(1));

    let out = harness(&[
        "baseline",
        "--from",
        &report_s,
        "--server",
        "reference (accepts-wrong-verifier)",
        "-o",
        &baseline_s,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).starts_with("wrote 2 deviation(s)"),
        "{}",
        text(&out.stderr)
    );

    let formats = ["json", "junit", "markdown", "html", "sarif", "gitlab"];
    let written = |format: &str| dir.join(format!("gated.{format}"));
    let gated = |defect: bool| {
        let reports: Vec<String> = formats
            .iter()
            .map(|f| format!("{f}={}", written(f).display()))
            .collect();
        let mut args = vec!["run", "--baseline", &baseline_s, "-q"];
        for r in &reports {
            args.extend(["--report", r.as_str()]);
        }
        if defect {
            args.extend(["--defect", "accepts-wrong-verifier"]);
        }
        args.extend(only);
        harness(&args)
    };
    let read = |format: &str| std::fs::read_to_string(written(format)).expect("report written");
    let refused = gated(true);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("still says TODO"),
        "{}",
        text(&refused.stderr)
    );

    let filled = std::fs::read_to_string(&baseline).expect("draft").replace(
        "TODO: confirm and say why.",
        "Accepts any verifier (defect switch).",
    );
    std::fs::write(&baseline, filled).expect("write");
    // Held: exit 0, and no format shows a failure; each shows the deviations as known.
    let held = gated(true);
    assert_eq!(held.status.code(), Some(0), "{}", text(&held.stdout));
    let json: serde_json::Value = serde_json::from_str(&read("json")).expect("json");
    assert_eq!(json["summary"]["failed"], 0);
    assert_eq!(json["summary"]["known"], 2);
    assert_eq!(json["baseline"]["known"], 2);
    assert!(
        json["results"]
            .as_array()
            .expect("results")
            .iter()
            .all(|r| r["gate"]["mark"] == "known")
    );
    let junit = read("junit");
    assert!(
        !junit.contains("<failure") && junit.contains("KNOWN deviation"),
        "{junit}"
    );
    assert!(junit.contains("failures=\"0\""), "{junit}");
    let md = read("markdown");
    assert!(
        md.contains("✅ the baseline gate holds")
            && md.contains("### Known deviations (baseline) (2)"),
        "{md}"
    );
    assert!(!md.contains("Failing the gate"), "{md}");
    let html = read("html");
    assert!(
        html.contains("the gate holds") && !html.contains("data-verdict=\"fail\""),
        "held html"
    );
    assert!(html.contains("data-verdict=\"known\""), "held html");
    let gitlab: serde_json::Value = serde_json::from_str(&read("gitlab")).expect("gitlab");
    let listed = gitlab["vulnerabilities"]
        .as_array()
        .expect("vulnerabilities");
    assert!(
        listed.len() == 2
            && listed.iter().all(|v| v["description"]
                .as_str()
                .is_some_and(|d| d.contains("Listed in the baseline: Accepts any verifier"))),
        "{gitlab}"
    );

    // Stale: exit 1, and every format shows the stale entries as failures.
    let stale = gated(false);
    assert_eq!(stale.status.code(), Some(1), "{}", text(&stale.stdout));
    assert!(
        text(&stale.stdout).contains("stale"),
        "{}",
        text(&stale.stdout)
    );
    let json: serde_json::Value = serde_json::from_str(&read("json")).expect("json");
    assert_eq!(json["summary"]["failed"], 2);
    assert_eq!(json["baseline"]["stale"], 2);
    let junit = read("junit");
    assert_eq!(
        junit.matches("type=\"stale-baseline-entry\"").count(),
        2,
        "{junit}"
    );
    let md = read("markdown");
    assert!(
        md.contains("❌ the baseline gate fails") && md.contains("### Stale baseline entries (2)"),
        "{md}"
    );
    let html = read("html");
    assert!(
        html.contains("the gate fails") && html.contains("data-verdict=\"stale\""),
        "stale html"
    );
    let _ = std::fs::remove_dir_all(&dir);

    let out = harness(&["baseline", "--from", "Cargo.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .starts_with("error: Cargo.toml:1:2: not a pkce-harness JSON report: expected value"),
        "{}",
        text(&out.stderr)
    );
}

/// `check` refuses a broken target file naming the key (exit 2) and an unreachable server
/// (exit 3) before anything runs.
#[test]
fn check_names_the_bad_key_and_the_unreachable_server() {
    let out = harness(&[
        "check",
        "--target",
        "fixtures/broken/targets/unknown-key.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .contains("fixtures/broken/targets/unknown-key.yaml:7:1: unknown field `scopes`"),
        "{}",
        text(&out.stderr)
    );
    let dir = std::env::temp_dir().join(format!("pkce-harness-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("t.yaml");
    std::fs::write(
        &file,
        "format: 1\nissuer: \"http://127.0.0.1:9\"\nclients:\n  public: {client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}\n  confidential: {client_id: c, client_secret: s3cret, auth_method: client_secret_basic, redirect_uri: \"http://127.0.0.1:8765/cb\"}\nlogin: {auto: {}}\n",
    )
    .expect("write");
    let out = harness(&["check", "--target", &file.display().to_string()]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("error: target unreachable: "),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("check issuer (or endpoints)"),
        "{}",
        text(&out.stderr)
    );
    // A server that is up and answers 404 at every well-known URL: not unreachable, but a file
    // that must say where the metadata is.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut stream, &mut buf);
            let _ = std::io::Write::write_all(
                &mut stream,
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let up = dir.join("up.yaml");
    std::fs::write(
        &up,
        format!("format: 1\nissuer: \"http://127.0.0.1:{port}\"\nclients:\n  public: {{client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}}\n  confidential: {{client_id: c, client_secret: s3cret, auth_method: client_secret_basic, redirect_uri: \"http://127.0.0.1:8765/cb\"}}\nlogin: {{auto: {{}}}}\n"),
    )
    .expect("write");
    let out = harness(&["check", "--target", &up.display().to_string()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("HTTP 404") && text(&out.stderr).contains("set metadata_url"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Against a served reference server: `check` passes every client; with a wrong secret in the
/// target file, `run` stops at preflight with exit 2 and one line per broken client.
#[test]
fn run_stops_at_preflight_when_a_setting_breaks_every_flow() {
    use std::io::BufRead;
    let dir = std::env::temp_dir().join(format!("pkce-harness-pre-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let good = dir.join("good.yaml");
    let mut server = Command::new(env!("CARGO_BIN_EXE_pkce-harness"))
        .args([
            "serve-reference",
            "--write-target",
            &good.display().to_string(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("server starts");
    let mut first = String::new();
    let stdout = server.stdout.take().expect("stdout");
    std::io::BufReader::new(stdout)
        .read_line(&mut first)
        .expect("ready line");
    assert!(first.starts_with("ready: "), "{first}");

    let ok = harness(&["check", "--target", &good.display().to_string()]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stdout));
    assert_eq!(
        text(&ok.stdout).matches("\nok    ").count(),
        4,
        "{}",
        text(&ok.stdout)
    );

    let text_of_good = std::fs::read_to_string(&good).expect("target written");
    // An issuer spelled otherwise than the metadata spells it, with which every flow still
    // completes: a warning with the value to write, and exit 0 (the scenarios judge the rest).
    let slash = dir.join("slash.yaml");
    let respelled: String = text_of_good
        .lines()
        .map(|l| match l.strip_prefix("issuer: \"") {
            Some(rest) => format!("issuer: \"{}/\"\n", rest.trim_end_matches('"')),
            None => format!("{l}\n"),
        })
        .collect();
    std::fs::write(&slash, respelled).expect("write");
    let warned = harness(&["check", "--target", &slash.display().to_string()]);
    assert_eq!(warned.status.code(), Some(0), "{}", text(&warned.stdout));
    assert!(
        text(&warned.stdout).contains("warn  target: the metadata says issuer"),
        "{}",
        text(&warned.stdout)
    );
    let bad = dir.join("bad.yaml");
    let broken: String = text_of_good
        .lines()
        .map(|l| match l.find("client_secret: ") {
            Some(i) => format!("{}client_secret: not-the-secret", &l[..i]),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&bad, broken).expect("write");
    // Issue 26: `check --format json` says the same as data, with the same exit status.
    let as_json = |file: &std::path::Path| {
        let out = harness(&[
            "check",
            "--format",
            "json",
            "--target",
            &file.display().to_string(),
        ]);
        let doc: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("one JSON document");
        (out.status.code(), doc)
    };
    let (code, doc) = as_json(&good);
    assert_eq!(
        (code, &doc["ready"], &doc["exit_status"]),
        (Some(0), &serde_json::json!(true), &serde_json::json!(0))
    );
    assert!(
        doc["clients"]
            .as_array()
            .expect("clients")
            .iter()
            .all(|c| c["outcome"] == "completed"),
        "{doc}"
    );
    let (code, doc) = as_json(&bad);
    assert_eq!(code, Some(2), "{doc}");
    let confidential = doc["clients"]
        .as_array()
        .expect("clients")
        .iter()
        .find(|c| c["client"] == "confidential")
        .expect("the confidential client");
    assert!(
        confidential["outcome"] == "problem"
            && confidential["problem"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("got 401"))
            && confidential["problem"]["blocking"] == true,
        "{doc}"
    );
    assert!(
        !doc.to_string().contains("not-the-secret"),
        "the secret stays masked"
    );
    let json = dir.join("stopped.json");
    let out = harness(&[
        "run",
        "--target",
        &bad.display().to_string(),
        "-q",
        "--report",
        &format!("json={}", json.display()),
    ]);
    let _ = server.kill();
    let _ = server.wait();
    // A run that preflight stops still writes its reports: the normal flows, with the cause.
    let written = std::fs::read_to_string(&json).expect("the report is written");
    let report: pkce_harness::verdict::RunReport =
        serde_json::from_str(&written).expect("a JSON report");
    assert!(
        report
            .results
            .iter()
            .any(|r| r.id == "preflight/normal-flow[confidential]"
                && r.cause.is_some()
                && r.reason.contains("got 401")),
        "{written}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("FAIL  confidential client: step 2 (token): expected HTTP 200, got 401"),
        "{err}"
    );
    assert!(
        err.contains("error: preflight failed: fix the target file"),
        "{err}"
    );
    assert!(
        text(&out.stdout).is_empty(),
        "no scenario ran: {}",
        text(&out.stdout)
    );
}

/// Piped output is plain (no escape codes, no progress line), `-v` lists each exchange, and
/// `-q` with `-v` is a usage error.
#[test]
fn piped_output_is_plain_and_verbose_shows_the_exchanges() {
    let out = harness(&[
        "run",
        "-v",
        "--only",
        "rfc8414/3.3-issuer-matches",
        "--seed",
        "1",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        !stdout.contains('\x1b') && !stdout.contains('\r'),
        "{stdout:?}"
    );
    assert!(
        stdout.contains(
            "PASS  rfc8414/3.3-issuer-matches\n      [1 (discovery)] GET http://127.0.0.1:"
        ),
        "{stdout}"
    );
    let both = harness(&["run", "-q", "-v"]);
    assert_eq!(both.status.code(), Some(2));
    assert!(
        text(&both.stderr).contains("cannot be used with"),
        "{}",
        text(&both.stderr)
    );
}

/// The committed JSON Schemas are the ones the types generate (regenerate with
/// `pkce-harness schema --write fixtures/schemas`, the reference generated from the target
/// schema), every scenario of the library and every
/// fixture target file validates against its schema and names it for editors, and the schemas
/// reject what the loaders reject (an unknown key).
#[test]
fn schemas_are_current_and_accept_every_shipped_file() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let read = |p: &str| std::fs::read_to_string(format!("{root}/{p}")).expect(p);
    assert_eq!(
        read("fixtures/schemas/scenario.schema.json"),
        pkce_harness::schema::scenario_schema(),
        "scenario schema stale"
    );
    assert_eq!(
        read("fixtures/schemas/target.schema.json"),
        pkce_harness::schema::target_schema(),
        "target schema stale"
    );
    assert_eq!(
        read("docs/target-file.md"),
        pkce_harness::schema::target_reference(),
        "docs/target-file.md stale: pkce-harness schema reference > docs/target-file.md"
    );
    let validator = |name: &str| {
        let schema: serde_json::Value =
            serde_json::from_str(&read(&format!("fixtures/schemas/{name}")))
                .expect("schema is JSON");
        jsonschema::validator_for(&schema).expect("schema compiles")
    };
    assert_eq!(
        read("fixtures/schemas/client-scenario.schema.json"),
        pkce_harness::schema::client_scenario_schema(),
        "client scenario schema stale"
    );
    assert_eq!(
        read("fixtures/schemas/client.schema.json"),
        pkce_harness::schema::client_schema(),
        "client file schema stale"
    );
    let (scenario, target, client, client_file) = (
        validator("scenario.schema.json"),
        validator("target.schema.json"),
        validator("client-scenario.schema.json"),
        validator("client.schema.json"),
    );
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(format!("{root}/scenarios"))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("scenario dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                if path.starts_with(format!("{root}/scenarios/client")) {
                    files.push((path, &client, "client-scenario.schema.json"));
                } else {
                    files.push((path, &scenario, "scenario.schema.json"));
                }
            }
        }
    }
    for entry in std::fs::read_dir(format!("{root}/fixtures/targets")).expect("targets") {
        files.push((entry.expect("entry").path(), &target, "target.schema.json"));
    }
    for entry in std::fs::read_dir(format!("{root}/fixtures/clients")).expect("clients") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            files.push((path, &client_file, "client.schema.json"));
        }
    }
    assert!(files.len() > 80);
    for (path, validator, name) in files {
        let text = std::fs::read_to_string(&path).expect("file");
        assert!(
            text.starts_with("# yaml-language-server: $schema=")
                && text.lines().next().is_some_and(|l| l.ends_with(name)),
            "{} does not name its schema on its first line",
            path.display()
        );
        let value: serde_json::Value = serde_saphyr::from_str(&text).expect("YAML");
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
    let mut wrong: serde_json::Value =
        serde_saphyr::from_str(&read("scenarios/rfc7636/4.6-wrong-verifier.yaml")).expect("YAML");
    wrong["titel"] = "typo".into();
    assert!(!scenario.is_valid(&wrong), "an unknown key is refused");
}

/// Report destinations are checked before the run: a path that cannot be written and a path
/// named twice are usage errors naming the path, at once; `-` is standard output.
#[test]
fn report_destinations_are_checked_first_and_dash_is_stdout() {
    let out = harness(&["run", "--report", "json=/proc/nope/r.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("/proc/nope/r.json"),
        "{}",
        text(&out.stderr)
    );
    let dir = std::env::temp_dir().join(format!("pkce-harness-twice-{}", std::process::id()));
    let same = format!("{}/r.out", dir.display());
    let out = harness(&[
        "run",
        "--report",
        &format!("json={same}"),
        "--report",
        &format!("html={same}"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("named twice"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);

    let out = harness(&[
        "run",
        "--only",
        "rfc7636/4.1-verifier-42-characters-refused",
        "--report",
        "json=-",
        "--seed",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: pkce_harness::verdict::RunReport =
        serde_json::from_slice(&out.stdout).expect("standard output is the JSON report alone");
    assert!(!report.results.is_empty());
    assert!(
        text(&out.stderr).contains("pkce-harness: "),
        "the terminal lines went to stderr"
    );
    assert!(!std::path::Path::new("-").exists(), "no file named -");
}

/// Ctrl-C stops the run, writes the reports with what finished, marked interrupted, and exits
/// 130; a previous report at the same path is replaced, not left looking current.
#[test]
fn ctrl_c_writes_an_interrupted_report_and_exits_130() {
    let dir = std::env::temp_dir().join(format!("pkce-harness-int-{}", std::process::id()));
    let scenarios = dir.join("scenarios/slow");
    std::fs::create_dir_all(&scenarios).expect("dir");
    std::fs::write(
        scenarios.join("quick.yaml"),
        "format: 1\ntitle: quick\nrequirements: [REQ-21]\ncatches: [broken-s256]\nsteps:\n  - authorize: {}\n  - token: {}\n",
    )
    .expect("write");
    std::fs::write(
        scenarios.join("sleepy.yaml"),
        "format: 1\ntitle: sleepy\nrequirements: [REQ-21]\ncatches: [broken-s256]\nsteps:\n  - authorize: {}\n  - sleep: {seconds: 60}\n  - token: {}\n",
    )
    .expect("write");
    let json = dir.join("r.json");
    std::fs::write(&json, "{\"stale\": true}").expect("a previous report");
    let child = Command::new(env!("CARGO_BIN_EXE_pkce-harness"))
        .args([
            "run",
            "--scenarios-only",
            &dir.join("scenarios").display().to_string(),
            "--report",
            &format!("json={}", json.display()),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    // Once the quick check's line is out, interrupt.
    use std::io::BufRead;
    let mut child = child;
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut seen = String::new();
    while !seen.contains("slow/quick") {
        let mut line = String::new();
        if stdout.read_line(&mut line).expect("reads") == 0 {
            break;
        }
        seen.push_str(&line);
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("reads");
    seen.push_str(&rest);
    let out = child.wait_with_output().expect("ends");
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert!(seen.contains("INTERRUPTED"), "{seen}");
    let report: pkce_harness::verdict::RunReport =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("written")).expect("JSON");
    assert!(report.interrupted);
    assert_eq!(report.results.len(), 1, "only the quick check finished");
    assert_eq!(report.results[0].id, "slow/quick");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--defect list` works on `run` as on `serve-reference`, an unknown defect is exit 2 with the
/// known ones, and one check is "1 check".
#[test]
fn run_lists_defects_and_counts_in_words() {
    let out = harness(&["run", "--defect", "list"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).contains("accepts-wrong-verifier"),
        "{}",
        text(&out.stdout)
    );
    let out = harness(&["run", "--defect", "no-such-defect"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("known: accepts-wrong-verifier"),
        "{}",
        text(&out.stderr)
    );
    let out = harness(&[
        "run",
        "-q",
        "--only",
        "rfc7636/4.1-verifier-42-characters-refused",
        "--seed",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("pkce-harness: 1 check against"),
        "{}",
        text(&out.stdout)
    );
}

/// Every selector form as people type it: a result id as printed, a requirement, a bug, a CVE,
/// `--exclude`, `--rerun-failed`; a selector that matches nothing stops the run (exit 2) with
/// the closest names, before any table is printed.
#[test]
fn selectors_follow_what_people_type() {
    let _heavy = super::heavy();
    let dir = std::env::temp_dir().join(format!("pkce-harness-select-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let report = dir.join("r.json");
    let report_arg = format!("json={}", report.display());
    let ran = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["run", "-q", "--seed", "1", "--report", &report_arg];
        args.extend(extra);
        let out = harness(&args);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{extra:?}: {}",
            text(&out.stderr)
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
        json["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        ran(&["--only", "rfc7636/4.6-wrong-verifier[public]"]),
        ["rfc7636/4.6-wrong-verifier[public]"]
    );
    assert_eq!(
        ran(&["--only", "REQ-52"]),
        ["rfc9700/4.8.2-pkce-downgrade-confidential"]
    );
    let bug = ran(&["--only", "BUG-12"]);
    assert!(
        bug.iter()
            .all(|id| id.starts_with("rfc6749/10.5-concurrent"))
            && !bug.is_empty(),
        "{bug:?}"
    );
    let cve = ran(&["--only", "CVE-2026-68079"]);
    assert!(
        cve.contains(&"rfc6749/10.5-code-replay[public]".to_owned()),
        "{cve:?}"
    );
    let excluded = ran(&["--only", "rfc7636/*", "--exclude", "*[confidential]"]);
    assert!(
        !excluded.is_empty()
            && excluded
                .iter()
                .all(|id| id.starts_with("rfc7636/") && !id.ends_with("[confidential]")),
        "{excluded:?}"
    );

    // --rerun-failed takes the checks that failed (here the two of a defect) and nothing else.
    let out = harness(&[
        "run",
        "-q",
        "--defect",
        "accepts-wrong-verifier",
        "--only",
        "rfc7636/4.6-*",
        "--report",
        &report_arg,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let rerun = dir.join("first.json");
    std::fs::rename(&report, &rerun).expect("keep the first report");
    let rerun_s = rerun.display().to_string();
    assert_eq!(
        ran(&[
            "--defect",
            "accepts-wrong-verifier",
            "--rerun-failed",
            &rerun_s
        ]),
        [
            "rfc7636/4.6-plain-substitution[confidential]",
            "rfc7636/4.6-plain-substitution[public]",
            "rfc7636/4.6-reversed-verifier",
            "rfc7636/4.6-wrong-verifier[confidential]",
            "rfc7636/4.6-wrong-verifier[public]"
        ]
    );

    for (typed, hint) in [
        (
            "rfc7636/4.6-wrong-verfier",
            "did you mean rfc7636/4.6-wrong-verifier",
        ),
        ("REQ-999", "matches no check"),
        ("CVE-1999-0001", "matches no check"),
    ] {
        let out = harness(&["run", "--only", typed]);
        assert_eq!(out.status.code(), Some(2), "{typed}");
        assert!(
            text(&out.stderr).contains(hint),
            "{typed}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stdout).is_empty(),
            "no table before the error: {}",
            text(&out.stdout)
        );
    }
    let out = harness(&["run", "--only", "rfc7636/*", "--exclude", "rfc7636/*"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("leaves no check to run"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `diff` of two runs: the defect's checks regressed one way (exit 1) and are fixed the other
/// (exit 0).
#[test]
fn diff_names_regressions_and_fixes() {
    let dir = std::env::temp_dir().join(format!("pkce-harness-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (clean, broken) = (dir.join("clean.json"), dir.join("broken.json"));
    let only = ["--only", "rfc7636/4.6-wrong-verifier*", "-q", "--seed", "1"];
    for (path, defect) in [(&clean, None), (&broken, Some("accepts-wrong-verifier"))] {
        let report = format!("json={}", path.display());
        let mut args = vec!["run", "--report", &report];
        args.extend(only);
        if let Some(d) = defect {
            args.extend(["--defect", d]);
        }
        assert!(matches!(harness(&args).status.code(), Some(0 | 1)));
    }
    let (c, b) = (clean.display().to_string(), broken.display().to_string());
    let worse = harness(&["diff", &c, &b]);
    assert_eq!(worse.status.code(), Some(1), "{}", text(&worse.stdout));
    assert!(
        text(&worse.stdout)
            .contains("regressed (2):\n  rfc7636/4.6-wrong-verifier[confidential]: pass -> fail"),
        "{}",
        text(&worse.stdout)
    );
    let better = harness(&["diff", &b, &c]);
    assert_eq!(better.status.code(), Some(0));
    assert!(
        text(&better.stdout).contains("fixed (2):"),
        "{}",
        text(&better.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The man pages shipped in the package (`harness/man/`) are the ones the command line
/// generates now, and every shell gets a completion script naming the commands.
#[test]
fn man_pages_are_current_and_completions_cover_the_commands() {
    let dir = std::env::temp_dir().join(format!("pkce-harness-man-{}", std::process::id()));
    let out = harness(&["man", "--write", &dir.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let names = |d: &std::path::Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names(&dir),
        names(&shipped),
        "regenerate: pkce-harness man --write harness/man"
    );
    for name in names(&dir) {
        assert_eq!(
            std::fs::read_to_string(dir.join(&name)).expect("generated"),
            std::fs::read_to_string(shipped.join(&name)).expect("shipped"),
            "{name} is stale: pkce-harness man --write harness/man"
        );
    }
    // Issue 26: the pages say how each command ends, what it reads and how it is used.
    for page in [
        "pkce-harness.1",
        "pkce-harness-run.1",
        "pkce-harness-fuzz.1",
    ] {
        let roff = std::fs::read_to_string(dir.join(page)).expect("page");
        for section in [
            ".SH \"EXIT STATUS\"",
            ".SH \"ENVIRONMENT\"",
            ".SH \"EXAMPLES\"",
        ] {
            assert!(roff.contains(section), "{page} lacks {section}");
        }
    }
    let check = std::fs::read_to_string(dir.join("pkce-harness-check.1")).expect("page");
    assert!(check.contains(".SH \"EXIT STATUS\"") && check.contains("Ready to run"));
    let help = text(&harness(&["run", "--help"]).stdout);
    for status in ["  0 ", "  1 ", "  2 ", "  3 ", "  130 "] {
        assert!(
            help.contains(status),
            "run --help lacks exit status {status}"
        );
    }
    assert!(help.contains("NO_COLOR") && help.contains("--only must --exclude low"));
    let _ = std::fs::remove_dir_all(&dir);
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = harness(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = text(&out.stdout);
        for command in ["run", "check", "diff", "serve-reference"] {
            assert!(
                script.contains(command),
                "{shell} completions lack {command}"
            );
        }
    }
}

/// The binary carries its checks: from an empty folder (no `scenarios/` anywhere near) it runs
/// the whole built-in library against the embedded server and against a target file.
#[test]
fn the_binary_runs_its_library_from_an_empty_folder() {
    let _heavy = super::heavy();
    let dir = std::env::temp_dir().join(format!("pkce-harness-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bin = env!("CARGO_BIN_EXE_pkce-harness");
    let in_dir = |args: &[&str]| {
        Command::new(bin)
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("runs")
    };
    let out = in_dir(&["list"]);
    assert!(
        text(&out.stdout).contains("292 scenarios: 292 built-in"),
        "{}",
        text(&out.stdout)
    );
    let out = in_dir(&["run", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("279 passed, 0 failed, 0 warned, 0 info, 107 skipped"),
        "{}",
        text(&out.stdout)
    );

    let mut server = Command::new(bin)
        .args(["serve-reference", "--write-target", "t.yaml"])
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("serve-reference starts");
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().expect("stdout")),
        &mut ready,
    )
    .expect("reads");
    let out = in_dir(&["run", "-q", "--target", "t.yaml"]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("0 failed"),
        "{}",
        text(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A report path that is a device, a FIFO or a folder is refused before the run starts (exit
/// 2), and left as it was: a report is written beside its path and renamed over it, which would
/// replace a device node with a regular file.
#[test]
fn reports_never_replace_devices_or_fifos() {
    use std::os::unix::fs::FileTypeExt as _;
    let dir = std::env::temp_dir().join(format!("pkce-harness-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let fifo = dir.join("report.fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    for (path, kind) in [
        ("/dev/null".to_owned(), "a device"),
        (fifo.display().to_string(), "a FIFO"),
        (dir.display().to_string(), "a folder"),
    ] {
        let out = harness(&["run", "--report", &format!("json={path}")]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{path}: {err}");
        assert!(err.contains(kind), "{path}: {err}");
    }
    let meta = std::fs::metadata("/dev/null").expect("/dev/null");
    assert!(
        meta.file_type().is_char_device(),
        "/dev/null is still a device"
    );
    let meta = std::fs::metadata(&fifo).expect("the FIFO");
    assert!(meta.file_type().is_fifo(), "the FIFO is still a FIFO");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `check` never prints the password of a URL's userinfo, in the endpoints it found or in the
/// problems it reports.
#[test]
fn check_prints_no_userinfo_password() {
    let dir = std::env::temp_dir().join(format!("pkce-harness-userinfo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("t.yaml");
    std::fs::write(
        &file,
        "format: 1\nendpoints:\n  authorization: \"http://svc:Userinfo-PW-0123@127.0.0.1:9/authorize\"\n  token: \"http://svc:Userinfo-PW-0123@127.0.0.1:9/token\"\nclients:\n  public: {client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}\n  confidential: {client_id: c, client_secret: s3cr3t-value-0123, auth_method: client_secret_basic, redirect_uri: \"http://127.0.0.1:8765/cb\"}\nlogin: {auto: {}}\n",
    )
    .expect("write");
    let out = harness(&["check", "--target", &file.display().to_string()]);
    let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(shown.contains("127.0.0.1:9"), "{shown}");
    assert!(!shown.contains("Userinfo-PW-0123"), "{shown}");
}

/// `fuzz` into a log (stderr a pipe, as under CI): no redrawn frames, no escape sequences, one
/// plain line per surface when it is done.
#[test]
fn fuzz_progress_in_a_log_is_one_plain_line_per_surface() {
    let out = harness(&[
        "fuzz",
        "--budget",
        "16",
        "--surface",
        "state",
        "--surface",
        "challenge",
        "--seed",
        "3",
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains('\r') && !err.contains('\u{1b}'), "{err:?}");
    for surface in ["state", "challenge"] {
        let lines = err
            .lines()
            .filter(|l| l.starts_with(&format!("{surface}: 16 cases, 0 finding(s)")))
            .count();
        assert_eq!(lines, 1, "{surface}: {err}");
    }
}

/// A reader that stops early (`list | head -1`) closes the pipe: the commands that print for
/// a pipe exit 0 without a panic rather than 101.
#[test]
fn printing_into_a_closed_pipe_is_no_panic() {
    for args in [
        &["list"][..],
        &["list", "--coverage"],
        &["completions", "bash"],
        &["man"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pkce-harness"))
            .args(args)
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary runs");
        // The read end closed before anything is written: every write meets a closed pipe.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("waits");
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// Issue 26: `--only high` selects the high-severity checks (it matched nothing before), a
/// level selects by the level under the run's profile, and the two combine with `--exclude`.
#[test]
fn checks_are_selected_by_severity_and_level() {
    use pkce_harness::defect::Severity;
    use pkce_harness::scenario::model::{Level, Profile};
    use pkce_harness::select::Selection;
    let library = super::library();
    let checks = pkce_harness::engine::checks(&library);
    let picked = |only: &[&str], exclude: &[&str], profile: Profile| {
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let selection = Selection::new(&owned(only), &owned(exclude), profile);
        checks
            .iter()
            .filter(|(s, id)| selection.includes(s, id))
            .map(|(s, _)| (s.file.severity(), s.file.level_under(profile)))
            .collect::<Vec<_>>()
    };
    let high = picked(&["high"], &[], Profile::default());
    assert!(!high.is_empty() && high.len() < checks.len());
    assert!(high.iter().all(|(s, _)| *s == Severity::High));
    let should = picked(&["should"], &[], Profile::default());
    assert!(!should.is_empty() && should.iter().all(|(_, l)| *l == Level::Should));
    // A level follows the profile: plain RFC 6749 makes some of today's MUSTs SHOULDs or MAYs.
    let rfc6749_must = picked(&["must"], &[], Profile::Rfc6749);
    assert!(rfc6749_must.len() < picked(&["must"], &[], Profile::default()).len());
    let high_but_must = picked(&["high"], &["should", "may"], Profile::default());
    assert!(
        high_but_must
            .iter()
            .all(|(s, l)| *s == Severity::High && *l == Level::Must)
    );
}

/// Issue 26: `list` and `validate` print one JSON document with `--format json`.
#[test]
fn list_and_validate_speak_json() {
    let out = harness(&["list", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["count"], 292);
    let wrong = doc["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .find(|s| s["id"] == "rfc7636/4.6-wrong-verifier")
        .expect("listed");
    assert_eq!(
        (&wrong["severity"], &wrong["source"]),
        (&serde_json::json!("high"), &serde_json::json!("built-in"))
    );
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let good = format!("{root}/fixtures/targets/authlib.yaml");
    let broken = format!("{root}/fixtures/broken/targets/auth-method-typo.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_pkce-harness"))
        .args(["validate", "--target", "--format", "json", &good, &broken])
        .env("PORT", "4000")
        .env("CONFIDENTIAL_SECRET", "a-long-enough-test-secret")
        .env("CONFIDENTIAL2_SECRET", "another-long-test-secret")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let files = doc["files"].as_array().expect("files");
    assert_eq!(doc["ok"], false);
    assert_eq!(
        (&files[0]["ok"], &files[1]["ok"]),
        (&serde_json::json!(true), &serde_json::json!(false))
    );
    assert!(
        files[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("auth-method-typo.yaml:")),
        "{doc}"
    );
}

/// Issue 26: a CI matrix's reports, one per target, merge into one gate (exit 1 when one target
/// fails) and one report per format: JUnit suites named by target, one SARIF run per target
/// (valid against the official schema), GitLab vulnerabilities of every target (valid against
/// GitLab's), an overview in JSON and Markdown.
#[test]
fn reports_of_a_matrix_merge_into_one_gate() {
    let _beside = super::beside_heavy();
    let dir = std::env::temp_dir().join(format!("pkce-harness-merge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let job = |name: &str, defect: Option<&str>| {
        let path = dir.join(format!("{name}.json"));
        let mut args = vec!["run", "-q", "--seed", "5", "--only", "rfc7636/4.6-*"];
        if let Some(d) = defect {
            args.extend(["--defect", d]);
        }
        let json = format!("json={}", path.display());
        args.extend(["--report", &json]);
        let out = harness(&args);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}",
            text(&out.stderr)
        );
        path.display().to_string()
    };
    let (clean, broken) = (
        job("clean", None),
        job("broken", Some("accepts-wrong-verifier")),
    );
    let out_of = |f: &str| dir.join(format!("merged.{f}")).display().to_string();
    let mut args = vec!["merge".to_owned(), clean.clone(), broken.clone()];
    for f in ["json", "junit", "markdown", "sarif", "gitlab"] {
        args.extend(["--report".to_owned(), format!("{f}={}", out_of(f))]);
    }
    let out = harness(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("2 targets: exit 1"),
        "{}",
        text(&out.stdout)
    );
    let read = |f: &str| std::fs::read_to_string(out_of(f)).expect("written");
    let merged: serde_json::Value = serde_json::from_str(&read("json")).expect("JSON");
    let statuses: Vec<&serde_json::Value> = merged["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| &t["exit_status"])
        .collect();
    assert_eq!(statuses, [&serde_json::json!(0), &serde_json::json!(1)]);
    let sarif = super::reports::valid_sarif(&read("sarif"));
    assert_eq!(sarif["runs"].as_array().expect("runs").len(), 2);
    let (gitlab, _) = super::reports::valid_gitlab(&read("gitlab"));
    assert!(
        !gitlab["vulnerabilities"]
            .as_array()
            .expect("list")
            .is_empty()
    );
    let junit = read("junit");
    assert_eq!(
        junit.matches("<testsuite name=\"reference server").count(),
        2,
        "{junit}"
    );
    assert!(read("markdown").starts_with("# pkce-harness: 2 targets: ❌ a target fails the gate"));
    let html = harness(&["merge", &clean, "--report", "html=-"]);
    assert_eq!(html.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 26: `run-many` runs a folder of target files, a few at a time, and merges their
/// reports into one gate: a target with a broken server fails it, each target's report is kept.
#[test]
fn run_many_runs_a_folder_of_targets_into_one_gate() {
    use std::io::BufRead;
    let _beside = super::beside_heavy();
    let dir = std::env::temp_dir().join(format!("pkce-harness-many-{}", std::process::id()));
    let targets = dir.join("targets");
    std::fs::create_dir_all(&targets).expect("temp dir");
    let serve = |name: &str, defect: Option<&str>| {
        let file = targets.join(format!("{name}.yaml"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pkce-harness"));
        cmd.args([
            "serve-reference",
            "--write-target",
            &file.display().to_string(),
        ]);
        if let Some(d) = defect {
            cmd.args(["--defect", d]);
        }
        let mut server = cmd
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("server starts");
        let mut first = String::new();
        std::io::BufReader::new(server.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("ready line");
        assert!(first.starts_with("ready: "), "{first}");
        server
    };
    let mut servers = [
        serve("eu", None),
        serve("us", Some("accepts-wrong-verifier")),
    ];
    let junit = dir.join("all.xml");
    let out = harness(&[
        "run-many",
        &targets.display().to_string(),
        "--out",
        &dir.join("out").display().to_string(),
        "--report",
        &format!("junit={}", junit.display()),
        "--",
        "--only",
        "rfc7636/4.6-*",
        "--seed",
        "3",
    ]);
    for s in &mut servers {
        let _ = s.kill();
        let _ = s.wait();
    }
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("eu ")
            && stdout.contains("us ")
            && stdout.contains("2 targets, 2 reports: exit 1"),
        "{stdout}"
    );
    for name in ["eu", "us"] {
        assert!(
            dir.join("out").join(format!("{name}.json")).is_file(),
            "{name}'s report kept"
        );
    }
    let xml = std::fs::read_to_string(&junit).expect("combined JUnit");
    assert_eq!(
        xml.matches("<testsuite name=\"reference server").count(),
        2,
        "{xml}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 27: a target file that names no clients (`register: true` and a login) runs the whole
/// library against the reference server: the harness registers its three clients (RFC 7591),
/// every check passes or skips saying why, and the clients are deleted afterwards (RFC 7592),
/// their secrets and registration tokens in no output. Named clients beside `register: true`
/// are refused while the file loads.
#[test]
fn a_registration_only_target_runs_the_library_and_deletes_its_clients() {
    use std::io::BufRead;
    let dir = std::env::temp_dir().join(format!("pkce-harness-register-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut server = Command::new(env!("CARGO_BIN_EXE_pkce-harness"))
        .args(["serve-reference"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("server starts");
    let mut ready = String::new();
    std::io::BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut ready)
        .expect("ready line");
    let issuer = ready
        .trim()
        .strip_prefix("ready: issuer=")
        .and_then(|r| r.split_whitespace().next())
        .expect("the ready line names the issuer")
        .to_owned();
    let target = dir.join("register.yaml");
    std::fs::write(
        &target,
        format!(
            "format: 1\nissuer: \"{issuer}\"\nregister: true\nlogin: {{form: {{fields: {{username: alice, password: wonderland}}}}}}\n"
        ),
    )
    .expect("write");
    let report = dir.join("report.json");
    let out = harness(&[
        "run",
        "-q",
        "--target",
        &target.display().to_string(),
        "--report",
        &format!("json={}", report.display()),
    ]);
    let _ = server.kill();
    let _ = server.wait();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(" 0 failed, 0 warned, 0 info,") && stdout.contains(" 0 errors"),
        "{stdout}"
    );
    assert_eq!(
        stderr.matches("registration: client dyn-").count(),
        3,
        "{stderr}"
    );
    assert_eq!(stderr.matches(" deleted").count(), 3, "{stderr}");
    let json = std::fs::read_to_string(&report).expect("report written");
    // The evidence holds each registration's answer as JSON text: every secret in it masked.
    for name in ["client_secret", "registration_access_token"] {
        let marker = format!("{name}\\\":\\\"");
        let shown: Vec<&str> = json.split(marker.as_str()).skip(1).collect();
        assert!(!shown.is_empty(), "the evidence shows a {name}");
        assert!(
            shown.iter().all(|rest| rest.starts_with("redacted.")),
            "a {name} leaked into the report"
        );
    }

    let both = dir.join("both.yaml");
    std::fs::write(
        &both,
        "format: 1\nissuer: https://as.example\nregister: true\nclients:\n  public: {client_id: p, redirect_uri: \"http://127.0.0.1:8765/callback\"}\n  confidential: {client_id: c, client_secret: s, auth_method: client_secret_basic, redirect_uri: \"http://127.0.0.1:8765/callback\"}\nlogin: {form: {fields: {username: u, password: p}}}\n",
    )
    .expect("write");
    let refused = harness(&["check", "--target", &both.display().to_string()]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("register: true registers the clients itself")
            && text(&refused.stderr).contains("both.yaml:3:11"),
        "{}",
        text(&refused.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `serve-reference --tls` serves HTTPS with its compiled-in test certificate: trusted through
/// `--ca-cert` with the CA it writes, every normal flow completes; without it, the first
/// request fails on the certificate, saying so, and nothing is judged. `run --tls` runs the
/// whole library against the embedded server over HTTPS.
#[test]
fn the_reference_server_speaks_tls_when_asked() {
    use std::io::BufRead;
    let dir = std::env::temp_dir().join(format!("pkce-harness-tls-ref-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (target, ca) = (dir.join("t.yaml"), dir.join("ca.pem"));
    let mut server = Command::new(env!("CARGO_BIN_EXE_pkce-harness"))
        .args(["serve-reference", "--tls", "--write-target"])
        .arg(&target)
        .arg("--write-ca")
        .arg(&ca)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("server starts");
    let mut ready = String::new();
    std::io::BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut ready)
        .expect("ready line");
    assert!(
        ready.starts_with("ready: issuer=https://127.0.0.1:"),
        "{ready}"
    );
    let (t, c) = (target.display().to_string(), ca.display().to_string());
    let trusted = harness(&["check", "--target", &t, "--ca-cert", &c]);
    let untrusted = harness(&["check", "--target", &t]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(trusted.status.code(), Some(0), "{}", text(&trusted.stdout));
    assert_eq!(
        untrusted.status.code(),
        Some(3),
        "{}",
        text(&untrusted.stderr)
    );
    assert!(
        text(&untrusted.stderr).contains("certificate"),
        "{}",
        text(&untrusted.stderr)
    );
    let run = harness(&["run", "--tls", "-q", "--only", "rfc7636/*"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(
        text(&run.stdout).contains("against reference server https://127.0.0.1:")
            && text(&run.stdout).contains(" 0 failed"),
        "{}",
        text(&run.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
