//! Login drivers: from an authorization request to the redirect back to the client.
//!
//! The harness never listens on a redirect URI. It follows the server's redirects itself and
//! stops at the first one that leaves the server for a client (a registered redirect URI, the
//! one the request named, or any other origin). What happens on the pages between is the
//! driver's business: `form` fills in HTML forms ([`form`]), `steps` replays a JavaScript
//! login's API calls ([`script`]), `browser` lets Chromium run the pages ([`browser`]). Each
//! driver gives up after a bounded number of requests and says where it was stuck; each keeps a
//! trail of the pages and steps it went through, which `check` prints and reports keep.

mod browser;
pub mod chromium;
mod form;
mod script;
mod walk;

use url::Url;

use super::context::Ctx;
use crate::outcome::Halt;
use crate::scenario::model::ConsentAnswer;
use crate::target::LoginConfig;
pub use walk::Drive;
use walk::Walk;

/// Runs the authorization request at `url` to its end with the target's login driver. The
/// pages and steps it went through are added to `ctx.login_trail`.
/// With `consent` [`ConsentAnswer::Decline`], the consent page's declining button is pressed.
pub async fn drive(
    ctx: &mut Ctx,
    url: Url,
    client_targets: &[Url],
    consent: ConsentAnswer,
) -> Result<Drive, Halt> {
    let decline = consent == ConsentAnswer::Decline;
    let target = std::sync::Arc::clone(&ctx.target);
    let as_origins = [target.authorization.origin(), target.token.origin()];
    let mut walk = Walk {
        client_targets,
        as_origins: &as_origins,
        pages: Vec::new(),
        post_redirects: Vec::new(),
        budget: 0,
        used: 0,
        decline,
        declined: false,
    };
    if let LoginConfig::Browser(config) = &target.login {
        return browser::drive(ctx, url, client_targets, config, decline).await;
    }
    let ending = match &target.login {
        LoginConfig::Auto {} => {
            walk.budget = 8;
            form::drive(ctx, &mut walk, url, None).await
        }
        LoginConfig::Form(config) => {
            walk.budget = config.max_steps;
            form::drive(ctx, &mut walk, url, Some(config)).await
        }
        LoginConfig::Steps(script) => {
            walk.budget = 12 + script.requests.len();
            script::drive(ctx, &mut walk, url, script).await
        }
        LoginConfig::Browser(_) => unreachable!("the browser driver returned above"),
    }?;
    Ok(Drive {
        ending,
        pages: walk.pages,
        post_redirects: walk.post_redirects,
        declined: walk.declined,
    })
}
