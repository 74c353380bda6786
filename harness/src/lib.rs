//! pkce-harness: a conformance harness for the OAuth 2.0 authorization code grant with PKCE.
pub mod pkce;
