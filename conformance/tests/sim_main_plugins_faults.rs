//! A failed ADD leaves nothing behind. For each plugin, the backend
//! operations of a successful ADD are counted; then, on a fresh kernel each
//! time, the n-th of them fails, with each error kind in turn.
//!
//! On a warm kernel (another container's ADD and DEL already made the
//! network's shared host objects) the ADD must answer with a CNI error
//! (carrying the fault, for kinds no step can absorb), the kernel must be
//! back at its starting state with no lease held right after the failed ADD
//! (the plugins undo on failure), and still after the DEL a runtime sends
//! next. Where a step absorbs a NotFound or Exists and ADD succeeds, the
//! kernel must hold the same attachment as without the fault, pass CHECK,
//! and DEL must clean up.
//!
//! On a cold kernel the failed ADD may leave the shared objects it made (the
//! bridge, its gateway addresses, forwarding: other ADDs may already rely on
//! them), but nothing of the attachment's own; a retried ADD and its DEL
//! then leave what a fault-free ADD and DEL leave.

use cni_conformance::plugin_corpus::{Scenario, FAULT_CASES};
use cni_conformance::sim_scenarios::{with_prev_result, Attachment, SimWorld};
use cni_core::net::NetErrorKind;
use serde_json::Value;

/// A fresh kernel with the container namespace (and uplink) in place.
fn fresh(case: &Scenario) -> (SimWorld, Attachment, Value) {
    SimWorld::for_scenario(case, case.versions[0])
}

/// A kernel where the network's shared host objects already exist.
fn warm(case: &Scenario) -> (SimWorld, Attachment, Value) {
    let (world, att, conf) = fresh(case);
    world.warm_up(&conf);
    (world, att, conf)
}

fn ops_of_a_successful_add(world: (SimWorld, Attachment, Value), case: &Scenario) -> u64 {
    let (world, att, conf) = world;
    let before = world.faults.op_count();
    world
        .call("ADD", &conf, &att)
        .unwrap_or_else(|e| panic!("{}: ADD without faults failed: {e}", case.slug));
    world.faults.op_count() - before
}

/// Kinds no step may absorb: the ADD must fail.
const FATAL: &[NetErrorKind] = &[
    NetErrorKind::Other,
    NetErrorKind::Busy,
    NetErrorKind::Invalid,
    NetErrorKind::Permission,
    NetErrorKind::Unreachable,
];
/// Kinds a step may absorb (a look-up finding nothing, a create racing
/// another ADD): the ADD may then succeed, but only with a whole attachment.
const ABSORBABLE: &[NetErrorKind] = &[NetErrorKind::NotFound, NetErrorKind::Exists];

/// The kernel after a fault-free ADD, then after its DEL, without ifindexes
/// and MACs (a fault may have used up an ifindex).
struct Clean {
    after_add: String,
    after_del: String,
}

fn clean_run((world, att, conf): (SimWorld, Attachment, Value)) -> Clean {
    world.call("ADD", &conf, &att).unwrap();
    let after_add = world.kernel.snapshot_normalized();
    world.call("DEL", &conf, &att).unwrap();
    Clean {
        after_add,
        after_del: world.kernel.snapshot_normalized(),
    }
}

fn fail_each_operation_in_turn(plugin: &str) {
    let case = FAULT_CASES.iter().find(|c| c.slug == plugin).unwrap();
    let total = ops_of_a_successful_add(warm(case), case);
    assert!(
        total > 3,
        "{plugin}: a successful ADD ran only {total} operations"
    );
    let clean = clean_run(warm(case));
    for &kind in FATAL.iter().chain(ABSORBABLE) {
        for n in 1..=total {
            fail_one(case, n, kind, &clean);
        }
    }
    let cold_total = ops_of_a_successful_add(fresh(case), case);
    let cold_clean = clean_run(fresh(case));
    for n in 1..=cold_total {
        fail_one_cold(case, n, &cold_clean);
    }
}

