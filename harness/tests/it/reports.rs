//! Report formats over one fixed run (snapshots, with ports, durations and the server's random
//! values filtered), and the secret canary: no client secret or password in any output.

use std::collections::BTreeSet;
use std::sync::Arc;

use pkce_harness::defect::Defect;
use pkce_harness::engine::{self, Event, RunOptions};
use pkce_harness::report::{
    Sink, Style, TerminalSink, Verbosity, html_report, junit_xml, markdown_summary,
};
use pkce_harness::server::{ReferenceServer, ServerConfig};
use pkce_harness::verdict::{RunReport, Verdict};

struct Run {
    report: RunReport,
    /// The events in a stable order (results sorted by id), to render in any style.
    events: Vec<Event>,
    terminal: String,
    secrets: Vec<String>,
}

/// The events rendered by a terminal sink in `style`.
fn render(events: &[Event], style: Style) -> String {
    let mut sink = TerminalSink::with_style(Vec::new(), style);
    for e in events {
        sink.event(e).expect("in-memory write");
    }
    String::from_utf8(sink.into_inner()).expect("utf-8")
}

async fn fixed_run() -> Run {
    let library = super::library();
    let server = ReferenceServer::start(ServerConfig {
        defects: BTreeSet::from([Defect::AcceptsWrongVerifier]),
        ..ServerConfig::default()
    })
    .await
    .expect("server starts");
    let mut file = server.target_file();
    // Without a second confidential client, the cross-client check is skipped, with its reason.
    file.clients.as_mut().expect("clients").confidential2 = None;
    let target = engine::resolve(file, Default::default(), &Default::default())
        .await
        .expect("resolves");
    let only = [
        "rfc7636/4.6-wrong-verifier",
        "rfc6749/10.5-code-replay",
        "rfc8414/3.3-issuer-matches",
        "rfc6749/4.1.3-code-bound-to-client",
    ];
    let opts = RunOptions {
        seed: 42,
        jobs: 1,
        only: only.iter().map(ToString::to_string).collect(),
        ..RunOptions::default()
    };
    let mut events = Vec::new();
    let mut finished = Vec::new();
    let report = engine::run(&library, Arc::new(target), &opts, &mut |e| {
        // Results arrive in completion order; the snapshot wants a stable order.
        match e {
            Event::Finished(r) => finished.push(r.clone()),
            Event::Done(_) => {
                finished.sort_by(|a, b| a.id.cmp(&b.id));
                events.extend(finished.drain(..).map(Event::Finished));
                events.push(e.clone());
            }
            Event::Started { .. } => events.push(e.clone()),
        }
    })
    .await;
    let mut secrets: Vec<String> = server
        .clients()
        .iter()
        .filter_map(|c| c.secret.as_ref().map(|s| s.expose().to_owned()))
        .collect();
    secrets.push(pkce_harness::server::PASSWORD.to_owned());
    server.stop().await;
    let terminal = render(&events, Style::default());
    Run {
        report,
        events,
        terminal,
        secrets,
    }
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("snapshots");
    s.add_filter(r"127\.0\.0\.1:\d{4,5}", "127.0.0.1:[port]");
    s.add_filter(r"redacted\.[0-9a-f]{8}", "redacted.[fp]");
    s.add_filter(r#"time="[0-9.]+""#, r#"time="[t]""#);
    s.add_filter(r"· \d+ ms<", "· [t] ms<");
    s.add_filter(r"(tx|csrf)=[A-Za-z0-9_-]{43}", "$1=[random]");
    // Unique across runs by design (OS entropy, not the seed): see `Ctx::unique_value`.
    s.add_filter(r"nonce=[A-Za-z0-9_-]{24}", "nonce=[unique]");
    // When the run started and how long it took.
    s.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[started]");
    s.add_filter(r"\d+\.\d s\)", "[t] s)");
    s.add_filter(r"· \d+\.\d s<", "· [t] s<");
    s.add_filter(r"took \d+\.\d s", "took [t] s");
    s.add_filter(r#""duration_ms": \d+"#, r#""duration_ms": "[t]""#);
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_json_and_junit_of_a_fixed_run() {
    let _heavy = super::HEAVY.write().await;
    let run = fixed_run().await;
    let s = settings();
    s.bind(|| {
        insta::assert_snapshot!("terminal", run.terminal);
        // On a live terminal: colours, a progress line redrawn in place (\r, erase line),
        // passes counted rather than listed.
        let live = Style {
            color: true,
            progress: true,
            verbosity: Verbosity::Normal,
        };
        insta::assert_snapshot!(
            "terminal_live",
            render(&run.events, live)
                .escape_debug()
                .to_string()
                .replace("\\n", "\n")
        );
        let verbose = Style {
            verbosity: Verbosity::Verbose,
            ..Style::default()
        };
        insta::assert_snapshot!("terminal_verbose", render(&run.events, verbose));
        insta::assert_snapshot!("junit", junit_xml(&run.report));
        insta::assert_snapshot!("markdown", markdown_summary(&run.report));
        // The JSON and HTML reports, their evidence cut to method, URL and status.
        let mut brief = run.report.clone();
        for r in &mut brief.results {
            r.duration_ms = 0;
            for e in &mut r.evidence {
                e.request_headers.clear();
                e.request_body = None;
                e.response_headers.clear();
                e.response_body = None;
            }
        }
        insta::assert_snapshot!(
            "json",
            serde_json::to_string_pretty(&brief).expect("serialises")
        );
        insta::assert_snapshot!("html", html_report(&brief));
    });

    // The JSON report reads back into the strict types it was written from.
    let text = serde_json::to_string(&run.report).expect("serialises");
    let back: RunReport = serde_json::from_str(&text).expect("the report matches its own schema");
    assert_eq!(back, run.report);

    // No secret in any output, evidence included.
    let all = format!(
        "{}{}{}{}{}",
        run.terminal,
        junit_xml(&run.report),
        markdown_summary(&run.report),
        html_report(&run.report),
        text
    );
    for secret in &run.secrets {
        assert!(
            !all.contains(secret.as_str()),
            "a secret leaked into a report"
        );
    }
    assert!(all.contains("redacted."), "evidence shows fingerprints");
}

/// The secret canary over the whole library: against the clean server and against one that
/// leaks by design (it reflects values back), no client secret, password, code, token or
/// verifier the server saw appears in clear in the terminal, JSON or JUnit output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_of_a_whole_library_run_appears_in_any_report() {
    let _heavy = super::HEAVY.write().await;
    let library = super::library();
    for defects in [BTreeSet::new(), BTreeSet::from([Defect::ReflectsChallenge])] {
        let (server, target) = super::reference(defects).await;
        // The most verbose terminal output: every result with its exchanges.
        let mut terminal = TerminalSink::with_style(
            Vec::new(),
            Style {
                color: true,
                progress: true,
                verbosity: Verbosity::Verbose,
            },
        );
        let report = engine::run(
            &library,
            Arc::new(target),
            &RunOptions {
                seed: 7,
                ..RunOptions::default()
            },
            &mut |e| terminal.event(e).expect("in-memory write"),
        )
        .await;
        let mut canaries: Vec<String> = server
            .clients()
            .iter()
            .filter_map(|c| c.secret.as_ref().map(|s| s.expose().to_owned()))
            .collect();
        canaries.push(pkce_harness::server::PASSWORD.to_owned());
        let handed_out = server.handed_out();
        assert!(
            handed_out.len() > 100,
            "the run exchanged codes, tokens and verifiers"
        );
        canaries.extend(handed_out);
        server.stop().await;
        let all = format!(
            "{}{}{}{}{}",
            String::from_utf8_lossy(&terminal.into_inner()),
            junit_xml(&report),
            markdown_summary(&report),
            html_report(&report),
            serde_json::to_string(&report).expect("serialises")
        );
        for canary in canaries.iter().filter(|c| c.len() >= 16) {
            assert!(
                !all.contains(canary.as_str()),
                "a value the server saw appears in clear: {}…",
                &canary[..6]
            );
        }
    }
}

/// The HTML report of a whole-library run with failures, loaded in headless Chromium: it renders
/// (the filters' markup is in the DOM) and logs no console error. Chromium is found as
/// `$PKCE_HARNESS_BROWSER` or `chromium` on the PATH; `.ci/run` installs it. Without one the
/// check says so on stderr, and under `CI` it fails rather than pass unseen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_renders_in_chromium_without_console_errors() {
    let browser = std::env::var("PKCE_HARNESS_BROWSER").unwrap_or_else(|_| "chromium".into());
    let present = std::process::Command::new(&browser)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser check: install Debian's chromium or set PKCE_HARNESS_BROWSER"
        );
        eprintln!(
            "browser check NOT run: no {browser} (install Debian's chromium or set PKCE_HARNESS_BROWSER)"
        );
        return;
    }
    let _heavy = super::HEAVY.write().await;
    let (server, target) = super::reference(BTreeSet::from([
        Defect::AcceptsWrongVerifier,
        Defect::NoCacheHeaders,
    ]))
    .await;
    let report = engine::run(
        &super::library(),
        Arc::new(target),
        &RunOptions {
            seed: 5,
            ..RunOptions::default()
        },
        &mut |_| {},
    )
    .await;
    server.stop().await;
    assert!(report.summary.failed > 0);
    let dir = std::env::temp_dir().join(format!("pkce-harness-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let page = dir.join("report.html");
    std::fs::write(&page, html_report(&report)).expect("write");
    let out = std::process::Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--enable-logging=stderr",
            "--log-level=0",
            &format!("--user-data-dir={}", dir.join("profile").display()),
            "--dump-dom",
            &format!("file://{}", page.display()),
        ])
        .output()
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&dir);
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        dom.contains("class=\"filters\""),
        "the report rendered: {log}"
    );
    assert_eq!(
        dom.matches("<details class=\"s\"").count(),
        report.results.len(),
        "one block per result"
    );
    // Issue 26: the findings come first, one line per check that is not a pass or a skip,
    // each linking to its block.
    let findings = dom.find("class=\"findings\"").expect("a findings section");
    assert!(
        findings < dom.find("<details").expect("blocks"),
        "findings first"
    );
    let section = &dom[findings..dom[findings..].find("</section>").expect("closed") + findings];
    let unmet = report
        .results
        .iter()
        .filter(|r| !matches!(r.verdict, Verdict::Pass | Verdict::Skip))
        .count();
    assert_eq!(section.matches("<li>").count(), unmet);
    for link in section.split("href=\"#").skip(1) {
        let id = link.split('"').next().expect("an anchor");
        assert!(dom.contains(&format!("id=\"{id}\"")), "{id} links nowhere");
    }
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
}

