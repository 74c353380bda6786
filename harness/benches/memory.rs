//! Memory of a long-running reference server: one server, the whole library run against it
//! 100 times, resident memory and the records it holds sampled as it goes. With bounded tables
//! the memory levels off; without, it grew linearly (about 0.15 MB per run).
//!
//! `cargo bench --bench memory` (RUNS=N to change the count).

use std::sync::Arc;

use pkce_harness::engine::{self, RunOptions};
use pkce_harness::scenario::load_dir;
use pkce_harness::server::{ReferenceServer, ServerConfig};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let library = load_dir(&dir).expect("library loads");
    rt.block_on(async {
        let server = ReferenceServer::start(ServerConfig::default())
            .await
            .expect("server starts");
        let target = Arc::new(
            pkce_harness::selftest::reference_target(&server, &Default::default())
                .await
                .expect("resolves"),
        );
        println!("run  rss_kib  records");
        let mut first = 0;
        for i in 1..=runs {
            engine::run(
                &library,
                Arc::clone(&target),
                &RunOptions::default(),
                &mut |_| {},
            )
            .await;
            if i == 10 {
                first = rss_kib();
            }
            if i == 1 || i % 10 == 0 {
                println!("{i:>3}  {:>7}  {:>7}", rss_kib(), server.records());
            }
        }
        let last = rss_kib();
        println!(
            "growth from run 10 to run {runs}: {} KiB ({:.1} KiB per run)",
            last.saturating_sub(first),
            last.saturating_sub(first) as f64 / (runs - 10) as f64
        );
        server.stop().await;
    });
}
