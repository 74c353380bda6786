//! The embedded reference authorization server: a correct implementation of the authorization
//! code grant with PKCE (RFC 6749, RFC 7636, RFC 9700, RFC 9207), with defect switches
//! ([`Defect`]) that each re-create one violation or real-world bug.
//!
//! It exists so that every scenario can be shown to pass against a correct server and to fail
//! against a broken one, and so that `pkce-harness run` works with nothing installed. It listens
//! on 127.0.0.1 only and keeps its state in memory.
#![expect(
    clippy::result_large_err,
    reason = "handlers return a finished axum Response on both sides (pages::Reply); boxing it would add an allocation per request for nothing"
)]

mod authorize;
mod claims;
mod config;
mod cors;
mod dpop;
mod fetch;
mod grant;
mod jarm;
mod login;
mod login_pages;
mod oidc;
mod pages;
mod par;
mod recorder;
mod registration;
mod request_object;
mod resource;
mod revocation;
mod state;
mod tls;
mod token;
mod weak_key;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use url::Url;

pub use crate::defect::Defect;
use crate::redact::Secret;
use crate::target::{AuthMethod, Policy};
pub use config::{
    CONFIDENTIAL_REDIRECT, LoginPage, PASSWORD, PUBLIC_REDIRECT, RegisteredClient, Retention,
    ServerConfig, USERNAME,
};
use state::App;
pub use tls::CA_PEM as TEST_CA_PEM;

/// The FAPI 2.0 set-up's `confidential2` key (PKCS#8, RSA 2048): a test key, like the TLS ones.
const CLIENT2_RSA_KEY: &str = include_str!("keys/client2-rsa.pem");

/// Serves `router` on `listener` until `stopped`, each connection's client certificate (if any)
/// handed to the routes.
async fn serve<L>(listener: L, router: Router, stopped: impl Future<Output = ()> + Send + 'static)
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
    tls::PeerCert:
        for<'a> axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<tls::PeerCert>(),
    )
    .with_graceful_shutdown(stopped);
    if let Err(e) = served.await {
        eprintln!("reference server stopped: {e}");
    }
}

/// A running reference server; dropping the handle does not stop it, [`ReferenceServer::stop`]
/// does.
pub struct ReferenceServer {
    clients: Vec<RegisteredClient>,
    policy: Policy,
    shutdown: tokio::sync::watch::Sender<()>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    app: Arc<App>,
    /// The addresses it listens on, each a node of one cluster (they share every record).
    nodes: Vec<std::net::IpAddr>,
}

/// The second node: a second loopback address on the same port, where the system has one
/// (Linux routes all of 127.0.0.0/8 to loopback; macOS only 127.0.0.1 unless configured).
const SECOND_NODE: std::net::Ipv4Addr = std::net::Ipv4Addr::new(127, 0, 0, 2);

