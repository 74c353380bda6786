use std::path::PathBuf;

use clap::Args;

use super::Exit;
use pkce_harness::diagnostics::UnknownName;
use pkce_harness::redact::Secret;
use pkce_harness::server::{LoginPage, ReferenceServer, ServerConfig};

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Switch on a defect; repeatable. `--defect list` prints them all.
    #[arg(long)]
    defect: Vec<String>,
    /// The login page to show: form (an HTML form), script (a form rendered and posted by
    /// JavaScript), api (a JavaScript application over a JSON API), chooser (a consent form
    /// with a select and a pre-checked box). Each needs its own login driver.
    #[arg(long, default_value = "form", value_parser = login_page)]
    login_page: LoginPage,
    /// Also write a target file for this server (with its secrets) here. The confidential
    /// clients' secrets are random, or `$CONFIDENTIAL_SECRET` and `$CONFIDENTIAL2_SECRET` when
    /// both are set.
    #[arg(long)]
    write_target: Option<PathBuf>,
    /// How long a code lives, in seconds (0.1 to 600; the code-expiry check waits this long).
    #[arg(long, default_value_t = 1.5, value_parser = lifetime)]
    code_lifetime: f64,
    /// How long a pushed request's request_uri lives, in seconds (0.1 to 600; the expiry check
    /// waits this long, up to 30 s).
    #[arg(long, default_value_t = 2.0, value_parser = lifetime)]
    request_uri_lifetime: f64,
    /// The confidential clients authenticate with private_key_jwt (a key pair made at start;
    /// --write-target writes its private key) and client_secret_jwt.
    #[arg(long)]
    jwt_clients: bool,
    /// The FAPI 2.0 set-up: HTTPS (as with --tls), pushed authorization requests required
    /// (RFC 9126), PKCE for every client, assertion clients.
    #[arg(long)]
    fapi2: bool,
    /// The mTLS set-up (RFC 8705): HTTPS, both confidential clients authenticated by
    /// self-signed TLS client certificates (--write-target writes them and their keys).
    #[arg(long)]
    mtls: bool,
    /// Serve HTTPS with the compiled-in test certificate for 127.0.0.1 (the issuer is then
    /// https://); give the harness its CA with --ca-cert (see --write-ca).
    #[arg(long)]
    tls: bool,
    /// Write the test CA that signed the --tls certificate here (PEM), for --ca-cert.
    #[arg(long)]
    write_ca: Option<PathBuf>,
}

/// The confidential clients' secrets from `CONFIDENTIAL_SECRET` and `CONFIDENTIAL2_SECRET`
/// when both are set, as the fixture servers take theirs, so a committed target file can name
/// them as `${env:...}`.
fn secrets_from_env() -> Option<[Secret; 2]> {
    let one = std::env::var("CONFIDENTIAL_SECRET").ok()?;
    let two = std::env::var("CONFIDENTIAL2_SECRET").ok()?;
    Some([Secret::new(one), Secret::new(two)])
}

pub(super) async fn run(args: ServeArgs) -> Exit {
    let defects = match super::defects(&args.defect) {
        Ok(Some(d)) => d,
        Ok(None) => return Exit::Ok,
        Err(exit) => return exit,
    };
    let variant = super::variant_for(
        super::variant_of(args.jwt_clients, args.fapi2, args.mtls),
        &defects,
    );
    let set_up = ServerConfig::for_variant(variant, defects.clone());
    let server = match ReferenceServer::start(ServerConfig {
        port: args.port,
        login_page: args.login_page,
        secrets: secrets_from_env(),
        code_lifetime: std::time::Duration::from_secs_f64(args.code_lifetime),
        request_uri_lifetime: std::time::Duration::from_secs_f64(args.request_uri_lifetime),
        // The FAPI and mTLS set-ups serve HTTPS whatever --tls says.
        tls: args.tls || set_up.tls,
        ..set_up
    })
    .await
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "error: cannot start the reference server on 127.0.0.1:{}: {e}",
                args.port
            );
            return Exit::Unreachable;
        }
    };
    let writes = [
        (&args.write_target, server.target_yaml()),
        (&args.write_ca, pkce_harness::server::TEST_CA_PEM.to_owned()),
    ];
    for (path, text) in writes {
        if let Some(path) = path
            && let Err(e) = std::fs::write(path, text)
        {
            eprintln!("error: cannot write {}: {e}", path.display());
            return Exit::Unreachable;
        }
    }
    let names: Vec<&str> = defects.iter().map(|d| d.name()).collect();
    println!(
        "ready: issuer={} defects=[{}]",
        server.issuer().as_str().trim_end_matches('/'),
        names.join(",")
    );
    let _ = tokio::signal::ctrl_c().await;
    server.stop().await;
    Exit::Ok
}

fn lifetime(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.1..=600.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?}: give seconds from 0.1 to 600")),
    }
}

fn login_page(s: &str) -> Result<LoginPage, UnknownName> {
    LoginPage::ALL
        .iter()
        .find(|(name, _)| *name == s)
        .map(|(_, page)| *page)
        .ok_or_else(|| UnknownName::new("login page", s, LoginPage::ALL.map(|(n, _)| n)))
}
