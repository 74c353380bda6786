//! Cases per second of the differential fuzzer against the embedded reference server, per
//! surface: one iteration is 64 judged cases (each an authorization request, and for the
//! verifier surface a token request too, plus the control flow a refusal needs). Run:
//! `cargo bench --bench fuzz`; divide 64 by the time for cases per second.

use std::sync::Arc;

use pkce_harness::differential::{FuzzOptions, Surface, fuzz};
use pkce_harness::engine::{ResolvedTarget, RunOptions};
use pkce_harness::server::{ReferenceServer, ServerConfig};

fn main() {
    divan::main();
}

const CASES: usize = 64;

fn fixture() -> (
    tokio::runtime::Runtime,
    Arc<ResolvedTarget>,
    ReferenceServer,
) {
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
    (rt, Arc::new(target), server)
}

fn cases(bencher: divan::Bencher, surface: Surface) {
    let (rt, target, _server) = fixture();
    let opts = FuzzOptions {
        surfaces: vec![surface],
        budget: CASES,
        time: None,
        rate: None,
        shrink_budget: 0,
        fresh_sessions: false,
    };
    let run = RunOptions {
        seed: 1,
        ..RunOptions::default()
    };
    bencher.bench_local(|| {
        let out = rt.block_on(fuzz(Arc::clone(&target), &run, &opts, &mut |_| {}));
        assert!(
            out.findings.is_empty(),
            "the clean server agrees with the oracle"
        );
    });
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn verifier(bencher: divan::Bencher) {
    cases(bencher, Surface::Verifier);
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn challenge(bencher: divan::Bencher) {
    cases(bencher, Surface::Challenge);
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn redirect(bencher: divan::Bencher) {
    cases(bencher, Surface::Redirect);
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn state(bencher: divan::Bencher) {
    cases(bencher, Surface::State);
}
