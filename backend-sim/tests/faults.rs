//! Fault injection, the operation log and the clock.

use cni_backend_sim::{SimKernel, SimOp};
use cni_core::net::{BridgeSpec, NetBackend, NetErrorKind, Netns, NsRef, VethSpec};
use std::time::Duration;

/// A small plugin-like ADD: veth into the container, both ends up.
fn add(kernel: &SimKernel, cref: &NsRef) -> Result<(), cni_core::net::NetError> {
    let host = kernel.open(&NsRef::Current)?;
    let c = kernel.open(cref)?;
    let pair = host.create_veth(&VethSpec::new("vethA", "eth0"), cref)?;
    host.set_up(pair.local.index, true)?;
    c.set_up(pair.peer.index, true)?;
    Ok(())
}

#[test]
fn fail_nth_fails_exactly_that_operation_and_changes_nothing() {
    let kernel = SimKernel::new();
    let cref = kernel.add_netns("/var/run/netns/c1").unwrap();
    let before = kernel.snapshot();
    // ops: open host, open c1, create_veth (3rd) ...
    kernel.fail_nth(3, NetErrorKind::Busy);
    let err = add(&kernel, &cref).unwrap_err();
    assert_eq!(err.kind, NetErrorKind::Busy);
    assert!(err.msg.contains("CreateVeth"), "{err}");
    assert_eq!(kernel.snapshot(), before);
    let log = kernel.ops();
    assert_eq!(log.len(), 3);
    assert_eq!((log[2].op, log[2].injected), (SimOp::CreateVeth, true));
    add(&kernel, &cref).unwrap();
}

#[test]
fn failing_each_operation_of_an_add_in_turn_is_observable() {
    let reference = SimKernel::new();
    let cref = reference.add_netns("/var/run/netns/c1").unwrap();
    add(&reference, &cref).unwrap();
    let total = reference.op_count();
    assert_eq!(total, 5);
    for n in 1..=total {
        let kernel = SimKernel::new();
        let cref = kernel.add_netns("/var/run/netns/c1").unwrap();
        kernel.fail_nth(n, NetErrorKind::Other);
        assert!(add(&kernel, &cref).is_err(), "op {n} did not fail");
        assert_eq!(kernel.op_count(), n, "ADD went on after op {n} failed");
        assert_eq!(
            kernel.ops().last().unwrap().failed,
            Some(NetErrorKind::Other)
        );
    }
}

#[test]
fn fail_next_targets_an_operation_kind_in_one_namespace() {
    let kernel = SimKernel::new();
    let cref = kernel.add_netns("/var/run/netns/c1").unwrap();
    kernel.fail_next(SimOp::SetUp, Some(cref.clone()), NetErrorKind::Permission);
    let err = add(&kernel, &cref).unwrap_err();
    assert_eq!(err.kind, NetErrorKind::Permission);
    let failed: Vec<_> = kernel
        .ops()
        .into_iter()
        .filter(|o| o.failed.is_some())
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].op, &failed[0].ns), (SimOp::SetUp, &cref));
    // The host's SetUp ran before it and was not affected.
    let host = kernel.open(&NsRef::Current).unwrap();
    assert!(host.link_by_name("vethA").unwrap().up);
}

#[test]
fn genuine_errors_are_logged_and_roll_back() {
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
    let last = kernel.ops().pop().unwrap();
    assert_eq!(
        (last.failed, last.injected),
        (Some(NetErrorKind::Exists), false)
    );
}

#[test]
fn clear_faults_drops_pending_faults() {
    let kernel = SimKernel::new();
    kernel.fail_nth(1, NetErrorKind::Other);
    kernel.clear_faults();
    assert!(kernel.open(&NsRef::Current).is_ok());
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
