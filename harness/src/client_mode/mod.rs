//! Client mode (`pkce-harness client`): the other half of the flow. The harness is the
//! authorization server (the embedded reference server, the client under test registered in
//! it, approving every login at once) and judges the OAuth client by what reaches its endpoints
//! and by how each login ends. Each client scenario gets a fresh server with its misbehaviour
//! switched on (the reference server's defects: a wrong `state`, another issuer's `iss`, an ID
//! Token by a stranger), drives the client through its logins with the client file's driver,
//! and hands what it saw to [`crate::checks::client`].
//!
//! [`matrix`] is this side's kill matrix: the library against the reference client, clean and
//! with each of its defects.

mod browser;
mod command;
mod spa;
mod web;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

pub use crate::client_file::{
    ClientFile, CommandDriver, Driver, Feature, HttpDriver, LoadedClient, load_client_file,
    parse_client_file,
};

use crate::checks::client::{Login, judge};
use crate::client_defect::ClientDefect;
use crate::engine::chromium;
use crate::engine::http::{HttpClient, Limits, Tls};
use crate::outcome::{Cause, Fault, Halt};
use crate::scenario::client::{ClientNeed, ClientScenario, LoginEnd, User};
use crate::server::{ReferenceServer, RegisteredClient, ServerConfig};
use crate::verdict::{Exchange, RunReport, ScenarioResult, Summary, Verdict};

/// Runs `scenarios` against `client`, handing each result to `each` as it comes.
pub async fn run(
    scenarios: &[ClientScenario],
    client: &LoadedClient,
    each: &mut dyn FnMut(&ScenarioResult),
) -> RunReport {
    let started = std::time::SystemTime::now();
    let clock = Instant::now();
    let mut results = Vec::new();
    // One browser for the run, started by the first login that needs one.
    let chromium = chromium::Shared::default();
    for s in scenarios {
        let r = scenario(s, client, &chromium).await;
        each(&r);
        results.push(r);
    }
    results.sort_by(|a, b| a.id.cmp(&b.id));
    RunReport {
        version: crate::verdict::REPORT_VERSION,
        harness: env!("CARGO_PKG_VERSION").to_owned(),
        target: client.file.name.clone(),
        profile: crate::scenario::model::Profile::default(),
        seed: 0,
        insecure: false,
        interrupted: false,
        server_failures: 0,
        issuer: String::new(),
        started: crate::verdict::rfc3339(started),
        duration_ms: ms(clock),
        baseline: None,
        target_file: None,
        target_lines: BTreeMap::new(),
        fail_on: None,
        summary: Summary::of(&results),
        results,
    }
}

