//! Concurrent replay on loopback against the reference server, for both burst techniques: send
//! spread for N = 20 and N = 100, detection rate of the `code-race-window` defect over 50
//! trials for windows of 1 ms and 200 µs, and successes on the clean server over 100 trials.
//! Run: `cargo bench --bench race` (prints a Markdown table).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use pkce_harness::defect::Defect;
use pkce_harness::engine::{self, RunOptions};
use pkce_harness::scenario::model::Technique;
use pkce_harness::scenario::{Scenario, parse_scenario};
use pkce_harness::server::{ReferenceServer, ServerConfig};

struct Trials {
    /// Client side, the time the release took: last-byte, first to last of its N writes;
    /// single-packet, its one write call (no spread between the frames in it).
    release_us: Vec<u64>,
    /// Server side: first to last of the burst's requests reaching the token handler.
    arrivals_us: Vec<u64>,
    successes: Vec<u64>,
}

/// Runs `trials` bursts of `count` and reads each trial's spread and 200 count back from the
/// evidence the race step records ("... within X µs: 200×a, 400×b").
async fn trials(
    technique: Technique,
    defects: BTreeSet<Defect>,
    window: Duration,
    count: usize,
    trials: usize,
) -> Trials {
    let server = ReferenceServer::start(ServerConfig {
        defects,
        race_window: window,
        ..ServerConfig::default()
    })
    .await
    .expect("server");
    let target = pkce_harness::selftest::reference_target(&server, &Default::default())
        .await
        .expect("target");
    // One trial per run: a run stops at the first burst over `at_most`, a benchmark must not.
    let text = format!(
        "format: 1\ntitle: bench\nrequirements: [REQ-58]\nsteps:\n  - race: {{count: {count}, trials: 1, at_most: {}}}\n",
        count - 1
    );
    let scenario = Scenario {
        id: "bench/race".into(),
        path: "bench".into(),
        file: parse_scenario("bench", &text).expect("scenario"),
    };
    let target = Arc::new(target);
    let mut out = Trials {
        release_us: Vec::new(),
        arrivals_us: Vec::new(),
        successes: Vec::new(),
    };
    for trial in 0..trials {
        server.take_token_arrivals();
        let report = engine::run(
            std::slice::from_ref(&scenario),
            Arc::clone(&target),
            &RunOptions {
                seed: trial as u64,
                race_technique: Some(technique),
                ..RunOptions::default()
            },
            &mut |_| {},
        )
        .await;
        let body = report
            .results
            .iter()
            .flat_map(|r| &r.evidence)
            .find(|e| e.method.contains("burst"))
            .and_then(|e| e.response_body.clone())
            .unwrap_or_else(|| {
                panic!(
                    "trial recorded: {:?}",
                    report.results.first().map(|r| &r.reason)
                )
            });
        // "within X µs" (last-byte) or "(the call took X µs)" (single-packet).
        let release = ["within ", "took "]
            .iter()
            .find_map(|marker| body.split(marker).nth(1))
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .expect("release time in evidence");
        let ok = body
            .split("200×")
            .nth(1)
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        out.release_us.push(release);
        let arrivals = server.take_token_arrivals();
        let burst = &arrivals[arrivals.len().saturating_sub(count)..];
        let span = burst
            .iter()
            .max()
            .zip(burst.iter().min())
            .map(|(a, b)| *a - *b);
        out.arrivals_us
            .push(span.unwrap_or_default().as_micros() as u64);
        out.successes.push(ok);
    }
    server.stop().await;
    out
}

fn median(v: &[u64]) -> u64 {
    let mut v = v.to_vec();
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        println!("| technique | measurement | trials | result |\n|---|---|---|---|");
        for technique in [Technique::H2SinglePacket, Technique::LastByte] {
            let name = technique.as_str();
            for n in [20, 100] {
                let t = trials(technique, BTreeSet::new(), Duration::ZERO, n, 20).await;
                println!("| {name} | N = {n}: client release time / server arrival spread | 20 | median {} / {} µs, max {} / {} µs |", median(&t.release_us), median(&t.arrivals_us), t.release_us.iter().max().unwrap_or(&0), t.arrivals_us.iter().max().unwrap_or(&0));
            }
            for (label, window) in [("1 ms", Duration::from_millis(1)), ("200 µs", Duration::from_micros(200))] {
                let t = trials(technique, BTreeSet::from([Defect::CodeRaceWindow]), window, 20, 50).await;
                let detected = t.successes.iter().filter(|&&s| s > 1).count();
                println!("| {name} | detection of a {label} race window, N = 20 | 50 | {detected}/50 ({:.0}%); arrival spread median {} µs |", detected as f64 * 2.0, median(&t.arrivals_us));
            }
            let t = trials(technique, BTreeSet::new(), Duration::ZERO, 20, 100).await;
            let false_alarms = t.successes.iter().filter(|&&s| s > 1).count();
            println!("| {name} | clean server, N = 20 | 100 | {false_alarms} trials with more than one success; successes per trial: max {} |", t.successes.iter().max().unwrap_or(&0));
        }
    });
}
