#![no_main]
//! The scenario, target and baseline loaders never panic, and their errors point inside the input.
libfuzzer_sys::fuzz_target!(|data: &[u8]| pkce_harness::fuzzing::file_loaders(data));
