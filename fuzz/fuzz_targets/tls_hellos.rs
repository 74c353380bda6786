#![no_main]
//! The TLS hello reader never panics on what a peer sends, and what it reads round-trips.
libfuzzer_sys::fuzz_target!(|data: &[u8]| pkce_harness::fuzzing::tls_hellos(data));
