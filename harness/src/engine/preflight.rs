//! Preflight: before a run, one normal flow per configured client, so a wrong secret, a login
//! form the driver cannot fill or an unregistered redirect URI shows up as one line with what
//! to change, not as dozens of scenario errors.

use std::borrow::Cow;
use std::sync::Arc;

use super::{ResolvedTarget, RunOptions, run};
use crate::forms::PageKind;
use crate::outcome::{AuthEnding, Cause, Fault, Halt, LoginFault, Unmet};
use crate::scenario::model::ClientKind;
use crate::scenario::{Scenario, parse_scenario};
use crate::wire::HttpError;

const NORMAL_FLOW: &str = "format: 1\ntitle: one normal authorization code flow with S256\nrequirements: [REQ-21]\nclients: [public, confidential, confidential2]\ncatches: [broken-s256]\nsteps:\n  - authorize: {}\n  - token: {}\n";

/// What preflight found for one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCheck {
    /// The client.
    pub client: ClientKind,
    /// Why its flow did not run (the client is not configured).
    pub skipped: Option<String>,
    /// `None`: its normal flow completed (or it did not run).
    pub problem: Option<Problem>,
    /// The pages and steps the login driver went through, ending where it stopped.
    pub login: Vec<String>,
}

/// A normal flow that did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The engine's reason, naming the step and what came back.
    pub reason: String,
    /// What to change in the target file, as far as the reason tells.
    pub hint: Cow<'static, str>,
    /// What the server answered to the request that broke the flow (status and the start of
    /// the body, redacted), when the reason alone does not say.
    pub answer: Option<String>,
    /// Whose the problem likely is.
    pub kind: ProblemKind,
}

/// Whose a preflight problem likely is, which decides whether a run may go on. Ordered from
/// least to most blocking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProblemKind {
    /// A declared `policy` leaves checks unrun that the server would support (it issued a
    /// refresh token the target file does not declare): nothing is wrong.
    Advice,
    /// The settings look right and the server refused the token request: possibly the
    /// server's own deviation, which the scenarios will judge.
    MaybeDeviation,
    /// A declared `policy` the normal flows contradict (refresh tokens declared, none issued):
    /// the checks that rely on it cannot be judged, the others can.
    Policy,
    /// The login cannot be automated (the form driver is stuck, or `auto` meets a login form):
    /// the checks that need no completed login can still run.
    Login,
    /// The target file's settings (secret, redirect URI): nothing can be judged.
    Settings,
    /// The server misbehaved during a normal flow (a 5xx, a redirect without `Location`, a
    /// response that cannot be read): not the user's files, and nothing can be judged.
    ServerFault,
    /// No answer: nothing can be judged.
    Unreachable,
}

/// What preflight found: one check per configured client, and the run that found it, so a run
/// that stops here still writes its reports.
#[derive(Debug, Clone)]
pub struct Preflight {
    /// About the target as a whole (an issuer the metadata spells otherwise).
    pub target: Vec<Problem>,
    /// Per client.
    pub checks: Vec<ClientCheck>,
    /// The normal flows as results.
    pub report: crate::verdict::RunReport,
    /// The login driver the target file configures (`auto`, `form`, `steps`, `browser`).
    pub driver: &'static str,
}

