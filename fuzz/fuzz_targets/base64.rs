#![no_main]
//! libcni's base64, as the cache stores the config list.
//! The oracle, `cni_core::fuzz::base64_text`, also replays this target's corpus on stable.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cni_core::fuzz::base64_text(data);
});
