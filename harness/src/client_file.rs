//! The client file (`pkce-harness client --target CLIENT.yaml`): who the client under test is
//! to the harness's server, and how to drive one login of it. Core (no I/O but reading the
//! file), like the target file, so its JSON Schema is generated beside the others.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::diagnostics::{LoadError, parse_yaml};
use crate::scenario::model::FormatVersion;
use crate::target::{AuthMethod, ConfigSecret};

/// One client file.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientFile {
    /// The format version; only `1` exists.
    pub format: FormatVersion,
    /// What the reports call the client.
    pub name: String,
    /// The `client_id` the harness's server registers it under.
    #[serde(default = "default_client_id")]
    pub client_id: String,
    /// Its redirect URI, registered exactly (a loopback address: the harness never sends a
    /// browser elsewhere).
    pub redirect_uri: String,
    /// The scope it asks for; with `openid`, ID Tokens are issued.
    #[serde(default = "default_scope")]
    pub scope: String,
    /// A confidential client's secret, registered with the harness's server and handed to
    /// the command (`PKCE_HARNESS_CLIENT_SECRET`); write `${env:NAME}`. Without it the client is
    /// public.
    pub client_secret: Option<ConfigSecret>,
    /// How a confidential client authenticates at the token endpoint (the command gets it as
    /// `PKCE_HARNESS_AUTH_METHOD`); `client_secret_basic` by default.
    pub auth_method: Option<SecretMethod>,
    /// What the client uses beyond the plain code flow, so the checks of them apply (they are
    /// skipped, saying so, for a client that does not claim them). The client gets each in its
    /// environment: `PKCE_HARNESS_USE_PAR=1`, `PKCE_HARNESS_USE_DPOP=1`,
    /// `PKCE_HARNESS_REFRESHES=2`.
    #[serde(default)]
    pub uses: Vec<Feature>,
    /// How one login is driven.
    pub driver: Driver,
}

/// A protocol extension a client claims to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Feature {
    /// Pushed authorization requests (RFC 9126).
    Par,
    /// DPoP-bound tokens (RFC 9449).
    Dpop,
    /// Refresh tokens: the client refreshes twice after each login (told by
    /// `PKCE_HARNESS_REFRESHES=2`), then calls the resource with the last access token.
    Refresh,
}

impl Feature {
    /// The variable the client finds it in, and its value.
    pub fn env(self) -> (&'static str, &'static str) {
        match self {
            Self::Par => ("PKCE_HARNESS_USE_PAR", "1"),
            Self::Dpop => ("PKCE_HARNESS_USE_DPOP", "1"),
            Self::Refresh => ("PKCE_HARNESS_REFRESHES", "2"),
        }
    }
}

/// How a client with a secret authenticates (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecretMethod {
    /// HTTP Basic.
    ClientSecretBasic,
    /// In the form body.
    ClientSecretPost,
}

impl ClientFile {
    /// How the harness's server registers the client.
    pub fn auth(&self) -> AuthMethod {
        match (&self.client_secret, self.auth_method) {
            (None, _) => AuthMethod::None,
            (Some(_), Some(SecretMethod::ClientSecretPost)) => AuthMethod::ClientSecretPost,
            (Some(_), _) => AuthMethod::ClientSecretBasic,
        }
    }
}

fn default_client_id() -> String {
    "client-under-test".into()
}

fn default_scope() -> String {
    "openid".into()
}

/// How the harness drives one login of the client.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Driver {
    /// A command run once per login (an SDK's test script, a CLI app). Its environment holds
    /// `PKCE_HARNESS_ISSUER`, `PKCE_HARNESS_CLIENT_ID`, `PKCE_HARNESS_REDIRECT_URI` and
    /// `PKCE_HARNESS_SCOPE`; it prints the authorization URL it would open on a line of its
    /// standard output; the harness, as the user's browser, follows it through its own server
    /// and writes the URL the browser is sent back to on the command's standard input; the
    /// command's exit status says whether it accepted the login (0) or refused it. The command
    /// reads one line; a client that starts over prints another URL and reads another line.
    Command(CommandDriver),
    /// A web app (a server-side client, public or confidential, whose back end starts the flow
    /// itself): its program is started with the same environment for each harness server (a
    /// scenario's control login and its logins), and stopped after them; the harness's browser
    /// opens `login_url` and follows redirects on the app's origins and the harness's server
    /// until a page ends the login. The app accepted it if that page is a 2xx one (showing
    /// `success_text`, when given).
    Http(HttpDriver),
    /// A single-page app: its program serves the app (started like the `http` driver's), and
    /// headless Chromium opens `app_url`, clicks `click` if given, and reads the page until it
    /// shows `success_text` (accepted) or `failure_text` (refused). The tab reaches the app's
    /// origins and the harness's server only.
    Browser(BrowserDriver),
}

/// `driver: {command: ...}`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandDriver {
    /// The program and its arguments, run in the client file's folder.
    pub run: Vec<String>,
    /// How long one login may take, start to exit (1 to 300 s).
    #[serde(default = "thirty")]
    pub timeout_seconds: u64,
}

fn thirty() -> u64 {
    30
}

/// `driver: {http: ...}`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpDriver {
    /// The program that serves the app, and its arguments, run in the client file's folder.
    pub run: Vec<String>,
    /// Where a login starts: a URL of the app (loopback) that sends the browser to the
    /// authorization server.
    pub login_url: String,
    /// What the page a login ends on shows when the app accepted it; without it any 2xx page
    /// counts as accepted, and anything else (an error status) as refused.
    pub success_text: Option<String>,
    /// How long the app may take to listen at `login_url` once started (1 to 120 s).
    #[serde(default = "thirty")]
    pub start_seconds: u64,
    /// How long one login may take, login URL to the last page (1 to 300 s).
    #[serde(default = "thirty")]
    pub timeout_seconds: u64,
}