fn ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// One scenario: a fresh server, its logins, the judge.
async fn scenario(
    s: &ClientScenario,
    client: &LoadedClient,
    chromium: &chromium::Shared,
) -> ScenarioResult {
    let clock = Instant::now();
    let mut r = ScenarioResult::new(&s.id, Verdict::Pass, "");
    r.title.clone_from(&s.file.title);
    r.spec = s.id.split('/').take(2).collect::<Vec<_>>().join("/");
    r.requirements = s
        .file
        .requirements
        .iter()
        .map(ToString::to_string)
        .collect();
    r.level = s.file.level;
    r.severity = s
        .file
        .catches
        .iter()
        .map(|d| d.severity())
        .max()
        .unwrap_or_default();
    if let Some(why) = s.file.requires.iter().find_map(|n| lacks(&client.file, *n)) {
        r.verdict = Verdict::Skip;
        why.clone_into(&mut r.reason);
        return r;
    }
    let control = if crate::checks::client::expects_refusal(&s.file.expect) {
        logins(Setting::CORRECT, 1, "control", (client, chromium), &mut r)
            .await
            .and_then(|l| l.first().map_or(Ok(()), crate::checks::client::control))
    } else {
        Ok(())
    };
    let outcome = match control {
        Ok(()) => {
            let server = Setting {
                defects: &s.file.server,
                user: s.file.user,
                dpop_nonce: s.file.dpop_nonce,
            };
            logins(server, s.file.logins, "login", (client, chromium), &mut r).await
        }
        Err(halt) => Err(halt),
    };
    let judged = outcome.and_then(|logins| {
        let needs = |n| s.file.requires.contains(&n);
        if needs(ClientNeed::State) && !logins.iter().all(|l| l.sends("state")) {
            return Ok(Some(
                "the client sends no state (RFC 9700 §2.1 lets PKCE stand in for it against CSRF), so a wrong one cannot be answered"
                    .to_owned(),
            ));
        }
        if needs(ClientNeed::Nonce) && !logins.iter().all(|l| l.sends("nonce")) {
            return Ok(Some(
                "the client sends no nonce (optional in the code flow, OpenID Connect Core §3.1.2.1), so it has none of its own to hold the ID Token's against"
                    .to_owned(),
            ));
        }
        judge(&s.file.expect, client.file.auth(), &logins).map(|()| None)
    });
    r.duration_ms = ms(clock);
    match judged {
        Ok(None) => r.reason = format!("{} login(s)", s.file.logins),
        Ok(Some(skip)) => {
            r.verdict = Verdict::Skip;
            r.reason = skip;
        }
        Err(halt) => {
            r.verdict = match &halt {
                Halt::Unmet { .. } | Halt::Form { .. } => Verdict::unmet(s.file.level),
                Halt::Fault { .. } => Verdict::Error,
            };
            r.reason = halt.to_string();
            r.cause = Some(Cause { step: None, halt });
        }
    }
    r
}

/// How the harness's server is set up for a scenario's logins.
struct Setting<'a> {
    /// The reference server's defects, switched on.
    defects: &'a [crate::defect::Defect],
    /// What the user answers.
    user: User,
    /// Whether DPoP proofs must carry the server's nonce.
    dpop_nonce: bool,
}

impl Setting<'_> {
    /// A server that does not misbehave, for control logins.
    const CORRECT: Setting<'static> = Setting {
        defects: &[],
        user: User::Consents,
        dpop_nonce: false,
    };
}

/// Starts a server as `setting` says and drives `count` logins of the client, keeping what
/// each saw (its evidence under `label`).
async fn logins(
    setting: Setting<'_>,
    count: usize,
    label: &str,
    (client, chromium): (&LoadedClient, &chromium::Shared),
    r: &mut ScenarioResult,
) -> Result<Vec<Login>, Halt> {
    let f = &client.file;
    let config = ServerConfig {
        defects: setting.defects.iter().copied().collect::<BTreeSet<_>>(),
        client_under_test: Some(RegisteredClient {
            client_id: f.client_id.clone(),
            secret: f.client_secret.as_ref().map(|s| s.0.clone()),
            auth_method: f.auth(),
            redirect_uri: f.redirect_uri.clone(),
            more_redirect_uris: Vec::new(),
            jwk: None,
            private_key: None,
            tls_thumbprint: None,
            jwks_uri: None,
            pairwise_sector: None,
            id_token_alg: Default::default(),
            require_signed_request_object: false,
        }),
        user_denies: setting.user == User::Denies,
        dpop_nonce: setting.dpop_nonce,
        ..ServerConfig::default()
    };
    let server = ReferenceServer::start(config)
        .await
        .map_err(|e| Fault::harness(format!("the harness's server did not start: {e}")))?;
    let issuer = server.issuer();
    let authorization = issuer
        .join("/authorize")
        .map_err(|e| Fault::harness(e.to_string()))?;
    let mut env = vec![
        (
            "PKCE_HARNESS_ISSUER",
            issuer.as_str().trim_end_matches('/').to_owned(),
        ),
        ("PKCE_HARNESS_CLIENT_ID", f.client_id.clone()),
        ("PKCE_HARNESS_REDIRECT_URI", f.redirect_uri.clone()),
        ("PKCE_HARNESS_SCOPE", f.scope.clone()),
    ];
    if let Some(secret) = &f.client_secret {
        env.push(("PKCE_HARNESS_CLIENT_SECRET", secret.0.expose().to_owned()));
        env.push(("PKCE_HARNESS_AUTH_METHOD", f.auth().as_str().to_owned()));
    }
    env.extend(f.uses.iter().map(|u| {
        let (name, value) = u.env();
        (name, value.to_owned())
    }));
    let stage = browser::Stage {
        issuer: &issuer,
        authorization: &authorization,
        redirect_uri: &f.redirect_uri,
        env: &env,
        dir: &client.dir,
        chromium,
    };
    let secret = f.client_secret.as_ref().map(|s| s.0.expose().to_owned());
    let served: Option<&dyn crate::client_file::Served> = match &f.driver {
        Driver::Command(_) => None,
        Driver::Http(web) => Some(web),
        Driver::Browser(spa) => Some(spa),
    };
    let driven = match served {
        None => drive(count, label, &f.driver, &stage, (&server, secret), r).await,
        Some(app) => match web::App::start(app, &stage).await {
            Err(e) => {
                let e = masked(&server, secret, &e.to_string());
                Err(Fault::precondition(format!("{label}: {e}")).into())
            }
            Ok(app) => {
                let driven = drive(
                    count,
                    label,
                    &f.driver,
                    &stage,
                    (&server, secret.clone()),
                    r,
                )
                .await;
                let said = app.stop().await;
                if !said.is_empty() {
                    let said = masked(&server, secret, &said);
                    r.login.push(format!("{label}: the app said: {said}"));
                }
                driven
            }
        },
    };
    server.stop().await;
    driven
}

