//! Wall time of the whole scenario library against the embedded reference server (started once),
//! and of one clean S256 flow. Run: `cargo bench --bench suite`.

use std::sync::Arc;

use pkce_harness::engine::{self, ResolvedTarget, RunOptions};
use pkce_harness::scenario::{Scenario, load_dir};
use pkce_harness::server::{ReferenceServer, ServerConfig};

fn main() {
    divan::main();
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    target: Arc<ResolvedTarget>,
    library: Vec<Scenario>,
    _server: ReferenceServer,
}

fn fixture() -> Fixture {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (server, target) = rt.block_on(async {
        let server = ReferenceServer::start(ServerConfig::default())
            .await
            .expect("server starts");
        let target = pkce_harness::selftest::reference_target(&server, &Default::default())
            .await
            .expect("resolves");
        (server, target)
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let library = load_dir(&dir).expect("library loads");
    Fixture {
        rt,
        target: Arc::new(target),
        library,
        _server: server,
    }
}

fn run(f: &Fixture, only: Vec<String>) -> usize {
    let opts = RunOptions {
        seed: 1,
        only,
        ..RunOptions::default()
    };
    let report = f.rt.block_on(engine::run(
        &f.library,
        Arc::clone(&f.target),
        &opts,
        &mut |_| {},
    ));
    assert_eq!(
        report.summary.failed + report.summary.errors,
        0,
        "the clean server must pass"
    );
    report.summary.total
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn whole_library(bencher: divan::Bencher) {
    let f = fixture();
    bencher.bench_local(|| run(&f, Vec::new()));
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn whole_library_but_code_expiry(bencher: divan::Bencher) {
    let f = fixture();
    let all: Vec<String> = f
        .library
        .iter()
        .map(|s| s.id.clone())
        .filter(|id| !id.ends_with("code-expires"))
        .collect();
    bencher.bench_local(|| run(&f, all.clone()));
}

#[divan::bench(sample_count = 30)]
fn one_s256_flow(bencher: divan::Bencher) {
    let f = fixture();
    bencher.bench_local(|| run(&f, vec!["rfc7636/4.2-s256-flow-succeeds".into()]));
}
