//! One integration-test binary (one link step on a 2-core CI): CLI behaviour, the kill matrix,
//! report formats, and the engine against odd target behaviour.

mod architecture;
mod cli;
mod clients;
mod false_alarms;
mod fuzz;
mod hostile;
mod leaks;
mod logins;
mod never_silent;
mod odd_targets;
mod peers;
mod preflight;
mod real_servers;
mod release;
mod reports;
mod selftest;
mod steering;
mod tls;

/// The scenario library of this checkout.
pub fn library() -> Vec<pkce_harness::scenario::Scenario> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    pkce_harness::scenario::load_dir(&dir)
        .unwrap_or_else(|e| panic!("library does not load: {e:?}"))
}

/// The reference server with `defects` switched on, and its target resolved.
pub async fn reference(
    defects: std::collections::BTreeSet<pkce_harness::defect::Defect>,
) -> (
    pkce_harness::server::ReferenceServer,
    pkce_harness::engine::ResolvedTarget,
) {
    reference_with(pkce_harness::server::ServerConfig {
        defects,
        ..Default::default()
    })
    .await
}

/// The reference server as `config` says, and its target resolved.
pub async fn reference_with(
    config: pkce_harness::server::ServerConfig,
) -> (
    pkce_harness::server::ReferenceServer,
    pkce_harness::engine::ResolvedTarget,
) {
    let server = pkce_harness::server::ReferenceServer::start(config)
        .await
        .expect("server starts");
    let target = pkce_harness::selftest::reference_target(&server, &Default::default())
        .await
        .expect("resolves");
    (server, target)
}

/// Why a check skips on the reference server's default set-up (client secrets, plain HTTP) by
/// design: the other kinds of client authentication (and a key to sign request objects), a PAR
/// requirement, DPoP nonces, HTTPS, JWT access tokens. Not a finding, nor the doing of whatever
/// a test is about.
pub const SECRETS_SET_UP_LACKS: &[&str] = &[
    "the client authenticates without a JWT assertion",
    "the client authenticates without a TLS client certificate",
    "the client has no key to sign a request object with",
    "the server does not require pushed authorization requests",
    "the target declares PKCE optional for confidential clients",
    "the server gave no DPoP nonce",
    "no endpoint of the target uses HTTPS",
    "the access token is opaque",
    // Its access tokens live an hour; only the mTLS set-up's live short enough to wait out.
    "the access token lives 3600 s",
];

/// Tests that each load both cores (whole-library runs against the embedded server, the
/// fuzzer, the browser) take this lock for writing, so they run one at a time: run together,
/// they slow each flow past the reference server's 1.5 s code lifetime and produce verdicts that
/// say more about the test machine than the server. The real-server tests take it for reading:
/// each drives its own server process (whose codes live far longer) and spends most of its time
/// waiting on it, so two run side by side, but never beside a test that loads both cores.
pub static HEAVY: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// The blocking form of [`HEAVY`]`.write()`, for tests that are not async.
pub fn heavy() -> tokio::sync::RwLockWriteGuard<'static, ()> {
    HEAVY.blocking_write()
}

/// The blocking form of [`HEAVY`]`.read()`: a real-server test.
pub fn beside_heavy() -> tokio::sync::RwLockReadGuard<'static, ()> {
    HEAVY.blocking_read()
}
