//! Client mode's throughput: logins per second of the reference client (a process per login,
//! through the `command` driver, against a fresh harness server per scenario). One iteration
//! runs the fresh-verifier check: three logins. Run: `cargo bench --bench client`.

use std::path::PathBuf;

use pkce_harness::client_mode::{self, LoadedClient};
use pkce_harness::scenario::built_in_client;

fn main() {
    divan::main();
}

/// Three logins of the reference client, one scenario.
#[divan::bench(sample_count = 20, sample_size = 1)]
fn three_logins(bencher: divan::Bencher) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let scenarios: Vec<_> = built_in_client()
        .expect("client scenarios load")
        .into_iter()
        .filter(|s| s.id == "client/rfc7636/4.1-fresh-verifier-per-login")
        .collect();
    assert_eq!(scenarios.len(), 1);
    let text = format!(
        "format: 1\nname: reference client\nredirect_uri: \"http://127.0.0.1:8765/callback\"\ndriver: {{command: {{run: [{:?}, reference-client]}}}}\n",
        env!("CARGO_BIN_EXE_pkce-harness")
    );
    let client = LoadedClient {
        file: client_mode::parse_client_file("(bench)", &text).expect("client file"),
        dir: PathBuf::from("."),
    };
    bencher
        .counter(divan::counter::ItemsCount::new(3usize))
        .bench_local(|| {
            let report = rt.block_on(client_mode::run(&scenarios, &client, &mut |_| {}));
            assert_eq!(report.summary.passed, 1, "{:?}", report.results);
        });
}