/// Runs one normal flow per configured client.
pub async fn preflight(target: Arc<ResolvedTarget>, opts: &RunOptions) -> Preflight {
    let scenario = Scenario {
        id: "preflight/normal-flow".into(),
        path: "(built in)".into(),
        file: match parse_scenario("(built in)", NORMAL_FLOW) {
            Ok(f) => f,
            Err(e) => unreachable!("the built-in preflight scenario parses: {e}"),
        },
    };
    let opts = RunOptions {
        only: Vec::new(),
        ..opts.clone()
    };
    let mut problems: Vec<Problem> = issuer_problem(&target).into_iter().collect();
    problems.extend(auth_method_problems(&target));
    if opts.profile == crate::scenario::model::Profile::Fapi2 {
        problems.extend(fapi2_client_problems(&target));
    }
    let driver = target.login.driver();
    let policy = target.policy.clone();
    let report = run(&[scenario], target, &opts, &mut |_| {}).await;
    let mut checks: Vec<ClientCheck> = report
        .results
        .iter()
        .map(|r| ClientCheck {
            client: r.client,
            skipped: (r.verdict == crate::verdict::Verdict::Skip).then(|| r.reason.clone()),
            problem: r.cause.as_ref().map(|cause| Problem {
                hint: hint(cause).into(),
                kind: kind(cause),
                reason: r.reason.clone(),
                answer: in_token_step(cause)
                    .then(|| r.evidence.iter().rev().find(|e| e.status.is_some()))
                    .flatten()
                    .map(|e| {
                        let body: String = e
                            .response_body
                            .as_deref()
                            .unwrap_or("")
                            .chars()
                            .take(200)
                            .collect();
                        format!("HTTP {}: {body}", e.status.unwrap_or(0))
                    }),
            }),
            login: r.login.clone(),
        })
        .collect();
    checks.sort_by_key(|c| c.client);
    problems.extend(refresh_policy_problems(&policy, &report.results));
    Preflight {
        target: problems,
        checks,
        report,
        driver,
    }
}

/// Compares `policy.refresh_tokens_*` with the token responses of the normal flows that
/// completed, in client order: a refresh token declared and not issued makes every refresh check an `error`, one
/// issued and not declared skips them. The response's own member names are quoted.
fn refresh_policy_problems(
    policy: &crate::target::Policy,
    flows: &[crate::verdict::ScenarioResult],
) -> Vec<Problem> {
    let mut passed: Vec<_> = flows
        .iter()
        .filter(|r| r.verdict == crate::verdict::Verdict::Pass)
        .collect();
    passed.sort_by_key(|r| r.client);
    passed
        .into_iter()
        .filter_map(|r| {
            let members = token_response_members(r)?;
            let issued = members.iter().any(|m| m == "refresh_token");
            let (declared, key) = policy.refresh_tokens_for(r.client);
            let client = r.client.as_str();
            match (declared, issued) {
                (true, false) => Some(Problem {
                    reason: format!(
                        "{key} is true, and the {client} client's token response had no refresh_token (it had {})",
                        members.join(", ")
                    ),
                    hint: format!(
                        "set {key}: false, or give clients.{client}.scope the scope the server issues refresh tokens for (often offline_access); until then every refresh check with this client is an error"
                    )
                    .into(),
                    kind: ProblemKind::Policy,
                    answer: None,
                }),
                (false, true) => Some(Problem {
                    reason: format!(
                        "the server issued the {client} client a refresh_token, and {key} is false"
                    ),
                    hint: format!("set {key}: true to run the refresh-token checks with this client; they are skipped now").into(),
                    kind: ProblemKind::Advice,
                    answer: None,
                }),
                _ => None,
            }
        })
        .collect()
}

/// The member names of the successful token response in a normal flow's evidence.
fn token_response_members(flow: &crate::verdict::ScenarioResult) -> Option<Vec<String>> {
    flow.evidence
        .iter()
        .rev()
        .filter(|e| e.status == Some(200))
        .find_map(|e| {
            let body: serde_json::Value = serde_json::from_str(e.response_body.as_deref()?).ok()?;
            let object = body.as_object()?;
            // The server's own names, quoted: a handful, each cut, whatever it sent.
            object.contains_key("access_token").then(|| {
                object
                    .keys()
                    .take(12)
                    .map(|k| k.chars().take(40).collect())
                    .collect()
            })
        })
}

/// RFC 8414 §3.3: the metadata's `issuer` must be the issuer the target file names, byte for
/// byte; when they differ (a trailing slash, `localhost` for `127.0.0.1`), say which value the
/// server uses. It may be the server's deviation instead, which the scenarios judge, so a run
/// goes on.
fn issuer_problem(target: &ResolvedTarget) -> Option<Problem> {
    let written = target.issuer.as_deref()?;
    let said = target.metadata.as_ref()?.get("issuer")?.as_str()?;
    (written != said).then(|| Problem {
        reason: format!("the metadata says issuer {said:?}, the target file {written:?}"),
        hint: "write the issuer exactly as the metadata spells it (RFC 8414 §3.3, RFC 9207 compare it byte for byte); if the metadata is wrong, that is the server's deviation".into(),
        kind: ProblemKind::MaybeDeviation,
        answer: None,
    })
}

