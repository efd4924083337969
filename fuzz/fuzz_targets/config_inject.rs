#![no_main]
//! Capability arguments injected as runtimeConfig into each plugin's config.
//! The oracle, `cni_core::fuzz::config_inject`, also replays this target's corpus on stable.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cni_core::fuzz::config_inject(data);
});