/// The run's Chromium as the `browser` driver starts it: found as the login driver finds it
/// (`$PKCE_HARNESS_BROWSER`, or on `PATH`), its DevTools requests bounded by the login's limit.
fn chromium_settings(
    app: &crate::client_file::BrowserDriver,
) -> Result<crate::target::BrowserLogin, String> {
    let seconds = app.timeout().as_secs();
    serde_json::from_value(serde_json::json!({ "timeout_seconds": seconds }))
        .map_err(|e| format!("the browser's settings: {e}"))
}

/// `text` from the client (what it printed), with every code, verifier and token the server
/// handed out and the client's secret masked: it may echo any of them.
fn masked(server: &ReferenceServer, secret: Option<String>, text: &str) -> String {
    let known = server.handed_out().into_iter().chain(secret);
    crate::redact::Redactor::new(known).text(text)
}

/// The scenario's logins, one after the other, each in a new browser session.
async fn drive(
    count: usize,
    label: &str,
    driver: &Driver,
    stage: &browser::Stage<'_>,
    (server, secret): (&ReferenceServer, Option<String>),
    r: &mut ScenarioResult,
) -> Result<Vec<Login>, Halt> {
    let http = HttpClient::new(Limits::default(), &Tls::default())
        .map_err(|e| Fault::harness(e.to_string()))?;
    let mut out = Vec::new();
    for n in 1..=count {
        // Each login in a new browser session: no cookie carries over.
        let session = http
            .fresh_session()
            .map_err(|e| Fault::harness(e.to_string()))?;
        let ended = match driver {
            Driver::Command(cmd) => command::login(cmd, stage, &session).await,
            Driver::Http(app) => web::login(app, stage, &session).await,
            Driver::Browser(app) => match chromium_settings(app) {
                Ok(settings) => match stage.chromium.get(&settings).await {
                    Ok(chromium) => spa::login(app, stage, &chromium).await,
                    Err(e) => Err(browser::DriverError::App(e.to_string())),
                },
                Err(e) => Err(browser::DriverError::App(e)),
            },
        };
        let seen = server.take_seen();
        let step = format!("{label} {n}");
        r.evidence.extend(seen.iter().map(|x| exchange(&step, x)));
        let ended = ended.map_err(|e| Fault::precondition(format!("{step}: {e}")))?;
        r.login
            .extend(ended.trail.iter().map(|t| format!("{step}: {t}")));
        if !ended.stderr.is_empty() {
            let said = masked(server, secret.clone(), &ended.stderr);
            r.login.push(format!("{step}: the client said: {said}"));
        }
        let end = if ended.accepted {
            LoginEnd::Accepted
        } else {
            LoginEnd::Refused
        };
        out.push(Login { seen, end });
    }
    Ok(out)
}

