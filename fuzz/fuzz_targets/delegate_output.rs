#![no_main]
//! A delegate's stdout as its result and as its error document.
//! The oracle, `cni_core::fuzz::delegate_output`, also replays this target's corpus on stable.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cni_core::fuzz::delegate_output(data);
});
