//! TLS for real: the reference server behind a TLS terminator with a freshly generated
//! certificate (rcgen). Verified by default (an untrusted certificate is an error naming it),
//! trusted with a CA certificate, and accepted with `insecure`, which the report records.

use std::collections::BTreeSet;
use std::sync::Arc;

use pkce_harness::defect::Defect;
use pkce_harness::engine::http::Tls;
use pkce_harness::engine::{self, RunOptions};
use pkce_harness::scenario::model::Technique;
use pkce_harness::server::{ReferenceServer, ServerConfig};
use pkce_harness::target::ConfigUrl;
use pkce_harness::verdict::{RunReport, Verdict};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;

/// Accepts TLS on a free port (offering `alpn`) and forwards every connection to `backend` in
/// plain text, byte for byte: HTTP/2 passes through as prior knowledge, which the reference
/// server speaks.
async fn tls_terminator(backend: std::net::SocketAddr, alpn: &[&[u8]]) -> (u16, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("certificate");
    let pem = cert.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .expect("server config");
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (port, pem)
}

/// A run behind the terminator.
struct Case {
    tls: Tls,
    defects: BTreeSet<Defect>,
    alpn: &'static [&'static [u8]],
    only: &'static str,
    technique: Option<Technique>,
}

async fn run(tls: Tls) -> RunReport {
    run_case(Case {
        tls,
        defects: BTreeSet::new(),
        alpn: &[],
        only: "rfc7636/4.2-s256-flow-succeeds",
        technique: None,
    })
    .await
}

async fn run_case(case: Case) -> RunReport {
    let Case {
        tls,
        defects,
        alpn,
        only,
        technique,
    } = case;
    // Each burst opens its 20 TLS connections after the code is issued: on a loaded two-core
    // machine that outlived the default 1.5 s, and every request was refused as expired (an
    // `error`, rightly, but not what this test is about).
    let server = ReferenceServer::start(ServerConfig {
        defects,
        code_lifetime: std::time::Duration::from_secs(10),
        ..ServerConfig::default()
    })
    .await
    .expect("server");
    let backend = server.issuer().socket_addrs(|| None).expect("address")[0];
    let (port, pem) = tls_terminator(backend, alpn).await;
    let tls = Tls {
        ca_certs: tls
            .ca_certs
            .into_iter()
            .map(|_| pem.clone().into_bytes())
            .collect(),
        ..tls
    };
    let mut file = server.target_file();
    file.issuer = None;
    let base = format!("https://localhost:{port}");
    file.endpoints.authorization =
        Some(ConfigUrl(format!("{base}/authorize").parse().expect("url")));
    file.endpoints.token = Some(ConfigUrl(format!("{base}/token").parse().expect("url")));
    let target = engine::resolve(file, Default::default(), &tls)
        .await
        .expect("explicit endpoints resolve");
    let opts = RunOptions {
        seed: 3,
        only: vec![only.into()],
        tls,
        race_technique: technique,
        ..RunOptions::default()
    };
    let report = engine::run(&super::library(), Arc::new(target), &opts, &mut |_| {}).await;
    server.stop().await;
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_verified_trusted_with_a_ca_and_skipped_only_when_asked() {
    let _heavy = super::HEAVY.write().await;
    // `ca_certs` with one (placeholder) entry stands for "trust the terminator's certificate".
    let trusted = run(Tls {
        ca_certs: vec![Vec::new()],
        insecure: false,
        identity: None,
    })
    .await;
    assert!(
        trusted.results.iter().all(|r| r.verdict == Verdict::Pass),
        "{:#?}",
        trusted
            .results
            .iter()
            .map(|r| &r.reason)
            .collect::<Vec<_>>()
    );
    assert!(!trusted.insecure);

    let untrusted = run(Tls::default()).await;
    for r in &untrusted.results {
        assert_eq!(
            r.verdict,
            Verdict::Error,
            "an unverifiable certificate is never a pass: {}",
            r.reason
        );
        assert!(
            r.reason.contains("GET https://localhost:")
                && r.reason.to_lowercase().contains("certificate"),
            "{}",
            r.reason
        );
    }

    let insecure = run(Tls {
        ca_certs: Vec::new(),
        insecure: true,
        identity: None,
    })
    .await;
    assert!(insecure.results.iter().all(|r| r.verdict == Verdict::Pass));
    assert!(
        insecure.insecure,
        "the report records that certificates were not verified"
    );
}

/// Bursts over TLS: with ALPN h2 offered, the race step picks the single-packet technique by
/// itself; without it, last-byte; both catch the race window behind TLS and stay quiet on the
/// clean server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn races_run_over_tls_with_either_technique() {
    let _heavy = super::HEAVY.write().await;
    const BOTH: &[&[u8]] = &[b"h2", b"http/1.1"];
    const H1: &[&[u8]] = &[b"http/1.1"];
    for (alpn, technique, shown) in [
        (BOTH, None, "technique h2-single-packet"),
        (H1, None, "technique last-byte"),
        (BOTH, Some(Technique::LastByte), "technique last-byte"),
    ] {
        for racy in [false, true] {
            let defects = if racy {
                BTreeSet::from([Defect::CodeRaceWindow])
            } else {
                BTreeSet::new()
            };
            let report = run_case(Case {
                tls: Tls {
                    ca_certs: vec![Vec::new()],
                    insecure: false,
                    identity: None,
                },
                defects,
                alpn,
                only: "rfc6749/10.5-concurrent-code-replay",
                technique,
            })
            .await;
            assert_eq!(report.results.len(), 2);
            for r in &report.results {
                let want = if racy { Verdict::Fail } else { Verdict::Pass };
                assert_eq!(r.verdict, want, "{technique:?} racy={racy}: {}", r.reason);
                assert!(r.reason.contains(shown), "{}", r.reason);
            }
        }
    }
}