/// What reached the server, as evidence: secret values (codes, verifiers, secrets) shown as
/// fingerprints.
fn exchange(step: &str, seen: &crate::seen::Seen) -> Exchange {
    let params = crate::redact::params(&seen.params);
    let (url, body) = if seen.method == "GET" {
        let url = if params.is_empty() {
            seen.path.clone()
        } else {
            format!("{}?{params}", seen.path)
        };
        (url, None)
    } else {
        (seen.path.clone(), Some(params))
    };
    Exchange {
        step: step.to_owned(),
        method: seen.method.clone(),
        url,
        request_headers: Vec::new(),
        request_body: body,
        status: None,
        response_headers: Vec::new(),
        response_body: None,
        error: None,
    }
}

/// The client kill matrix: the library against the reference client (`program` run with
/// `reference-client`), clean and with each defect, through each driver (its `command`
/// protocol, and as a web app on a free loopback port through the `http` driver). Returns
/// every gap, one line each: a check that does not pass on the clean client, a listed defect a
/// check does not fail against, a defect no check catches. The reference client is public, and
/// confidential (a `client_secret_basic` client) for the checks that need a confidential one.
pub async fn matrix(scenarios: &[ClientScenario], program: PathBuf) -> Vec<String> {
    let mut gaps = Vec::new();
    for s in scenarios.iter().filter(|s| s.file.catches.is_empty()) {
        gaps.push(format!(
            "{}: lists no client defect in catches (a check that cannot fail)",
            s.id
        ));
    }
    for d in ClientDefect::ALL {
        if !scenarios.iter().any(|s| s.file.catches.contains(d)) {
            gaps.push(format!("client defect {d} is caught by no scenario"));
        }
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port());
    let web = match port {
        Ok(port) => Some(port),
        Err(e) => {
            gaps.push(format!("no free loopback port for the web app: {e}"));
            None
        }
    };
    for web in [None].into_iter().chain(web.map(Some)) {
        let reference = Reference {
            program: &program,
            web,
        };
        gaps.extend(matrix_of(scenarios, &reference).await);
    }
    gaps
}

/// The reference client as a client file: through the `command` driver, or as a web app on
/// the `web` port.
struct Reference<'a> {
    program: &'a std::path::Path,
    web: Option<u16>,
}

impl Reference<'_> {
    fn client(
        &self,
        defects: &[ClientDefect],
        Needs { confidential, uses }: Needs,
    ) -> LoadedClient {
        let mut run = vec![
            self.program.display().to_string(),
            "reference-client".to_owned(),
        ];
        for d in defects {
            run.extend(["--defect".to_owned(), d.name().to_owned()]);
        }
        let port = self.web.unwrap_or(8765);
        let driver = if self.web.is_some() {
            run.push("--serve".into());
            Driver::Http(HttpDriver {
                run,
                login_url: format!("http://127.0.0.1:{port}/login"),
                success_text: Some("Signed in".into()),
                start_seconds: 30,
                timeout_seconds: 30,
            })
        } else {
            Driver::Command(CommandDriver {
                run,
                timeout_seconds: 30,
            })
        };
        LoadedClient {
            file: ClientFile {
                format: crate::scenario::model::FormatVersion,
                name: "reference client".into(),
                client_id: "client-under-test".into(),
                redirect_uri: format!("http://127.0.0.1:{port}/callback"),
                scope: "openid".into(),
                client_secret: confidential.then(|| {
                    crate::target::ConfigSecret(crate::redact::Secret::new(
                        "reference-client-secret",
                    ))
                }),
                auth_method: None,
                uses,
                driver,
            },
            dir: PathBuf::from("."),
        }
    }

    fn driver(&self) -> &'static str {
        if self.web.is_some() {
            "http"
        } else {
            "command"
        }
    }

    /// `scenarios` against the client with `defects`: each with the client it needs (public
    /// or confidential, claiming PAR or DPoP only where the scenario is about them).
    async fn run(
        &self,
        scenarios: &[ClientScenario],
        defects: &[ClientDefect],
    ) -> Vec<ScenarioResult> {
        let mut groups: Vec<(Needs, Vec<ClientScenario>)> = Vec::new();
        for s in scenarios {
            let need = Needs::of(s);
            match groups.iter_mut().find(|(n, _)| *n == need) {
                Some((_, group)) => group.push(s.clone()),
                None => groups.push((need, vec![s.clone()])),
            }
        }
        let mut results = Vec::new();
        for (need, group) in groups {
            let client = self.client(defects, need);
            results.extend(run(&group, &client, &mut |_| {}).await.results);
        }
        results
    }
}

