//! Netlink datagrams as the kernel might send them: splitting, header checks,
//! statuses with extended acks and reply handling never panic, and agree on
//! the framing.
#![no_main]

use cni_backend_linux::transport::inspect::inspect_datagram;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    assert!(inspect_datagram(data).framing_agrees());
});
