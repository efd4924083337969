#![no_main]
//! cnitool's CNI_ARGS and CAP_ARGS environment variables.
//! The oracle, `cni_plugins::fuzz::cni_and_cap_args`, also replays this target's corpus on stable.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cni_plugins::fuzz::cni_and_cap_args(data);
});
