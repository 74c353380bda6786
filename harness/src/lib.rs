//! pkce-harness: a conformance harness for the OAuth 2.0 authorization code grant with PKCE
//! (RFC 7636), run against a live authorization server.
//!
//! A run reads YAML [`scenario`]s and a [`target`] file, drives the server through full flows
//! with the [`engine`], and hands every result to sinks in [`report`]. Each part has one job:
//!
//! - [`pkce`]: the reference PKCE implementation every check trusts (verifier, challenge,
//!   verification); [`callback`]: parsing authorization responses; [`params`], [`forms`]: the
//!   form encoding and the HTML forms the login driver reads; [`wire`]: requests and responses
//!   as data.
//! - [`scenario`], [`target`], [`baseline`]: the files a user writes, read through
//!   [`diagnostics`] so every error points at its line and column; [`requirements`]: the
//!   catalogue of requirement and bug ids they cite.
//! - [`engine`]: builds requests, sends them, drives the login, and asks [`checks`] (pure
//!   judges) whether the answer meets the scenario; a check that is not met is an
//!   [`outcome::Unmet`], anything that keeps the harness from judging an [`outcome::Fault`].
//! - [`verdict`]: the results and their redacted evidence ([`redact`] is the only place secrets
//!   are masked); [`report`]: terminal, JSON, JUnit, Markdown and HTML.
//! - [`server`]: the embedded reference authorization server, with [`defect`] switches that
//!   re-create real bugs; [`selftest`]: the kill matrix proving each check can fail.
//!
//! `ARCHITECTURE.md` beside the crate names the arrows between these parts that must never exist.

pub mod baseline;
pub mod bounds;
pub mod callback;
pub mod checks;
pub mod client_defect;
pub mod client_file;
pub mod coverage;
pub mod defect;
pub mod diagnostics;
pub mod diff;
pub mod forms;
pub mod gate;
pub mod jose;
pub mod outcome;
pub mod params;
pub mod pkce;
pub mod redact;
pub mod requirements;
pub mod scenario;
pub mod schema;
pub mod seen;
pub mod select;
pub mod target;
pub mod tls_hello;
pub mod verdict;
pub mod wire;

/// Entry points for the fuzz targets in `fuzz/`; built with the `fuzzing` feature (and for its
/// own unit tests).
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;

#[cfg(feature = "runtime")]
pub mod client_mode;
#[cfg(feature = "runtime")]
pub mod differential;
#[cfg(feature = "runtime")]
pub mod engine;
#[cfg(feature = "runtime")]
pub mod reference_client;
#[cfg(feature = "runtime")]
pub mod report;
#[cfg(feature = "runtime")]
pub mod selftest;
#[cfg(feature = "runtime")]
pub mod server;
