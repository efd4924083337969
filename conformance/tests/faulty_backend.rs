//! The fault injector around a backend (here the simulator): which operation
//! fails, that it changes nothing, and what the log records.

use cni_backend_sim::SimKernel;
use cni_conformance::faults::{FaultyBackend, NetOp};
use cni_core::net::{BridgeSpec, NetBackend, NetError, NetErrorKind, NsRef, VethSpec};

/// A small plugin-like ADD: veth into the container, both ends up.
fn add(backend: &dyn NetBackend, cref: &NsRef) -> Result<(), NetError> {
    let host = backend.open(&NsRef::Current)?;
    let c = backend.open(cref)?;
    let pair = host.create_veth(&VethSpec::new("vethA", "eth0"), cref)?;
    host.set_up(pair.local.index, true)?;
    c.set_up(pair.peer.index, true)?;
    Ok(())
}

fn faulty_with_container() -> (FaultyBackend<SimKernel>, NsRef) {
    let kernel = SimKernel::new();
    let cref = kernel.add_netns("/var/run/netns/c1").unwrap();
    (FaultyBackend::new(kernel), cref)
}

#[test]
fn fail_nth_fails_exactly_that_operation_and_changes_nothing() {
    let (faulty, cref) = faulty_with_container();
    let before = faulty.inner().snapshot();
    // ops: open host, open c1, create_veth (3rd) ...
    faulty.fail_nth(3, NetErrorKind::Busy);
    let err = add(&faulty, &cref).unwrap_err();
    assert_eq!(err.kind, NetErrorKind::Busy);
    assert!(err.msg.contains("injected fault: CreateVeth"), "{err}");
    assert_eq!(faulty.inner().snapshot(), before);
    let log = faulty.ops();
    assert_eq!(log.len(), 3);
    assert_eq!((log[2].op, log[2].injected), (NetOp::CreateVeth, true));
    add(&faulty, &cref).unwrap();
}

#[test]
fn failing_each_operation_of_an_add_in_turn_stops_it_there() {
    let (reference, cref) = faulty_with_container();
    add(&reference, &cref).unwrap();
    let total = reference.op_count();
    assert_eq!(total, 5);
    for n in 1..=total {
        let (faulty, cref) = faulty_with_container();
        faulty.fail_nth(n, NetErrorKind::Other);
        assert!(add(&faulty, &cref).is_err(), "op {n} did not fail");
        assert_eq!(faulty.op_count(), n, "ADD went on after op {n} failed");
        assert_eq!(
            faulty.ops().last().unwrap().failed,
            Some(NetErrorKind::Other)
        );
    }
}

#[test]
fn handles_share_one_counter() {
    let (faulty, cref) = faulty_with_container();
    let host = faulty.open(&NsRef::Current).unwrap();
    let c = faulty.open(&cref).unwrap();
    host.links().unwrap();
    c.links().unwrap();
    host.links().unwrap();
    let seqs: Vec<_> = faulty.ops().iter().map(|o| (o.seq, o.ns.clone())).collect();
    let host_ref = NsRef::Current;
    assert_eq!(
        seqs,
        vec![
            (1, host_ref.clone()),
            (2, cref.clone()),
            (3, host_ref.clone()),
            (4, cref.clone()),
            (5, host_ref)
        ]
    );
}

#[test]
fn fail_next_targets_an_operation_kind_in_one_namespace() {
    let (faulty, cref) = faulty_with_container();
    faulty.fail_next(NetOp::SetUp, Some(cref.clone()), NetErrorKind::Permission);
    let err = add(&faulty, &cref).unwrap_err();
    assert_eq!(err.kind, NetErrorKind::Permission);
    let failed: Vec<_> = faulty
        .ops()
        .into_iter()
        .filter(|o| o.failed.is_some())
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].op, &failed[0].ns), (NetOp::SetUp, &cref));
    // The host's SetUp ran before it and was not affected.
    let host = faulty.inner().open(&NsRef::Current).unwrap();
    assert!(host.link_by_name("vethA").unwrap().up);
}

#[test]
fn genuine_errors_are_logged_as_not_injected() {
    let faulty = FaultyBackend::new(SimKernel::new());
    let host = faulty.open(&NsRef::Current).unwrap();
    let spec = BridgeSpec {
        name: "br0".into(),
        ..BridgeSpec::default()
    };
    host.create_bridge(&spec).unwrap();
    assert!(host.create_bridge(&spec).unwrap_err().is_exists());
    let last = faulty.ops().pop().unwrap();
    assert_eq!(
        (last.op, last.failed, last.injected),
        (NetOp::CreateBridge, Some(NetErrorKind::Exists), false)
    );
}

#[test]
fn clear_faults_drops_pending_faults() {
    let faulty = FaultyBackend::new(SimKernel::new());
    faulty.fail_nth(1, NetErrorKind::Other);
    faulty.fail_next(NetOp::Links, None, NetErrorKind::Other);
    faulty.clear_faults();
    let host = faulty.open(&NsRef::Current).unwrap();
    assert!(host.links().is_ok());
}

#[test]
fn the_inner_backend_neither_counts_nor_fails() {
    let faulty = FaultyBackend::new(SimKernel::new());
    faulty.fail_nth(1, NetErrorKind::Other);
    assert!(faulty.inner().open(&NsRef::Current).is_ok());
    assert_eq!(faulty.op_count(), 0);
    assert!(faulty.open(&NsRef::Current).is_err());
}
