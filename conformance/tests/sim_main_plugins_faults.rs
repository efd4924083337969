//! A failed ADD leaves nothing behind. For each plugin, the backend
//! operations of a successful ADD are counted; then, on a fresh kernel each
//! time, the n-th of them fails, with each error kind in turn. The ADD must
//! answer with a CNI error (carrying the fault, for kinds no step can
//! absorb), the kernel must be back at its starting state with no lease held
//! right after the failed ADD (the plugins undo on failure), and still after
//! the DEL a runtime sends next. Where a step absorbs a NotFound or Exists
//! and ADD succeeds, the kernel must hold the same attachment as without the
//! fault, pass CHECK, and DEL must clean up.

use cni_conformance::plugin_corpus::{Scenario, FAULT_CASES};
use cni_conformance::sim_scenarios::{with_prev_result, Attachment, SimWorld};
use cni_core::net::NetErrorKind;
use serde_json::Value;

/// A fresh kernel with the container namespace (and uplink) in place.
fn fresh(case: &Scenario) -> (SimWorld, Attachment, Value) {
    SimWorld::for_scenario(case, case.versions[0])
}

fn ops_of_a_successful_add(case: &Scenario) -> u64 {
    let (world, att, conf) = fresh(case);
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

fn clean_run(case: &Scenario) -> Clean {
    let (world, att, conf) = fresh(case);
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
    let total = ops_of_a_successful_add(case);
    assert!(
        total > 3,
        "{plugin}: a successful ADD ran only {total} operations"
    );
    let clean = clean_run(case);
    for &kind in FATAL.iter().chain(ABSORBABLE) {
        for n in 1..=total {
            fail_one(case, n, kind, &clean);
        }
    }
}

fn fail_one(case: &Scenario, n: u64, kind: NetErrorKind, clean: &Clean) {
    let plugin = case.slug;
    let (world, att, conf) = fresh(case);
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
fn loopback_undoes_every_failed_step() {
    fail_each_operation_in_turn("loopback");
}
