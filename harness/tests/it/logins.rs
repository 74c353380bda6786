//! The login drivers against the reference server's login-page fixtures: each page kind is
//! passed by its driver through the whole library (the OAuth behaviour behind them is the
//! reference's, so every check must pass), and the wrong driver fails with a hint that names
//! the right one.

use std::sync::Arc;

use pkce_harness::engine::preflight::preflight;
use pkce_harness::engine::{self, RunOptions};
use pkce_harness::server::{LoginPage, ReferenceServer, ServerConfig};
use pkce_harness::verdict::Verdict;

async fn start(page: LoginPage) -> ReferenceServer {
    ReferenceServer::start(ServerConfig {
        login_page: page,
        ..Default::default()
    })
    .await
    .expect("server starts")
}

/// Whether Chromium can be used here; under `CI` it must be (`.ci/run` installs it).
fn chromium_here() -> bool {
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

/// Runs the whole library against `page` with the driver the server's own target file names,
/// and returns the ids of the results that are not a pass.
async fn whole_library(page: LoginPage, driver: &str) -> Vec<(String, Verdict, String)> {
    let _heavy = super::HEAVY.lock().await;
    let server = start(page).await;
    let file = server.target_file();
    assert_eq!(file.login.driver(), driver);
    let target = engine::resolve(file, Default::default(), &Default::default())
        .await
        .expect("resolves");
    let report = engine::run(
        &super::library(),
        Arc::new(target),
        &RunOptions::default(),
        &mut |_| {},
    )
    .await;
    server.stop().await;
    assert!(report.results.len() > 100, "the whole library ran");
    report
        .results
        .into_iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .map(|r| (r.id, r.verdict, r.reason))
        .collect()
}

/// A consent page with a `<select>`, a pre-checked box, an unchecked one and a hidden value
/// with named character references: the form driver sends them as a browser would, and the
/// server refuses the consent otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_driver_passes_a_consent_page_with_a_select_and_checkboxes() {
    let not_passed = whole_library(LoginPage::Chooser, "form").await;
    assert!(not_passed.is_empty(), "{not_passed:#?}");
}

/// A login page that is a JavaScript application over a JSON API: the scripted driver replays
/// its calls. The four checks that look at the login pages themselves are skipped, saying why
/// (the API calls go beside the pages), and nothing else is not a pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_steps_driver_passes_a_login_that_is_an_api() {
    let not_passed = whole_library(LoginPage::Api, "steps").await;
    assert_eq!(not_passed.len(), 4, "{not_passed:#?}");
    for (id, verdict, reason) in &not_passed {
        assert_eq!(*verdict, Verdict::Skip, "{id}: {reason}");
        assert!(reason.contains("form or browser"), "{id}: {reason}");
    }
}

/// A login form that exists only once script renders it and that only script can post:
/// headless Chromium runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_driver_passes_a_login_that_only_script_can_do() {
    if !chromium_here() {
        return;
    }
    let not_passed = whole_library(LoginPage::Script, "browser").await;
    assert!(not_passed.is_empty(), "{not_passed:#?}");
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
