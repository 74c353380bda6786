//! The reference OAuth client (`pkce-harness reference-client`): a correct public client of
//! the authorization code flow with PKCE, and its defect switches
//! ([`ClientDefect`](crate::client_defect::ClientDefect)), so every
//! client scenario is shown to pass on a correct client and to fail on a broken one.
//!
//! It speaks both drivers' protocols, as any client under test does, its settings from
//! `PKCE_HARNESS_*` variables: the `command` driver's ([`login`]: the authorization URL on
//! standard output, the URL the browser was sent back to on standard input, the verdict as the
//! exit status) and, as a web app, the `http` driver's ([`serve`]: a login URL that sends the
//! browser to the server, a callback that ends on a page saying how the login went). Like the
//! reference server it shares nothing with the engine: only the core parts (PKCE, JOSE, the
//! parameter encoding).

mod command;
mod flow;
mod web;

pub use command::login;
pub use flow::ClientError;
pub use web::serve;
