//! The kernel's own API: atomic operations, the clock, namespaces going away.
//! (Fault injection wraps any backend: `conformance/tests/faulty_backend.rs`.)

use cni_backend_sim::SimKernel;
use cni_core::net::{BridgeSpec, NetBackend, Netns, NsRef};
use std::time::Duration;

#[test]
fn a_refused_operation_changes_nothing() {
    let kernel = SimKernel::new();
    let host = kernel.open(&NsRef::Current).unwrap();
    let spec = BridgeSpec {
        name: "br0".into(),
        ..BridgeSpec::default()
    };
    host.create_bridge(&spec).unwrap();
    let before = kernel.snapshot();
    assert!(host.create_bridge(&spec).unwrap_err().is_exists());
    assert_eq!(kernel.snapshot(), before);
}

#[test]
fn clock_advances_only_when_told() {
    let kernel = SimKernel::new();
    assert_eq!(kernel.now(), Duration::ZERO);
    kernel.advance(Duration::from_secs(90));
    let clone = kernel.clone();
    clone.advance(Duration::from_millis(500));
    assert_eq!(kernel.now(), Duration::from_millis(90_500));
}

#[test]
fn handles_of_a_deleted_namespace_report_not_found() {
    let kernel = SimKernel::new();
    let cref = kernel.add_netns("/var/run/netns/c1").unwrap();
    let c: Box<dyn Netns> = kernel.open(&cref).unwrap();
    kernel.del_netns("/var/run/netns/c1").unwrap();
    assert!(c.links().unwrap_err().is_not_found());
    let err = kernel.open(&cref).err().unwrap();
    assert!(
        err.is_not_found() && err.msg.contains("/var/run/netns/c1"),
        "{err}"
    );
}