/// An external checker: `$env_var`, or `default` on the PATH. Without it the check says so on
/// stderr and is not run, except under `CI`, where it fails rather than pass unseen.
fn external_tool(env_var: &str, default: &str, package: &str) -> Option<String> {
    let tool = std::env::var(env_var).unwrap_or_else(|_| default.into());
    let present = std::process::Command::new(&tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if present {
        return Some(tool);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run this check: install {package} or set {env_var}"
    );
    eprintln!("check NOT run: no {tool} (install {package} or set {env_var})");
    None
}

/// The JUnit XML of a run with every verdict validates against the schema CI systems read
/// (`fixtures/schemas/junit.xsd`, after Jenkins' junit-10), with xmllint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_junit_report_validates_against_the_ci_schema() {
    let Some(xmllint) = external_tool("PKCE_HARNESS_XMLLINT", "xmllint", "Debian's libxml2-utils")
    else {
        return;
    };
    let _heavy = super::HEAVY.write().await;
    let run = fixed_run().await;
    let kinds: BTreeSet<&str> = run
        .report
        .results
        .iter()
        .map(|r| r.verdict.as_str())
        .collect();
    assert!(
        kinds.contains("fail") && kinds.contains("skip") && kinds.contains("pass"),
        "{kinds:?}"
    );
    let dir = std::env::temp_dir().join(format!("pkce-harness-junit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("junit.xml");
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/schemas/junit.xsd");
    let validate = |text: &str| {
        std::fs::write(&file, text).expect("write");
        std::process::Command::new(&xmllint)
            .args(["--noout", "--schema", schema])
            .arg(&file)
            .output()
            .expect("xmllint runs")
    };
    let xml = junit_xml(&run.report);
    let out = validate(&xml);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The schema can fail: a count that is not a number, an outcome outside a testcase.
    for broken in [
        xml.replacen("tests=\"6\"", "tests=\"six\"", 1),
        xml.replacen("<testsuite ", "<failure/><testsuite ", 1),
    ] {
        assert!(!validate(&broken).status.success(), "accepted: {broken}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `text` as SARIF, checked against the official SARIF 2.1.0 schema (OASIS, errata 01, pinned
/// in `fixtures/schemas/` with its source).
pub fn valid_sarif(text: &str) -> serde_json::Value {
    let schema_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/schemas/sarif-schema-2.1.0.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).expect("schema")).expect("json");
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let log: serde_json::Value = serde_json::from_str(text).expect("SARIF is JSON");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF does not validate: {errors:#?}");
    log
}

/// The GitLab DAST report of the same run validates against the published schema (pinned in
/// `fixtures/schemas/`), has one vulnerability per unmet check with a stable id, and its
/// severities and scan times are GitLab's spellings.
fn gitlab_dast_validates(report: &pkce_harness::verdict::RunReport) {
    let text = pkce_harness::report::gitlab_dast_report(report);
    let (log, validator) = valid_gitlab(&text);
    // The pinned schema does refuse what GitLab refuses.
    let mut broken = log.clone();
    broken["scan"]["start_time"] = serde_json::json!("2026-12-02T10:00:00Z");
    assert!(
        !validator.is_valid(&broken),
        "a time zone suffix is refused"
    );
    let vulnerabilities = log["vulnerabilities"].as_array().expect("vulnerabilities");
    let unmet = report
        .results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Warn | Verdict::Info))
        .count();
    assert_eq!(vulnerabilities.len(), unmet);
    let ids: std::collections::BTreeSet<&str> = vulnerabilities
        .iter()
        .filter_map(|v| v["id"].as_str())
        .collect();
    assert_eq!(ids.len(), unmet, "ids are unique");
    assert_eq!(
        text,
        pkce_harness::report::gitlab_dast_report(report),
        "stable"
    );
    let wrong = vulnerabilities
        .iter()
        .find(|v| v["identifiers"][0]["value"] == "rfc7636/4.6-wrong-verifier")
        .expect("the wrong verifier is a vulnerability");
    assert_eq!(wrong["severity"], "High");
    assert_eq!(wrong["evidence"]["request"]["method"], "POST");
    assert!(
        log["scan"]["scanned_resources"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    );
}

/// Validates a GitLab DAST report against the pinned schema; the document and the validator.
pub fn valid_gitlab(text: &str) -> (serde_json::Value, jsonschema::Validator) {
    let schema_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/schemas/gitlab-dast-report-format-15.2.1.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).expect("schema")).expect("json");
    let validator = jsonschema::validator_for(&schema).expect("the GitLab schema compiles");
    let log: serde_json::Value = serde_json::from_str(text).expect("JSON");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "the GitLab DAST report does not validate: {errors:#?}"
    );
    (log, validator)
}