/// RFC 8414 §2: a client configured for a method the metadata does not list in
/// `token_endpoint_auth_methods_supported` (default `client_secret_basic`). The normal flow
/// decides (the list may be incomplete), so a run goes on.
fn auth_method_problems(target: &ResolvedTarget) -> Vec<Problem> {
    let listed: Vec<String> = match target
        .metadata
        .as_ref()
        .and_then(|m| m.get("token_endpoint_auth_methods_supported"))
        .and_then(|v| v.as_array())
    {
        Some(list) => list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        None => return Vec::new(),
    };
    [ClientKind::Confidential, ClientKind::Confidential2]
        .into_iter()
        .filter_map(|kind| Some((kind, target.client(kind)?)))
        .filter(|(_, c)| !listed.iter().any(|m| m == c.auth_method.as_str()))
        .map(|(kind, c)| Problem {
            reason: format!(
                "clients.{} uses {}, and the metadata lists token_endpoint_auth_methods_supported {listed:?}",
                kind.as_str(),
                c.auth_method.as_str()
            ),
            hint: "use a method the server lists (auth_method), or enable this one at the server for the client; if only the metadata is incomplete, the normal flow below still completes".into(),
            kind: ProblemKind::MaybeDeviation,
            answer: None,
        })
        .collect()
}

/// FAPI 2.0 authenticates confidential clients with `private_key_jwt` or mTLS only (§5.3.2.1):
/// a client configured with a secret is checked the same, but is not a FAPI client.
fn fapi2_client_problems(target: &ResolvedTarget) -> Vec<Problem> {
    [ClientKind::Confidential, ClientKind::Confidential2]
        .into_iter()
        .filter_map(|kind| Some((kind, target.client(kind)?)))
        .filter(|(_, c)| {
            c.auth_method != crate::target::AuthMethod::PrivateKeyJwt && !c.auth_method.is_mtls()
        })
        .map(|(kind, c)| Problem {
            reason: format!(
                "clients.{} uses {} under profile fapi2, which allows private_key_jwt or mTLS only",
                kind.as_str(),
                c.auth_method.as_str()
            ),
            hint: "configure the FAPI client with auth_method private_key_jwt (pkce-harness keygen makes a key) or an mTLS method; the checks run either way".into(),
            kind: ProblemKind::MaybeDeviation,
            answer: None,
        })
        .collect()
}

/// Whether the server, not the settings, broke the flow: a 5xx, a redirect or response the
/// login driver cannot read, a token response that is no JSON document with an access token, or
/// an answer cut at the size cap.
fn server_fault(cause: &Cause) -> bool {
    match &cause.halt {
        Halt::Fault {
            fault: Fault::Login { fault },
        } => fault.is_server_side(),
        Halt::Unmet {
            unmet:
                Unmet::Authorization {
                    got: AuthEnding::Page { status, .. },
                    ..
                },
        } => *status >= 500,
        Halt::Unmet {
            unmet: Unmet::Status { got, .. },
        } => *got >= 500 && !in_token_step(cause),
        // A successful token response no setting could explain: not JSON (HTML, malformed,
        // not UTF-8), or without a string access_token.
        Halt::Unmet {
            unmet: Unmet::NotJson { .. } | Unmet::JsonField { .. },
        } => in_token_step(cause),
        Halt::Fault {
            fault:
                Fault::CutBody { .. } | Fault::ServerError { .. } | Fault::ServerErrorRedirect { .. },
        } => true,
        _ => false,
    }
}

/// The token step of the normal flow.
const TOKEN_STEP: usize = 2;

/// Whether the server refused the client's credentials.
fn client_auth_refused(unmet: &Unmet) -> bool {
    match unmet {
        Unmet::Status { got, error, .. } => {
            *got == 401 || error.as_deref() == Some("invalid_client")
        }
        Unmet::OAuthError { got, .. } => got == "invalid_client",
        _ => false,
    }
}

