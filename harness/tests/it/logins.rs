//! The login drivers against the reference server's login-page fixtures: each page kind is
//! passed by its driver through the whole library (the browser through one scenario of each
//! kind of login in it; the OAuth behaviour behind them is the reference's, so every check must
//! pass), and the wrong driver fails with a hint that names
//! the right one.

use std::sync::Arc;

use pkce_harness::engine::preflight::preflight;
use pkce_harness::engine::{self, RunOptions};
use pkce_harness::redact::Secret;
use pkce_harness::scenario::Scenario;
use pkce_harness::scenario::model::Step;
use pkce_harness::server::{LoginPage, ReferenceServer, ServerConfig};
use pkce_harness::target::{TargetFile, parse_target};
use pkce_harness::verdict::Verdict;

const SECRETS: [&str; 2] = [
    "fixture-secret-one-0123456789",
    "fixture-secret-two-0123456789",
];

async fn start(page: LoginPage) -> ReferenceServer {
    start_with(page, None).await
}

/// [`start`], every page loading assets from (and opening a popup to) `foreign_assets`.
async fn start_with(page: LoginPage, foreign_assets: Option<String>) -> ReferenceServer {
    // As `login-browser.yaml` says: a browser login on a busy two-core machine, queued behind
    // others for a tab, is slow enough that a code held across a second one (the nonce binding
    // check) or a pushed request held across one would outlive the defaults (1.5 s and 2 s).
    let defaults = ServerConfig::default();
    let (code_lifetime, request_uri_lifetime) = match page {
        LoginPage::Script => (BROWSER_LIFETIME, BROWSER_LIFETIME),
        _ => (defaults.code_lifetime, defaults.request_uri_lifetime),
    };
    ReferenceServer::start(ServerConfig {
        login_page: page,
        secrets: Some(SECRETS.map(Secret::new)),
        code_lifetime,
        request_uri_lifetime,
        foreign_assets,
        ..defaults
    })
    .await
    .expect("server starts")
}

/// The code and request_uri lifetime of the browser fixture (`login-browser.yaml`'s
/// `--code-lifetime` and `--request-uri-lifetime`). With two CI runs side by side on two cores,
/// a pushed request reused after a second browser login was 15.4 s old: 30 s leaves room, and
/// is still the longest request_uri lifetime the expiry check waits out (`MAX_REQUEST_URI_WAIT`).
const BROWSER_LIFETIME: std::time::Duration = std::time::Duration::from_secs(30);

/// The committed target file `fixtures/targets/{name}` for `server`, its `${env:...}` filled
/// in as the README's commands set them.
fn fixture(name: &str, server: &ReferenceServer) -> TargetFile {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/targets")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture target file");
    let port = server.issuer().port().expect("port").to_string();
    let text = text
        .replace("${env:PORT}", &port)
        .replace("${env:CONFIDENTIAL_SECRET}", SECRETS[0])
        .replace("${env:CONFIDENTIAL2_SECRET}", SECRETS[1]);
    parse_target(name, &text).expect("the fixture target file loads")
}

/// Whether Chromium can be used here; under `CI` it must be (`.ci/run` installs it).
pub(crate) fn chromium_here() -> bool {
    let found = std::env::var_os("PKCE_HARNESS_BROWSER").is_some()
        || std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .any(|d| d.join("chromium").is_file());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser login: install Debian's chromium or set PKCE_HARNESS_BROWSER"
        );
        eprintln!("browser login NOT tested: no chromium (install Debian's chromium)");
    }
    found
}

/// Skips these fixtures' set-up or the profile explains (client secrets, so no key to sign
/// assertions or request objects with, and no TLS client certificate; PAR not required, PKCE optional for confidential
/// clients, no DPoP nonces, FAPI-only checks): not the login driver's doing.
fn set_up_skip(reason: &str) -> bool {
    // The login fixtures' target files list no token_addresses, and 127.0.0.1 is one address.
    const MORE: &[&str] = &[
        "not under profile",
        "the token endpoint's host has one address",
    ];
    MORE.iter()
        .chain(super::SECRETS_SET_UP_LACKS)
        .any(|p| reason.contains(p))
}

/// Runs `library` against `page` with the driver the server's own target file names, and
/// returns the ids of the results that are not a pass ([`set_up_skip`]s aside).
async fn whole_library(
    library: &[Scenario],
    page: LoginPage,
    fixture_file: &str,
    driver: &str,
) -> Vec<(String, Verdict, String)> {
    let _heavy = super::HEAVY.write().await;
    // The browser's pages load a stylesheet, an image and a script from a second origin and
    // open a popup to it, as production pages load a CDN's: a correct server still passes
    // everything, and nothing reaches that origin.
    let (elsewhere, reached) = crate::steering::counting_origin().await;
    let assets = (page == LoginPage::Script).then_some(elsewhere);
    let server = start_with(page, assets).await;
    let file = fixture(fixture_file, &server);
    assert_eq!(file.login.driver(), driver);
    let target = engine::resolve(file, Default::default(), &Default::default())
        .await
        .expect("resolves");
    let report = engine::run(
        library,
        Arc::new(target),
        &RunOptions::default(),
        &mut |_| {},
    )
    .await;
    server.stop().await;
    // Every scheduled check (a scenario with each of its clients) yields exactly one result.
    let scheduled: usize = library.iter().map(|s| s.file.clients.len()).sum();
    assert_eq!(report.results.len(), scheduled, "the library ran whole");
    assert_eq!(
        reached.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "requests reached the pages' foreign origin"
    );
    report
        .results
        .into_iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .filter(|r| !(r.verdict == Verdict::Skip && set_up_skip(&r.reason)))
        .map(|r| (r.id, r.verdict, r.reason))
        .collect()
}