/// On a cold kernel: operation `n` fails; only shared host objects may stay.
fn fail_one_cold(case: &Scenario, n: u64, clean: &Clean) {
    let (world, att, conf) = fresh(case);
    let owned = world.attachment_owned(&[&att]);
    let (outcome, failed_op) = world
        .faults
        .with_nth_failing(n, NetErrorKind::Other, || world.call("ADD", &conf, &att));
    let label = format!("{}: cold ADD with #{n} ({failed_op:?}) failing", case.slug);
    assert!(outcome.is_err(), "{label}: ADD succeeded");
    assert_eq!(
        world.attachment_owned(&[&att]),
        owned,
        "{label}: not undone"
    );
    assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null), "{label}");
    assert_eq!(world.attachment_owned(&[&att]), owned, "{label}, then DEL");
    let add = world.call("ADD", &conf, &att);
    assert!(add.is_ok(), "{label}, then ADD without faults: {add:?}");
    assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null), "{label}");
    assert_eq!(
        world.kernel.snapshot_normalized(),
        clean.after_del,
        "{label}, then ADD and DEL"
    );
}

fn fail_one(case: &Scenario, n: u64, kind: NetErrorKind, clean: &Clean) {
    let plugin = case.slug;
    let (world, att, conf) = warm(case);
    let start = world.kernel.snapshot();
    let (outcome, failed_op) = world
        .faults
        .with_nth_failing(n, kind, || world.call("ADD", &conf, &att));
    let failed_op =
        failed_op.unwrap_or_else(|| panic!("{plugin}: ADD stopped before operation #{n}"));
    assert!(
        failed_op.injected,
        "{plugin}: #{n} {failed_op:?} was not the fault"
    );
    let label = format!(
        "{plugin}: ADD with #{n} ({:?}) failing {kind:?}",
        failed_op.op
    );
    let err = match outcome {
        Ok(result) => {
            assert!(
                ABSORBABLE.contains(&kind),
                "{label}: ADD succeeded: {result}"
            );
            assert_eq!(
                world.kernel.snapshot_normalized(),
                clean.after_add,
                "{label}: ADD succeeded with a different attachment"
            );
            let check = with_prev_result(&conf, &result);
            assert_eq!(
                world.call("CHECK", &check, &att),
                Ok(Value::Null),
                "{label}"
            );
            assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null), "{label}");
            assert_eq!(
                world.kernel.snapshot_normalized(),
                clean.after_del,
                "{label}, then DEL"
            );
            assert!(world.leases().is_empty(), "{label}, then DEL: lease kept");
            return;
        }
        Err(e) => e,
    };
    assert!(err.code > 0, "{label}: {err}");
    if FATAL.contains(&kind) {
        assert!(
            format!("{} {}", err.msg, err.details).contains("injected fault"),
            "{label}: the error does not carry the fault: {err}"
        );
    }
    assert_eq!(world.kernel.snapshot(), start, "{label}: not undone");
    assert!(
        world.leases().is_empty(),
        "{label}: lease kept: {:?}",
        world.leases()
    );

    world
        .call("DEL", &conf, &att)
        .unwrap_or_else(|e| panic!("{label}: DEL afterwards failed: {e}"));
    assert_eq!(world.kernel.snapshot(), start, "{label}, then DEL");
    assert!(world.leases().is_empty(), "{label}, then DEL: lease kept");
}

#[test]
fn bridge_gateway_masq_undoes_every_failed_step() {
    fail_each_operation_in_turn("bridge");
}

#[test]
fn ptp_masq_undoes_every_failed_step() {
    fail_each_operation_in_turn("ptp");
}

#[test]
fn macvlan_undoes_every_failed_step() {
    fail_each_operation_in_turn("macvlan");
}

#[test]
fn host_device_undoes_every_failed_step() {
    fail_each_operation_in_turn("host-device");
}

#[test]
fn ipvlan_undoes_every_failed_step() {
    fail_each_operation_in_turn("ipvlan");
}

#[test]
fn dummy_undoes_every_failed_step() {
    fail_each_operation_in_turn("dummy");
}

#[test]
fn vlan_undoes_every_failed_step() {
    fail_each_operation_in_turn("vlan");
}

#[test]
fn tap_undoes_every_failed_step() {
    fail_each_operation_in_turn("tap");
}

#[test]
fn loopback_undoes_every_failed_step() {
    fail_each_operation_in_turn("loopback");
}
