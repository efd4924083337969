#![no_main]
//! macvlan's configuration with CNI_ARGS (mode, MAC, prevResult).
//! The oracle, `cni_plugins::fuzz::macvlan`, also replays this target's corpus on stable.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cni_plugins::fuzz::macvlan(data);
});
