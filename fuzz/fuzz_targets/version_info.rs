#![no_main]
//! A plugin's answer to VERSION.
//! The oracle, `cni_core::fuzz::version_info`, also replays this target's corpus on stable.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cni_core::fuzz::version_info(data);
});
