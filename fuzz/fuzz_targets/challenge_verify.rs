#![no_main]
//! Differential: the reference PKCE against a straight-line RFC 7636 derivation.
libfuzzer_sys::fuzz_target!(|data: &[u8]| pkce_harness::fuzzing::challenge_verify(data));
