//! Wall time of one login, authorization request to code, with each login driver against the
//! reference server's fixture page for it: `form` (plain HTML forms), `form` on the consent
//! page with a select and checkboxes, `steps` (a JSON API), `browser` (a form only script can
//! post, in headless Chromium, started before the timing). Run: `cargo bench --bench login`.

use std::sync::Arc;

use pkce_harness::engine::{self, ResolvedTarget, RunOptions};
use pkce_harness::scenario::{Scenario, load_dir};
use pkce_harness::server::{LoginPage, ReferenceServer, ServerConfig};

fn main() {
    divan::main();
}

/// One authorization request, public client, to a code; nothing else.
const ONE_LOGIN: &str = "oauth21/4.4-challenge-not-reflected";

struct Fixture {
    rt: tokio::runtime::Runtime,
    target: Arc<ResolvedTarget>,
    library: Vec<Scenario>,
    opts: RunOptions,
    _server: ReferenceServer,
}

fn fixture(page: LoginPage) -> Fixture {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (server, target) = rt.block_on(async {
        let server = ReferenceServer::start(ServerConfig {
            login_page: page,
            ..ServerConfig::default()
        })
        .await
        .expect("server starts");
        let target = pkce_harness::selftest::reference_target(&server, &Default::default())
            .await
            .expect("resolves");
        (server, target)
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let library = load_dir(&dir).expect("library loads");
    let f = Fixture {
        rt,
        target: Arc::new(target),
        library,
        opts: RunOptions {
            seed: 1,
            only: vec![ONE_LOGIN.into()],
            ..RunOptions::default()
        },
        _server: server,
    };
    // The first login starts the browser (for `browser`); the timing is of the logins after it.
    login(&f);
    f
}

fn login(f: &Fixture) {
    let report = f.rt.block_on(engine::run(
        &f.library,
        Arc::clone(&f.target),
        &f.opts,
        &mut |_| {},
    ));
    assert_eq!(
        (report.summary.total, report.summary.passed),
        (1, 1),
        "{:?}",
        report.results.first().map(|r| &r.reason)
    );
}

#[divan::bench(sample_count = 20)]
fn form(bencher: divan::Bencher) {
    let f = fixture(LoginPage::Form);
    bencher.bench_local(|| login(&f));
}

#[divan::bench(sample_count = 20)]
fn form_chooser(bencher: divan::Bencher) {
    let f = fixture(LoginPage::Chooser);
    bencher.bench_local(|| login(&f));
}

#[divan::bench(sample_count = 20)]
fn steps(bencher: divan::Bencher) {
    let f = fixture(LoginPage::Api);
    bencher.bench_local(|| login(&f));
}

#[divan::bench(sample_count = 20)]
fn browser(bencher: divan::Bencher) {
    let f = fixture(LoginPage::Script);
    bencher.bench_local(|| login(&f));
}