/// The kill matrix through one driver.
async fn matrix_of(scenarios: &[ClientScenario], reference: &Reference<'_>) -> Vec<String> {
    let mut gaps = Vec::new();
    let driver = reference.driver();
    for r in reference.run(scenarios, &[]).await {
        if r.verdict != Verdict::Pass {
            gaps.push(format!(
                "clean client ({driver} driver): {} is {}: {}",
                r.id,
                r.verdict.as_str(),
                r.reason
            ));
        }
    }
    for &d in ClientDefect::ALL {
        let listing: Vec<ClientScenario> = scenarios
            .iter()
            .filter(|s| s.file.catches.contains(&d))
            .cloned()
            .collect();
        if listing.is_empty() {
            continue;
        }
        for r in reference.run(&listing, &[d]).await {
            if !matches!(r.verdict, Verdict::Fail | Verdict::Warn | Verdict::Info) {
                gaps.push(format!(
                    "{}: lists {d} in catches but does not fail against it through the {driver} driver ({}: {})",
                    r.id,
                    r.verdict.as_str(),
                    r.reason
                ));
            }
        }
    }
    gaps
}

/// Why a client does not meet a scenario's `need` (the scenario is skipped), or `None`.
fn lacks(f: &ClientFile, need: ClientNeed) -> Option<&'static str> {
    match need {
        ClientNeed::Openid if !f.scope.split(' ').any(|w| w == "openid") => {
            Some("the client does not ask for openid (scope), so no ID Token is issued")
        }
        ClientNeed::Confidential if f.client_secret.is_none() => Some(
            "the client is public (the client file gives no client_secret), so it does not authenticate",
        ),
        ClientNeed::Par if !f.uses.contains(&Feature::Par) => {
            Some("the client does not claim PAR (uses: [par] in the client file)")
        }
        ClientNeed::Dpop if !f.uses.contains(&Feature::Dpop) => {
            Some("the client does not claim DPoP (uses: [dpop] in the client file)")
        }
        ClientNeed::Refresh if !f.uses.contains(&Feature::Refresh) => Some(
            "the client does not claim to refresh its tokens (uses: [refresh] in the client file)",
        ),
        _ => None,
    }
}

/// What a scenario needs of the reference client.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Needs {
    /// A client secret.
    confidential: bool,
    /// The features it claims.
    uses: Vec<Feature>,
}

impl Needs {
    fn of(s: &ClientScenario) -> Self {
        let r = &s.file.requires;
        let uses = [
            (ClientNeed::Par, Feature::Par),
            (ClientNeed::Dpop, Feature::Dpop),
            (ClientNeed::Refresh, Feature::Refresh),
        ]
        .into_iter()
        .filter(|(n, _)| r.contains(n))
        .map(|(_, f)| f)
        .collect();
        Self {
            confidential: r.contains(&ClientNeed::Confidential),
            uses,
        }
    }
}
