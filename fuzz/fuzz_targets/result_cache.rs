#![no_main]
//! A result cache file under /var/lib/cni/results.
//! The oracle, `cni_core::fuzz::result_cache`, also replays this target's corpus on stable.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cni_core::fuzz::result_cache(data);
});