impl ReferenceServer {
    /// Binds 127.0.0.1, and 127.0.0.2 on the same port where it can (a cluster's second
    /// node, for the races spread over nodes), and starts serving.
    pub async fn start(mut config: ServerConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let second = TcpListener::bind((SECOND_NODE, addr.port())).await.ok();
        let tls = config.tls || config.mtls_clients;
        let issuer = format!("{}://{addr}", if tls { "https" } else { "http" });
        let [secret, secret2] = match config.secrets.take() {
            Some(given) => given,
            None => [
                Secret::new(state::random_token()?),
                Secret::new(state::random_token()?),
            ],
        };
        let mut clients = vec![
            RegisteredClient {
                client_id: "public-client".into(),
                secret: None,
                auth_method: AuthMethod::None,
                redirect_uri: PUBLIC_REDIRECT.into(),
                more_redirect_uris: Vec::new(),
                jwk: None,
                private_key: None,
                tls_thumbprint: None,
                jwks_uri: None,
                pairwise_sector: None,
                id_token_alg: Default::default(),
                require_signed_request_object: false,
            },
            RegisteredClient {
                client_id: "confidential-client".into(),
                secret: Some(secret),
                auth_method: AuthMethod::ClientSecretBasic,
                redirect_uri: CONFIDENTIAL_REDIRECT.into(),
                more_redirect_uris: Vec::new(),
                jwk: None,
                private_key: None,
                tls_thumbprint: None,
                jwks_uri: None,
                pairwise_sector: None,
                id_token_alg: Default::default(),
                require_signed_request_object: false,
            },
            RegisteredClient {
                client_id: "confidential-client-2".into(),
                secret: Some(secret2),
                auth_method: AuthMethod::ClientSecretPost,
                redirect_uri: CONFIDENTIAL_REDIRECT.into(),
                more_redirect_uris: vec!["https://client.example/other-cb".into()],
                jwk: None,
                private_key: None,
                tls_thumbprint: None,
                jwks_uri: None,
                pairwise_sector: None,
                id_token_alg: Default::default(),
                require_signed_request_object: false,
            },
        ];
        if config.jwt_clients {
            // `confidential` with private_key_jwt; `confidential2` with client_secret_jwt, or
            // (the FAPI 2.0 set-up, which allows no shared secrets) a key of its own.
            // In the FAPI 2.0 set-up `confidential2`'s key is RSA (PS256; a compiled-in test
            // key, as ring makes no RSA keys), so the checks of what an RSA client may sign
            // with have a client to run with.
            let both = if config.require_par { 1..=2 } else { 1..=1 };
            for i in both {
                let (key, pem) = if i == 2 {
                    let key = crate::jose::SigningKey::parse(
                        CLIENT2_RSA_KEY,
                        Some(crate::jose::Algorithm::PS256),
                    )
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                    (key, CLIENT2_RSA_KEY.to_owned())
                } else {
                    crate::jose::SigningKey::generate(crate::jose::Algorithm::ES256)
                        .map_err(|e| std::io::Error::other(e.to_string()))?
                };
                let c = &mut clients[i];
                c.auth_method = AuthMethod::PrivateKeyJwt;
                c.secret = None;
                c.jwk = key.public_jwk();
                c.private_key = Some(Secret::new(pem));
            }
            if !config.require_par {
                clients[2].auth_method = AuthMethod::ClientSecretJwt;
            }
        }
        if config.mtls_clients {
            for (i, (cert, _)) in tls::CLIENT_CERTS.iter().enumerate() {
                let c = &mut clients[i + 1];
                c.auth_method = AuthMethod::SelfSignedTlsClientAuth;
                c.secret = None;
                c.tls_thumbprint = Some(
                    crate::jose::x5t_s256(cert)
                        .map_err(|e| std::io::Error::other(e.to_string()))?,
                );
            }
        }
        let policy = Policy {
            pkce_required_confidential: config.pkce_required_confidential,
            plain_allowed: false,
            code_lifetime_seconds: config.code_lifetime.as_secs_f64(),
            refresh_tokens_public: true,
            refresh_tokens_confidential: true,
            // It fetches a client's JWK Set again at the first unknown kid.
            client_jwks_cache_seconds: 0.0,
            pushed_redirect_uris_unregistered: false,
        };
        clients.extend(config.client_under_test.clone());
        let keys = state::Keys::generate()?;
        let dpop_nonce = state::random_token()?;
        let app = Arc::new(App::new(issuer, clients.clone(), config, keys, dpop_nonce));
        let router = Router::new()
            .route(
                "/.well-known/oauth-authorization-server",
                get(resource::metadata),
            )
            .route("/.well-known/openid-configuration", get(resource::metadata))
            .route(
                "/authorize",
                get(authorize::authorize).options(authorize::preflight),
            )
            .route("/login", get(login::login_page).post(login::login_submit))
            .route(
                "/consent",
                get(login::consent_page).post(login::consent_submit),
            )
            .route("/app/login", get(login_pages::app_shell))
            .route("/app/app.js", get(login_pages::app_script))
            .route("/app/api/session", post(login_pages::api_session))
            .route(
                "/app/api/clients/{client_id}/consent",
                axum::routing::put(login_pages::api_consent),
            )
            .route("/app/continue", get(login_pages::api_continue))
            .route(
                "/token",
                post(token::token)
                    .get(token::token_get)
                    .options(token::preflight),
            )
            .route(
                "/userinfo",
                get(resource::userinfo).post(resource::userinfo),
            )
            .route("/jwks", get(oidc::jwks))
            .route("/par", post(par::push).get(par::push_get))
            .route("/introspect", post(resource::introspect))
            .route("/revoke", post(revocation::revoke))
            .route("/register", post(registration::register))
            .route(
                "/register/{client_id}",
                get(registration::read).delete(registration::delete),
            )
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&app),
                recorder::record,
            ))
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&app),
                cors::allow,
            ))
            .with_state(Arc::clone(&app));
        let (shutdown, rx) = tokio::sync::watch::channel(());
        let mut nodes = Vec::new();
        let mut tasks = Vec::new();
        for listener in std::iter::once(listener).chain(second) {
            let node = listener.local_addr()?.ip();
            nodes.push(node);
            let router = router.clone().layer(axum::Extension(state::Node(node)));
            let mut rx = rx.clone();
            let stopped = async move {
                let _ = rx.changed().await;
            };
            tasks.push(if tls {
                tokio::spawn(serve(
                    tls::TlsListener::new(listener, &app.defects)?,
                    router,
                    stopped,
                ))
            } else {
                tokio::spawn(serve(listener, router, stopped))
            });
        }
        Ok(Self {
            clients,
            policy,
            shutdown,
            tasks,
            app,
            nodes,
        })
    }

    /// When each token request arrived since the last call (its handler started, the request
    /// read whole): the arrival spread of a burst is the span of its last N entries.
    pub fn take_token_arrivals(&self) -> Vec<std::time::Instant> {
        self.app.store().arrivals.take()
    }

    /// Client mode: every request that reached the server since the last call, in order.
    pub fn take_seen(&self) -> Vec<crate::seen::Seen> {
        self.app
            .seen
            .as_ref()
            .map(|s| {
                std::mem::take(&mut *s.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
            })
            .unwrap_or_default()
    }

    /// Records the server holds over all its tables: bounded by [`ServerConfig::retention`].
    pub fn records(&self) -> usize {
        self.app.store().records()
    }

    /// Every code and token this server issued and every `code_verifier` it received: the
    /// values no report may show in clear. A verifier equal to a challenge is left out: the
    /// challenge travelled in the authorization URL, public by design (a `plain` challenge, or
    /// the plain-substitution attack that replays an S256 challenge as the verifier).
    pub fn handed_out(&self) -> Vec<String> {
        let store = self.app.store();
        let challenges: std::collections::HashSet<&str> = store
            .codes
            .values()
            .filter_map(|c| c.challenge.as_ref().map(|(ch, _)| ch.as_str()))
            .collect();
        store
            .codes
            .keys()
            .chain(store.access_tokens.keys())
            .chain(store.refresh_tokens.keys())
            .chain(
                store
                    .verifiers
                    .iter()
                    .filter(|v| !challenges.contains(v.as_str())),
            )
            .cloned()
            .collect()
    }

    /// The issuer URL, `http://127.0.0.1:PORT` (`https://` with [`ServerConfig::tls`]).
    pub fn issuer(&self) -> Url {
        // The issuer was made from a socket address, always a valid URL authority.
        Url::parse(&self.app.issuer).expect("the issuer is a URL")
    }

    /// Whether it serves HTTPS (trusted through [`TEST_CA_PEM`]).
    pub fn is_tls(&self) -> bool {
        self.app.issuer.starts_with("https:")
    }

    /// The registered clients: public, confidential (Basic), confidential (post).
    pub fn clients(&self) -> &[RegisteredClient] {
        &self.clients
    }

    /// The policy the server implements, as a target file would declare it.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Stops serving and waits for the task.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        for task in self.tasks {
            let _ = task.await;
        }
    }

    /// The target file a user would write for this server: discovery from the issuer, the
    /// three clients, its policy, and the login driver its login page needs.
    pub fn target_file(&self) -> crate::target::TargetFile {
        match crate::target::parse_target("(reference server)", &self.target_yaml()) {
            Ok(t) => t,
            Err(e) => unreachable!("the reference server's own target file loads: {e}"),
        }
    }

    /// The same as YAML, secrets inline (they are this process's own, made at start).
    pub fn target_yaml(&self) -> String {
        let c = &self.clients;
        let credentials = |i: usize| {
            let client: &RegisteredClient = &c[i];
            let mut out = format!("    auth_method: {}\n", client.auth_method.as_str());
            if let Some(s) = &client.secret {
                out.push_str(&format!("    client_secret: \"{}\"\n", s.expose()));
            }
            let block = |out: &mut String, key: &str, pem: &str| {
                out.push_str(&format!("    {key}: |\n"));
                for line in pem.lines() {
                    out.push_str(&format!("      {line}\n"));
                }
            };
            if let Some(pem) = &client.private_key {
                block(&mut out, "private_key", pem.expose());
                // An RSA key's default algorithm is RS256, which FAPI 2.0 does not allow.
                if client.jwk.as_ref().and_then(|j| j.get("kty")) == Some(&serde_json::json!("RSA"))
                {
                    out.push_str("    signing_alg: PS256\n");
                }
            }
            if client.auth_method.is_mtls() {
                let (cert, key) = tls::CLIENT_CERTS[i - 1];
                block(&mut out, "tls_certificate", cert);
                block(&mut out, "tls_key", key);
            }
            out
        };
        format!(
            "format: 1\nname: reference server {issuer}\nissuer: \"{issuer}\"\nscope: openid profile\nclient_host: {{}}\n{}clients:\n  public:\n    client_id: {}\n    redirect_uri: \"{}\"\n  confidential:\n    client_id: {}\n{}    redirect_uri: \"{}\"\n  confidential2:\n    client_id: {}\n{}    redirect_uri: \"{}\"\n    several_redirect_uris: true\n{}policy:\n  pkce_required_confidential: {}\n  plain_allowed: false\n  code_lifetime_seconds: {}\n  refresh_tokens_public: true\n  refresh_tokens_confidential: true\n  client_jwks_cache_seconds: {}\n{}",
            if self.nodes.len() > 1 {
                let listed: Vec<String> = self.nodes.iter().map(ToString::to_string).collect();
                format!("token_addresses: [{}]\n", listed.join(", "))
            } else {
                String::new()
            },
            c[0].client_id,
            c[0].redirect_uri,
            c[1].client_id,
            credentials(1),
            c[1].redirect_uri,
            c[2].client_id,
            credentials(2),
            c[2].redirect_uri,
            if self.app.require_par {
                "dpop: true\nassertion_audience: issuer\nresponse_mode: jwt\n"
            } else {
                ""
            },
            self.policy.pkce_required_confidential,
            self.policy.code_lifetime_seconds,
            self.policy.client_jwks_cache_seconds,
            self.app.login_page.target_login(),
            issuer = self.issuer().as_str().trim_end_matches('/'),
        )
    }
}
