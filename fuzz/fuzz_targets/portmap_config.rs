#![no_main]
//! portmap's configuration, and the rules ADD would make from it.
//! The oracle, `cni_plugins::fuzz::portmap`, also replays this target's corpus on stable.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cni_plugins::fuzz::portmap(data);
});
