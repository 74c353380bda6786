//! The run's Chromium: found, started on the first login that needs it, shared by every flow
//! of the run (and by the runs given clones of the same options), and stopped with the last
//! clone. Apart from the driver, so the scenario context can hold it without knowing logins.

use std::sync::Arc;
use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, DisposeBrowserContextParams,
};
use futures_util::StreamExt;
use tokio::sync::OnceCell;

use crate::target::BrowserLogin;

/// The run's browser, started on first use and shared by every flow (clones share it).
#[derive(Clone, Default)]
pub struct Shared(Arc<OnceCell<Result<Arc<Chromium>, ChromiumError>>>);

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.0.get() {
            None => "not started",
            Some(Ok(_)) => "running",
            Some(Err(_)) => "failed to start",
        };
        write!(f, "Shared({state})")
    }
}

impl Shared {
    /// The running browser, started now if this is the first login that needs it. A failed
    /// start is kept too: every later login gets the same reason, without a second try.
    pub async fn get(&self, config: &BrowserLogin) -> Result<Arc<Chromium>, ChromiumError> {
        self.0
            .get_or_init(|| async { Chromium::launch(config).await.map(Arc::new) })
            .await
            .clone()
    }
}

/// A running Chromium; dropping it kills the process and removes its profile.
pub struct Chromium {
    /// The DevTools connection.
    pub browser: chromiumoxide::Browser,
    /// One permit per tab open at once. Chromium renders on the machine's cores; more tabs than
    /// cores only slow every login down (eight logins at once on two cores outlived their codes
    /// and pushed requests), so the logins beyond that queue, off the scenario's clock.
    pub tabs: tokio::sync::Semaphore,
    handler: tokio::task::JoinHandle<()>,
    profile: std::path::PathBuf,
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // The browser's own drop kills the process (chromiumoxide starts it kill-on-drop).
        self.handler.abort();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Chromium {
    async fn launch(config: &BrowserLogin) -> Result<Self, ChromiumError> {
        let executable = executable(config)?;
        static STARTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let profile = std::env::temp_dir().join(format!(
            "pkce-harness-chromium-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let built = chromiumoxide::BrowserConfig::builder()
            .chrome_executable(&executable)
            .no_sandbox()
            .user_data_dir(&profile)
            .launch_timeout(Duration::from_secs(30))
            .request_timeout(Duration::from_secs(config.timeout_seconds))
            // Headless, no background traffic: the browser talks to the target and nothing else.
            .args([
                "--headless=new",
                "--disable-gpu",
                "--disable-quic",
                "--disable-component-update",
                "--disable-domain-reliability",
                "--dns-prefetch-disable",
                "--no-default-browser-check",
            ])
            .build()
            .map_err(ChromiumError::Configure)?;
        let (browser, mut events) =
            chromiumoxide::Browser::launch(built)
                .await
                .map_err(|e| ChromiumError::Launch {
                    executable: executable.display().to_string(),
                    source: Arc::new(e),
                })?;
        let handler = tokio::spawn(async move { while events.next().await.is_some() {} });
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Ok(Self {
            browser,
            tabs: tokio::sync::Semaphore::new(cores.clamp(1, 8)),
            handler,
            profile,
        })
    }
}

/// A browser session: one browser context (cookies, storage) that the logins of a job share, as
/// the other drivers share a cookie jar, so a second login of the job finds the user signed in
/// as a browser would. Dropping it disposes of the context.
pub struct Session {
    chromium: Arc<Chromium>,
    /// The context's id, for each login's new tab.
    pub context: BrowserContextId,
}

impl Session {
    /// A new, empty browser context in `chromium`.
    pub async fn open(chromium: Arc<Chromium>) -> Result<Self, chromiumoxide::error::CdpError> {
        let context = chromium
            .browser
            .create_browser_context(CreateBrowserContextParams::default())
            .await?;
        Ok(Self { chromium, context })
    }

    /// Whether the session lives in this browser (a run's clones share one).
    pub fn in_browser(&self, chromium: &Arc<Chromium>) -> bool {
        Arc::ptr_eq(&self.chromium, chromium)
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("context", &self.context)
            .finish()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Disposal is a DevTools command: sent from a task, bounded, its failure moot (the
        // browser may be gone already, with the run).
        let (chromium, context) = (Arc::clone(&self.chromium), self.context.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let dispose = chromium
                    .browser
                    .execute(DisposeBrowserContextParams::new(context));
                let _ = tokio::time::timeout(DISPOSE, dispose).await;
            });
        }
    }
}

/// How long disposing of a browser context may take.
const DISPOSE: Duration = Duration::from_millis(500);

/// Chromium's executable: configured, `$PKCE_HARNESS_BROWSER`, or the first of the usual names on PATH.
fn executable(config: &BrowserLogin) -> Result<std::path::PathBuf, ChromiumError> {
    if let Some(path) = &config.executable {
        return Ok(path.0.clone().into());
    }
    if let Ok(path) = std::env::var("PKCE_HARNESS_BROWSER") {
        return Ok(path.into());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["chromium", "chromium-browser", "google-chrome", "chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
        .ok_or(ChromiumError::NotFound)
}

/// Why Chromium could not be started: every browser login of the run is `error` with it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ChromiumError {
    /// No executable configured and none of the usual names on `PATH`.
    #[error(
        "Chromium not found: install it (Debian: apt-get install chromium), or set $PKCE_HARNESS_BROWSER or login.browser.executable"
    )]
    NotFound,
    /// chromiumoxide refused the launch options.
    #[error("cannot configure Chromium: {0}")]
    Configure(String),
    /// The process did not start or did not speak DevTools.
    #[error("cannot start {executable}: {source}")]
    Launch {
        /// The executable tried.
        executable: String,
        /// What chromiumoxide said (shared: a failed start is kept for every later login).
        source: Arc<chromiumoxide::error::CdpError>,
    },
}
