#![no_main]
//! A DHCPv6 server's reply to the daemon's client machine.
//! The oracle, `cni_core::fuzz::dhcp_v6_reply`, also replays this target's corpus on stable.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cni_core::fuzz::dhcp_v6_reply(data);
});
