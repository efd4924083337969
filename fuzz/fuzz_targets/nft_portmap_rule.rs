#![no_main]
//! A port-mapping rule as an nftables dump gives it.
//! The oracle, `cni_backend_linux::nftables::fuzz::portmap_rule`, also replays this target's corpus on stable.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cni_backend_linux::nftables::fuzz::portmap_rule(data);
});