/// What GitHub code scanning requires of an uploaded SARIF file ("SARIF support for code
/// scanning": the required properties of `run`, `reportingDescriptor` and `result`, and its
/// limits), beyond the schema: each result has a rule, a message, one to ten locations with a
/// repository-relative URI and a `region.startLine`, a fingerprint; each rule a short and full
/// description, help, at most 20 tags and a `security-severity` between 0 and 10.
fn meets_github_requirements(log: &serde_json::Value) {
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().expect("runs");
    assert!((1..=20).contains(&runs.len()));
    for run in runs {
        assert!(run["tool"]["driver"]["name"].is_string());
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        assert!(rules.len() <= 25_000);
        for rule in rules {
            assert!(rule["id"].is_string(), "{rule}");
            for text in ["shortDescription", "fullDescription", "help"] {
                assert!(
                    rule[text]["text"].as_str().is_some_and(|t| !t.is_empty()),
                    "{rule}"
                );
            }
            assert!(rule["properties"]["tags"].as_array().expect("tags").len() <= 20);
            let severity: f64 = rule["properties"]["security-severity"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("security-severity is a number in a string");
            assert!((0.0..=10.0).contains(&severity));
        }
        let results = run["results"].as_array().expect("results");
        assert!(results.len() <= 25_000);
        for r in results {
            let rule = r["ruleId"].as_str().expect("ruleId");
            let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(rules[index]["id"], rule);
            assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
            let locations = r["locations"].as_array().expect("locations");
            assert!((1..=10).contains(&locations.len()), "{r}");
            for l in locations {
                let artifact = &l["physicalLocation"]["artifactLocation"];
                let uri = artifact["uri"].as_str().expect("uri");
                assert!(
                    artifact["uriBaseId"] == "%SRCROOT%"
                        && !uri.starts_with('/')
                        && !uri.contains("://")
                        && !uri.split('/').any(|s| s == ".." || s == "."),
                    "{artifact}"
                );
                assert!(
                    l["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .is_some_and(|n| n >= 1)
                );
            }
            assert!(
                r["partialFingerprints"]
                    .as_object()
                    .is_some_and(|f| !f.is_empty())
            );
        }
    }
}

/// A run with defects that leave checks unmet at every level: one SARIF rule per scenario, one
/// result per unmet check, levels from the verdicts, severities on the rules, and the whole log
/// valid against the official schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sarif_of_a_run_with_findings_validates_against_the_official_schema() {
    let _heavy = super::HEAVY.write().await;
    let (server, target) = super::reference(std::collections::BTreeSet::from([
        pkce_harness::defect::Defect::AcceptsWrongVerifier,
        pkce_harness::defect::Defect::NoReferrerPolicy,
        pkce_harness::defect::Defect::NoCacheHeaders,
    ]))
    .await;
    let library = super::library();
    let report = engine::run(
        &library,
        Arc::new(target),
        &RunOptions::default(),
        &mut |_| {},
    )
    .await;
    server.stop().await;
    let mut report = report;
    // As a run from a checkout's root with `--target ./ci/../ci/target.yaml` writes it.
    report.target_file = Some("./ci/../ci/target.yaml".into());
    report.target_lines = [
        ("issuer", 3),
        ("clients.public", 6),
        ("clients.confidential", 9),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    gitlab_dast_validates(&report);
    let log = valid_sarif(&pkce_harness::report::sarif_report(&report));
    meets_github_requirements(&log);
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), library.len(), "one rule per scenario");
    let results = run["results"].as_array().expect("results");
    let unmet = report
        .results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Warn | Verdict::Info))
        .count();
    assert_eq!(results.len(), unmet, "one result per unmet check");
    let levels: std::collections::BTreeSet<&str> =
        results.iter().filter_map(|r| r["level"].as_str()).collect();
    assert!(
        levels.contains("error") && levels.contains("note"),
        "{levels:?}"
    );
    for r in results {
        let place = &r["locations"][0]["physicalLocation"];
        assert_eq!(place["artifactLocation"]["uri"], "ci/target.yaml");
        let line = match r["properties"]["client"].as_str() {
            Some("public") => 6,
            Some("confidential") => 9,
            // A client the lines do not hold (confidential2 here): the issuer's.
            _ => 3,
        };
        assert_eq!(place["region"]["startLine"], line, "{r}");
    }
    let wrong = rules
        .iter()
        .find(|r| r["id"] == "rfc7636/4.6-wrong-verifier")
        .expect("rule");
    assert_eq!(wrong["properties"]["security-severity"], "8.0");
    assert_eq!(
        wrong["helpUri"],
        "https://www.rfc-editor.org/rfc/rfc7636#section-4.6"
    );
}
