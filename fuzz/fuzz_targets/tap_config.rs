#![no_main]
//! tap's configuration with CNI_ARGS (MAC, mtu, owner, group, bridge, flags).
//! The oracle, `cni_plugins::fuzz::tap`, also replays this target's corpus on stable.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cni_plugins::fuzz::tap(data);
});
