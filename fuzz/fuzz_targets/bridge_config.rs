#![no_main]
//! bridge's configuration with CNI_ARGS (MAC, prevResult).
//! The oracle, `cni_plugins::fuzz::bridge`, also replays this target's corpus on stable.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cni_plugins::fuzz::bridge(data);
});
