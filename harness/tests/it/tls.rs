//! TLS for real: the reference server behind a TLS terminator with a freshly generated
//! certificate (rcgen). Verified by default (an untrusted certificate is an error naming it),
//! trusted with a CA certificate, and accepted with `insecure`, which the report records.

use std::collections::BTreeSet;
use std::sync::Arc;

use pkce_harness::engine::http::Tls;
use pkce_harness::engine::{self, RunOptions};
use pkce_harness::server::{ReferenceServer, ServerConfig};
use pkce_harness::target::ConfigUrl;
use pkce_harness::verdict::{RunReport, Verdict};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;

/// Accepts TLS on a free port and forwards every connection to `backend` in plain text.
async fn tls_terminator(backend: std::net::SocketAddr) -> (u16, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("certificate");
    let pem = cert.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .expect("server config");
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

async fn run(tls: Tls) -> RunReport {
    let server = ReferenceServer::start(ServerConfig {
        defects: BTreeSet::new(),
        ..ServerConfig::default()
    })
    .await
    .expect("server");
    let backend = server.issuer().socket_addrs(|| None).expect("address")[0];
    let (port, pem) = tls_terminator(backend).await;
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
        only: vec!["rfc7636/4.2-s256-flow-succeeds".into()],
        tls,
        ..RunOptions::default()
    };
    let report = engine::run(&super::library(), Arc::new(target), &opts, &mut |_| {}).await;
    server.stop().await;
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_verified_trusted_with_a_ca_and_skipped_only_when_asked() {
    let _heavy = super::HEAVY.lock().await;
    // `ca_certs` with one (placeholder) entry stands for "trust the terminator's certificate".
    let trusted = run(Tls {
        ca_certs: vec![Vec::new()],
        insecure: false,
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
    })
    .await;
    assert!(insecure.results.iter().all(|r| r.verdict == Verdict::Pass));
    assert!(
        insecure.insecure,
        "the report records that certificates were not verified"
    );
}