fn in_token_step(cause: &Cause) -> bool {
    cause.step.as_ref().is_some_and(|s| s.index == TOKEN_STEP)
}

/// Whether a request got no answer (as opposed to a client that could not be set up).
fn no_answer(cause: &Cause) -> bool {
    matches!(&cause.halt, Halt::Fault { fault: Fault::Http { error } } if !matches!(error, HttpError::Setup { .. } | HttpError::ForeignOrigin { .. }))
}

/// The page the flow stopped at, when the login driver did not get past it (a login form
/// `login: auto` does not fill, a form page, a page that logs in by script).
fn unpassed_page(cause: &Cause) -> Option<PageKind> {
    match &cause.halt {
        Halt::Unmet {
            unmet:
                Unmet::Authorization {
                    got: AuthEnding::Page { holds, status, .. },
                    ..
                },
        } => match holds {
            PageKind::Plain => None,
            // An error page may run script too; only a page shown as a success is a login.
            PageKind::Script if !(200..300).contains(status) => None,
            _ => Some(*holds),
        },
        _ => None,
    }
}

/// Whether the login driver could not get through (as opposed to a server fault on the way).
fn login_blocked(cause: &Cause) -> bool {
    match &cause.halt {
        Halt::Fault {
            fault: Fault::Login { fault },
        } => !fault.is_server_side(),
        _ => unpassed_page(cause).is_some(),
    }
}

/// What to change when the login driver did not get through, by what stopped it: each names
/// the driver that gets past such a page.
fn login_hint(cause: &Cause) -> Option<&'static str> {
    if let Some(holds) = unpassed_page(cause) {
        return Some(match holds {
            PageKind::LoginForm => {
                "a login form appeared and was not filled: configure login.form with its fields (by input name)"
            }
            PageKind::Form => {
                "a form (consent, account choice) appeared and was not submitted: configure login.form (hidden inputs, selects and checked boxes are sent as a browser sends them)"
            }
            PageKind::Plain => return None,
            PageKind::Script => {
                "the page has no form in its HTML and runs script: its login is JavaScript. Use login.browser (headless Chromium runs the page), or replay its API calls with login.steps"
            }
        });
    }
    let Halt::Fault {
        fault: Fault::Login { fault },
    } = &cause.halt
    else {
        return None;
    };
    Some(match fault.as_ref() {
        LoginFault::StepStatus { .. }
        | LoginFault::StepValue { .. }
        | LoginFault::ResumedToPage { .. } => {
            "the scripted login failed at the step the reason names: compare login.steps with the requests the login page's script makes (a browser's developer tools show them), or use login.browser"
        }
        LoginFault::Browser { .. } => {
            "the browser could not be used: install Chromium (Debian: apt-get install chromium), or set $PKCE_HARNESS_BROWSER or login.browser.executable"
        }
        LoginFault::BrowserStuck { .. } => {
            "the browser login is stuck (the HTML report shows a screenshot): check login.browser.username and password, or give login.browser.pages tasks (text, click, wait) for this page"
        }
        _ if fault.is_server_side() => return None,
        _ => {
            "the login driver is stuck: check login.form.fields (input names and values) and login.form.select"
        }
    })
}

fn kind(cause: &Cause) -> ProblemKind {
    match &cause.halt {
        _ if no_answer(cause) => ProblemKind::Unreachable,
        _ if server_fault(cause) => ProblemKind::ServerFault,
        _ if login_blocked(cause) => ProblemKind::Login,
        Halt::Unmet { unmet } if in_token_step(cause) && !client_auth_refused(unmet) => {
            ProblemKind::MaybeDeviation
        }
        _ => ProblemKind::Settings,
    }
}

