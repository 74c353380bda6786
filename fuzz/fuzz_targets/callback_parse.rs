#![no_main]
//! The callback parser never panics, and what it accepts round-trips.
libfuzzer_sys::fuzz_target!(|data: &[u8]| pkce_harness::fuzzing::callback_parse(data));
