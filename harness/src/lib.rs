//! pkce-harness: a conformance harness for the OAuth 2.0 authorization code grant with PKCE.
pub mod callback;
pub mod coverage;
pub mod defect;
pub mod fuzzing;
pub mod html;
pub mod params;
pub mod pkce;
pub mod redact;
pub mod requirements;
pub mod scenario;
pub mod target;
pub mod verdict;

#[cfg(feature = "runtime")]
pub mod checks;
#[cfg(feature = "runtime")]
pub mod cli;
#[cfg(feature = "runtime")]
pub mod engine;
#[cfg(feature = "runtime")]
pub mod login;
#[cfg(feature = "runtime")]
pub mod report;
#[cfg(feature = "runtime")]
pub mod selftest;
#[cfg(feature = "runtime")]
pub mod server;