/// The likeliest fix for a failed normal flow, read from its cause.
fn hint(cause: &Cause) -> &'static str {
    if !server_fault(cause)
        && !no_answer(cause)
        && let Some(h) = login_hint(cause)
    {
        return h;
    }
    match &cause.halt {
        _ if server_fault(cause) => {
            "the server failed during a normal flow (see the reason): this is the server's fault, not the target file's"
        }
        _ if no_answer(cause) => {
            "the endpoint did not answer: check issuer / endpoints and that the server is up"
        }
        Halt::Fault {
            fault:
                Fault::Http {
                    error: HttpError::ForeignOrigin { .. },
                },
        } => {
            "the login was to send a request to an origin the target file does not name (the reason names it), and nothing was sent: if that origin is the server's own (an external login page, another host of it), add it to trusted_origins"
        }
        Halt::Unmet {
            unmet: Unmet::Authorization { .. },
        } => {
            "the server did not send the browser back (its page is quoted above): check this client's client_id, and that its redirect_uri is registered exactly as written"
        }
        Halt::Unmet { unmet } if client_auth_refused(unmet) => {
            "client authentication failed: check client_id and auth_method and its credentials: client_secret for client_secret_basic, _post and _jwt; for private_key_jwt, that the server has the public key `check` printed registered for the client, and accepts assertions whose aud is its token endpoint"
        }
        _ if in_token_step(cause) => {
            "the token request was refused: if the settings are right, this is the server's deviation (see the reason)"
        }
        _ => "see the reason; the same flow runs in every scenario, so fix this first",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{LoginFault, StepRef};
    use crate::scenario::model::AuthOutcome;
    use crate::verdict::{Exchange, ScenarioResult, Verdict};

    fn at(index: usize, halt: impl Into<Halt>) -> Cause {
        let kind = if index == 1 { "authorize" } else { "token" };
        Cause {
            step: Some(StepRef {
                index,
                kind: kind.into(),
            }),
            halt: halt.into(),
        }
    }

    fn status(got: u16, error: &str) -> Unmet {
        Unmet::Status {
            expected: vec![200],
            got,
            error: Some(error.into()),
        }
    }

    fn unreachable() -> Cause {
        at(
            1,
            Fault::Http {
                error: HttpError::Timeout {
                    method: "GET".into(),
                    url: "http://h/authorize".into(),
                    seconds: 10.0,
                },
            },
        )
    }

    fn stuck() -> Cause {
        at(
            1,
            LoginFault::NotReached {
                max_steps: 12,
                method: "POST".into(),
                url: "http://h/login".into(),
            },
        )
    }

    #[test]
    fn only_a_refused_token_request_with_good_settings_may_be_the_servers() {
        use ProblemKind::*;
        assert_eq!(kind(&at(2, status(400, "invalid_grant"))), MaybeDeviation);
        assert_eq!(kind(&at(2, status(401, "invalid_client"))), Settings);
        assert_eq!(kind(&stuck()), Login);
        assert_eq!(kind(&unreachable()), Unreachable);
    }

    #[test]
    fn a_misbehaving_server_is_not_the_users_mistake() {
        use ProblemKind::*;
        let no_location = at(
            1,
            LoginFault::NoLocation {
                method: "GET".into(),
                url: "http://h/authorize".into(),
                status: 302,
            },
        );
        assert_eq!(kind(&no_location), ServerFault);
        let page_500 = Unmet::Authorization {
            expected: AuthOutcome::Code,
            got: AuthEnding::Page {
                status: 502,
                title: None,
                heading: None,
                message: None,
                holds: PageKind::Plain,
            },
        };
        assert_eq!(kind(&at(1, page_500)), ServerFault);
        assert!(hint(&no_location).contains("server's fault"));
        // A 5xx to the token request may be the server's answer to the flow: the scenarios judge.
        assert_eq!(kind(&at(2, status(500, "server_error"))), MaybeDeviation);
        assert!(ServerFault > Settings && Unreachable > ServerFault);
    }

    #[test]
    fn no_answer_outweighs_bad_settings_outweighs_a_possible_deviation() {
        use ProblemKind::*;
        assert_eq!(
            [Settings, Unreachable, MaybeDeviation].into_iter().max(),
            Some(Unreachable)
        );
        assert_eq!([MaybeDeviation, Settings].into_iter().max(), Some(Settings));
        assert_eq!([Login, Settings].into_iter().max(), Some(Settings));
        assert_eq!([MaybeDeviation, Login].into_iter().max(), Some(Login));
    }

    #[test]
    fn a_declared_refresh_token_the_flow_did_not_get_names_the_key() {
        let mut flow = ScenarioResult::new("preflight/normal-flow", Verdict::Pass, "");
        flow.client = ClientKind::Confidential2;
        flow.evidence.push(Exchange {
            step: "2 token".into(),
            method: "POST".into(),
            url: "http://127.0.0.1:1/token".into(),
            request_headers: Vec::new(),
            request_body: None,
            status: Some(200),
            response_headers: Vec::new(),
            response_body: Some(
                r#"{"access_token":"[redacted]","token_type":"Bearer","expires_in":3600}"#.into(),
            ),
            error: None,
        });
        let declared = crate::target::Policy {
            refresh_tokens_confidential: true,
            ..Default::default()
        };
        let problems = refresh_policy_problems(&declared, std::slice::from_ref(&flow));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].kind, ProblemKind::Policy);
        assert_eq!(
            problems[0].reason,
            "policy.refresh_tokens_confidential is true, and the confidential2 client's token response had no refresh_token (it had access_token, expires_in, token_type)"
        );
        assert!(problems[0].hint.starts_with(
            "set policy.refresh_tokens_confidential: false, or give clients.confidential2.scope"
        ));
        // As declared: nothing to say; a flow that did not complete says nothing either.
        assert!(
            refresh_policy_problems(&Default::default(), std::slice::from_ref(&flow)).is_empty()
        );
        flow.verdict = Verdict::Fail;
        assert!(refresh_policy_problems(&declared, &[flow]).is_empty());
    }

    #[test]
    fn hints_follow_the_cause() {
        assert!(hint(&at(2, status(401, "invalid_client"))).contains("client_secret"));
        assert!(hint(&stuck()).contains("login.form.fields"));
        assert!(hint(&unreachable()).contains("server is up"));
        let page = Unmet::Authorization {
            expected: AuthOutcome::Code,
            got: AuthEnding::Page {
                status: 400,
                title: None,
                heading: None,
                message: None,
                holds: PageKind::Plain,
            },
        };
        assert!(hint(&at(1, page)).contains("redirect_uri"));
        let login = Unmet::Authorization {
            expected: AuthOutcome::Code,
            got: AuthEnding::Page {
                status: 200,
                title: Some("Sign in".into()),
                heading: None,
                message: None,
                holds: PageKind::LoginForm,
            },
        };
        assert!(hint(&at(1, login)).contains("configure login.form"));
        assert!(hint(&at(2, status(400, "invalid_grant"))).contains("server's deviation"));
    }

    /// FAPI 2.0 §5.3.2.1 allows mTLS as well as private_key_jwt: only a secret is flagged.
    #[test]
    fn under_fapi2_only_secret_clients_are_flagged() {
        let cert = include_str!("../server/tls/client1.pem").replace('\n', "\\n");
        let key = include_str!("../server/tls/client1.key").replace('\n', "\\n");
        let text = format!(
            "format: 1\nendpoints: {{authorization: \"https://as.example/a\", token: \"https://as.example/t\"}}\nclients:\n  public: {{client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}}\n  confidential: {{client_id: c, auth_method: self_signed_tls_client_auth, tls_certificate: \"{cert}\", tls_key: \"{key}\", redirect_uri: \"https://c.example/cb\"}}\n  confidential2: {{client_id: d, client_secret: s3cr3t-value, auth_method: client_secret_basic, redirect_uri: \"https://c.example/cb\"}}\nlogin: {{auto: {{}}}}\n"
        );
        let target = ResolvedTarget::new(
            crate::target::parse_target("t.yaml", &text).unwrap_or_else(|e| panic!("{e}")),
            None,
            None,
        )
        .expect("resolves");
        let flagged: Vec<String> = fapi2_client_problems(&target)
            .into_iter()
            .map(|p| p.reason)
            .collect();
        assert_eq!(
            flagged,
            [
                "clients.confidential2 uses client_secret_basic under profile fapi2, which allows private_key_jwt or mTLS only"
            ]
        );
    }
}