/// A consent page with a `<select>`, a pre-checked box, an unchecked one and a hidden value
/// with named character references: the form driver sends them as a browser would, and the
/// server refuses the consent otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_driver_passes_a_consent_page_with_a_select_and_checkboxes() {
    let not_passed = whole_library(
        &super::library(),
        LoginPage::Chooser,
        "login-form-chooser.yaml",
        "form",
    )
    .await;
    assert!(not_passed.is_empty(), "{not_passed:#?}");
}

/// A login page that is a JavaScript application over a JSON API: the scripted driver replays
/// its calls. The seven checks that look at the login pages themselves, the three that need a
/// signed-in session reused (the steps driver signs in every time) and the one that declines
/// the consent page are skipped, saying why, and nothing else is not a pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_steps_driver_passes_a_login_that_is_an_api() {
    let not_passed = whole_library(
        &super::library(),
        LoginPage::Api,
        "login-steps.yaml",
        "steps",
    )
    .await;
    assert_eq!(not_passed.len(), 11, "{not_passed:#?}");
    for (id, verdict, reason) in &not_passed {
        assert_eq!(*verdict, Verdict::Skip, "{id}: {reason}");
        assert!(reason.contains("form or browser"), "{id}: {reason}");
    }
}

/// A login form that exists only once script renders it and that only script can post:
/// headless Chromium runs it, through every login the library asks for (see [`login_shapes`]).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_driver_passes_a_login_that_only_script_can_do() {
    if !chromium_here() {
        return;
    }
    let library = login_shapes(super::library());
    let not_passed =
        whole_library(&library, LoginPage::Script, "login-browser.yaml", "browser").await;
    assert!(not_passed.is_empty(), "{not_passed:#?}");
}

/// One scenario for each kind of login the library asks of a driver. Two authorizations are
/// the same kind when what decides the pages the driver walks and how the walk ends is the
/// same: the client, the session (`same_session`), how the request travels (`par`,
/// `par_method`, `response_type`, `response_mode`), the answer to the consent page (`consent`),
/// the ending the scenario expects (a code, an
/// error redirect, an error page, or a refusal it passes or skips on) and what it judges of the
/// pages themselves (headers, framing, the redirect after the login POST, a consent page or none).
/// The values inside the request (PKCE, state, nonce, request object, client assertion, DPoP,
/// a redirect URI mutation) change what the server decides, which that expected ending says,
/// not which pages a driver is shown. `codes` and `race` run default authorizations, however
/// many. Scenarios whose logins are the same kinds, for the same clients, differ only after the
/// redirect back, where the driver has no part; of each the one without a `sleep` step runs
/// where there is one. Chromium on two cores takes half a second a login; the form and steps
/// drivers, at a few seconds, still run the library whole.
fn login_shapes(library: Vec<Scenario>) -> Vec<Scenario> {
    let mut kinds: std::collections::BTreeMap<String, Scenario> = Default::default();
    for scenario in library {
        let logins: Vec<String> = scenario
            .file
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Authorize(a) => {
                    let e = &a.expect;
                    Some(format!(
                        "{:?} {} {:?} {:?} {:?} {:?} {:?} {:?} {} {} {} {} {} {} {} {}",
                        a.client,
                        a.same_session,
                        a.consent,
                        a.par,
                        a.par_method,
                        a.response_type,
                        a.response_mode,
                        e.outcome,
                        e.page_headers.is_empty(),
                        e.pages_not_frameable,
                        e.post_redirect_not.is_empty(),
                        e.consent_shown,
                        e.no_page,
                        e.refusal_passes.is_some(),
                        e.refusal_skips.is_some(),
                        e.jarm,
                    ))
                }
                // Fresh default authorizations, however many and whatever is judged of them.
                Step::Codes(_) => Some("codes".to_owned()),
                Step::Race(_) => Some("race".to_owned()),
                _ => None,
            })
            .collect();
        let kind = format!("{:?} {logins:?}", scenario.file.clients);
        let sleeps = |s: &Scenario| s.file.steps.iter().any(|s| matches!(s, Step::Sleep(_)));
        match kinds.get(&kind) {
            Some(kept) if !sleeps(kept) || sleeps(&scenario) => {}
            _ => {
                kinds.insert(kind, scenario);
            }
        }
    }
    kinds.into_values().collect()
}