/// `driver: {browser: ...}`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserDriver {
    /// The program that serves the app, and its arguments, run in the client file's folder.
    pub run: Vec<String>,
    /// The app's page a login starts on (loopback).
    pub app_url: String,
    /// A CSS selector of the button or link that starts the login; without it the app starts
    /// the login itself when its page opens.
    pub click: Option<String>,
    /// What the page shows once the app accepted the login.
    pub success_text: String,
    /// What it shows once the app refused it. Required: without it a refusal could not be
    /// told from a slow app, and the harness never takes the time limit for a verdict.
    pub failure_text: String,
    /// How long the app may take to listen at `app_url` once started (1 to 120 s).
    #[serde(default = "thirty")]
    pub start_seconds: u64,
    /// How long one login may take, page open to either text (1 to 120 s).
    #[serde(default = "thirty")]
    pub timeout_seconds: u64,
}

impl BrowserDriver {
    /// The time limit of one login.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.clamp(1, 120))
    }
}

/// How the app under test is served: what the `http` and `browser` drivers share.
pub trait Served {
    /// The program and its arguments.
    fn run(&self) -> &[String];
    /// A URL of the app: it is up once this URL's address takes connections.
    fn url(&self) -> &str;
    /// How long it may take to start listening.
    fn start_limit(&self) -> Duration;
}

impl Served for HttpDriver {
    fn run(&self) -> &[String] {
        &self.run
    }
    fn url(&self) -> &str {
        &self.login_url
    }
    fn start_limit(&self) -> Duration {
        Duration::from_secs(self.start_seconds.clamp(1, 120))
    }
}

impl Served for BrowserDriver {
    fn run(&self) -> &[String] {
        &self.run
    }
    fn url(&self) -> &str {
        &self.app_url
    }
    fn start_limit(&self) -> Duration {
        Duration::from_secs(self.start_seconds.clamp(1, 120))
    }
}

impl HttpDriver {
    /// The time limit of one login.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.clamp(1, 300))
    }
}

impl CommandDriver {
    /// The time limit of one login.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.clamp(1, 300))
    }
}

/// A client file, with the folder its command runs in.
#[derive(Debug, Clone)]
pub struct LoadedClient {
    /// The file's contents.
    pub file: ClientFile,
    /// Where its command runs.
    pub dir: PathBuf,
}

/// Whether `url` is an absolute URL on a loopback address (127.0.0.0/8 or [::1]).
fn on_loopback(url: &str) -> bool {
    url::Url::parse(url).ok().is_some_and(|u| match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    })
}

/// Parses a client file and checks what the types cannot: a program to run, and loopback
/// URLs.
pub fn parse_client_file(name: &str, text: &str) -> Result<ClientFile, LoadError> {
    let f: ClientFile = parse_yaml(name, text)?;
    let err = |message: &str| LoadError::Io {
        file: name.to_owned(),
        message: message.to_owned(),
    };
    match &f.driver {
        Driver::Command(c) if c.run.is_empty() => {
            return Err(err("driver.command.run needs a program to run"));
        }
        Driver::Http(h) if h.run.is_empty() => {
            return Err(err("driver.http.run needs a program that serves the app"));
        }
        Driver::Http(h) if !on_loopback(&h.login_url) => {
            return Err(err(
                "driver.http.login_url must be on a loopback address (127.0.0.1 or [::1]): the harness's browser goes nowhere else",
            ));
        }
        Driver::Browser(b) if b.run.is_empty() => {
            return Err(err(
                "driver.browser.run needs a program that serves the app",
            ));
        }
        Driver::Browser(b) if !on_loopback(&b.app_url) => {
            return Err(err(
                "driver.browser.app_url must be on a loopback address (127.0.0.1 or [::1]): the harness's browser goes nowhere else",
            ));
        }
        _ => {}
    }
    if f.auth_method.is_some() && f.client_secret.is_none() {
        return Err(err(
            "auth_method is for a confidential client: give its client_secret too",
        ));
    }
    if !on_loopback(&f.redirect_uri) {
        return Err(err(
            "redirect_uri must be on a loopback address (127.0.0.1 or [::1]): the harness sends the browser nowhere else",
        ));
    }
    Ok(f)
}

/// Reads and parses the client file at `path`.
pub fn load_client_file(path: &Path) -> Result<LoadedClient, LoadError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::Io {
        file: shown.clone(),
        message: e.to_string(),
    })?;
    let file = parse_client_file(&shown, &text)?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    Ok(LoadedClient { file, dir })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_uri_off_loopback_is_refused() {
        let text = "format: 1\nname: c\nredirect_uri: \"https://app.example/cb\"\ndriver: {command: {run: [x]}}\n";
        let e = parse_client_file("c.yaml", text).expect_err("not loopback");
        assert!(e.to_string().contains("loopback"), "{e}");
    }

    #[test]
    fn a_web_app_login_url_off_loopback_is_refused() {
        let text = "format: 1\nname: c\nredirect_uri: \"http://127.0.0.1:8765/cb\"\ndriver: {http: {run: [x], login_url: \"http://localhost:8765/login\"}}\n";
        let e = parse_client_file("c.yaml", text).expect_err("localhost is a name");
        assert!(
            e.to_string().contains("login_url must be on a loopback"),
            "{e}"
        );
    }

    #[test]
    fn a_typo_points_at_its_line() {
        let text = "format: 1\nname: c\nredirect_uri: \"http://127.0.0.1:8765/cb\"\ndriver: {command: {run: [x], timout_seconds: 3}}\n";
        let e = parse_client_file("c.yaml", text).expect_err("typo");
        assert!(e.to_string().contains("c.yaml:4"), "{e}");
    }
}