/// Each fixture with a driver that cannot get through it: `check` fails, and its hint names the
/// driver that can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wrong_driver_is_told_which_one_to_use() {
    let cases = [
        (
            LoginPage::Script,
            "login:\n  form:\n    fields: {username: alice, password: wonderland}\n",
            "login.browser",
        ),
        (
            LoginPage::Api,
            "login:\n  form:\n    fields: {username: alice, password: wonderland}\n",
            "login.steps",
        ),
        (
            LoginPage::Chooser,
            "login:\n  auto: {}\n",
            "configure login.form",
        ),
        (
            LoginPage::Form,
            "login:\n  auto: {}\n",
            "configure login.form",
        ),
    ];
    for (page, login, named) in cases {
        let server = start(page).await;
        let yaml = server.target_yaml();
        let yaml = format!(
            "{}{login}",
            &yaml[..yaml.find("login:").expect("login section")]
        );
        let file = pkce_harness::target::parse_target("t.yaml", &yaml).expect("loads");
        let target = engine::resolve(file, Default::default(), &Default::default())
            .await
            .expect("resolves");
        let found = preflight(Arc::new(target), &RunOptions::default()).await;
        let problem = found.checks[0].problem.as_ref().expect("the flow fails");
        assert!(problem.hint.contains(named), "{page:?}: {}", problem.hint);
        assert!(
            found.checks[0].login.iter().any(|l| l.contains("→ 200")),
            "the trail shows the page it stopped at: {:?}",
            found.checks[0].login
        );
        server.stop().await;
    }
}

/// The server's own target file (`serve-reference --write-target`) logs in as the committed
/// fixture does: one text, two places, kept equal.
#[test]
fn the_fixture_logins_are_the_servers_own() {
    for (page, name) in [
        (LoginPage::Script, "login-browser.yaml"),
        (LoginPage::Api, "login-steps.yaml"),
        (LoginPage::Chooser, "login-form-chooser.yaml"),
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/targets")
            .join(name);
        let text = std::fs::read_to_string(path).expect("fixture");
        let login: String = text[text.find("\nlogin:").expect("login") + 1..]
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(login, page.target_login(), "{name}");
    }
}

/// The browser driver's per-page tasks, in the OpenID Foundation suite's terms: type into
/// selectors, click, wait for a URL; the consent page, matched by no entry, gets the default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_tasks_drive_a_page_they_match() {
    if !chromium_here() {
        return;
    }
    let server = start(LoginPage::Script).await;
    let yaml = server.target_yaml();
    let yaml = format!(
        "{}login:\n  browser:\n    pages:\n      - match: \"*/login*\"\n        tasks:\n          - text: {{selector: \"input[name=username]\", value: alice}}\n          - text: {{selector: \"input[type=password]\", value: wonderland}}\n          - click: \"#go\"\n          - wait: {{url: \"*/consent*\"}}\n",
        &yaml[..yaml.find("login:").expect("login section")]
    );
    let file = parse_target("t.yaml", &yaml).expect("loads");
    let target = engine::resolve(file, Default::default(), &Default::default())
        .await
        .expect("resolves");
    let found = preflight(Arc::new(target), &RunOptions::default()).await;
    for check in &found.checks {
        assert!(check.problem.is_none(), "{:?}", check.problem);
        assert!(
            check
                .login
                .iter()
                .any(|l| l.contains("ran the tasks of pages[0]")),
            "{:?}",
            check.login
        );
    }
    server.stop().await;
}

/// `check` on a committed fixture, as a user runs it: the server started with
/// `serve-reference --login-page api`, the target file's variables from the environment. It
/// passes, says which driver it used, and lists every step.
#[test]
fn check_names_the_driver_and_every_step() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
        .to_string();
    let bin = env!("CARGO_BIN_EXE_pkce-harness");
    let env = [
        ("PORT", port.as_str()),
        ("CONFIDENTIAL_SECRET", SECRETS[0]),
        ("CONFIDENTIAL2_SECRET", SECRETS[1]),
    ];
    let mut server = std::process::Command::new(bin)
        .args(["serve-reference", "--port", &port, "--login-page", "api"])
        .envs(env)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("serve-reference starts");
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().expect("stdout")),
        &mut ready,
    )
    .expect("reads");
    assert!(ready.starts_with("ready:"), "{ready}");
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/targets/login-steps.yaml");
    let out = std::process::Command::new(bin)
        .arg("check")
        .arg("--target")
        .arg(&target)
        .envs(env)
        .output()
        .expect("check runs");
    let _ = server.kill();
    let _ = server.wait();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("login (steps driver):"), "{shown}");
    for step in [
        "→ 200 \"Sign in\" (script, no form)",
        "login step 1 (sign in): POST",
        "login step 2 (consent): PUT",
        "login resume: GET",
        "→ 303 to https://client.example/cb",
    ] {
        assert!(shown.contains(step), "{step} missing in:\n{shown}");
    }
}
