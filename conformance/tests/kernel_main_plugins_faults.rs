//! The fault sweep of `sim_main_plugins_faults.rs` on the real kernel: the
//! plugins in process over `FaultyBackend<LinuxBackend>`, inside namespaces
//! the test made (one playing the host). For each operation N of a
//! successful ADD, on fresh namespaces: fail N, and the host, the container
//! and host-local's `dataDir` must be as before the ADD; after the DEL a
//! runtime sends next, too; then an ADD without faults succeeds and its DEL
//! leaves what a fault-free ADD and DEL leave. "As before" is exact on a warm
//! host (another container's ADD and DEL already made the network's shared
//! objects); on a cold host the shared objects a failed ADD made (bridge,
//! gateway addresses, forwarding) stay, and only they. Needs root.

use cni_conformance::in_process::{add_uplink, Attachment};
use cni_conformance::kernel_world::KernelWorld;
use cni_conformance::plugin_corpus::{Scenario, FAULT_CASES};
use cni_core::net::NetErrorKind;
use cni_core::testsupport::privileged;
use serde_json::Value;

/// Whether the network's shared host objects exist before the ADD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Host {
    Cold,
    Warm,
}

/// Fresh namespaces (host, `ctr1` and `warm`) and the case's config.
fn fresh(case: &Scenario) -> (KernelWorld, Attachment, Value, Attachment) {
    let mut world = KernelWorld::new();
    let att = world.add_container("ctr1");
    let warm = world.add_container("warm");
    let conf = world.netconf(&(case.conf)(), case.versions[0]);
    (world, att, conf, warm)
}

/// Runs in the host namespace: the uplink macvlan needs and, on a warm
/// host, another container's ADD and DEL.
fn prepare(world: &KernelWorld, case: &Scenario, conf: &Value, warm: &Attachment, host: Host) {
    if case.needs_uplink {
        add_uplink(&*world.host(), "uplink0", "uplink1");
    }
    if host == Host::Warm {
        let add = world.call("ADD", conf, warm);
        assert!(add.is_ok(), "{}: warm-up ADD: {add:?}", case.slug);
        let del = world.call("DEL", conf, warm);
        assert_eq!(del, Ok(Value::Null), "{}: warm-up DEL", case.slug);
    }
}

fn assert_state(world: &KernelWorld, att: &Attachment, host: Host, expected: &str, what: &str) {
    assert_eq!(state(world, att, host), expected, "{what}");
}

/// A fault-free ADD on fresh namespaces: how many operations it ran, and
/// the state its DEL leaves (the bridge, forwarding, loopback's address
/// stay: shared objects are not one attachment's to undo).
struct Clean {
    start: String,
    add_ops: u64,
    after_del: String,
}

/// The state without carrier: it follows from the links present (compared
/// anyway), and a real kernel reports its loss up to a second late
/// (linkwatch), which would make the sweep wait that long at every step.
fn state(world: &KernelWorld, att: &Attachment, host: Host) -> String {
    match host {
        Host::Warm => whole_state(world, att),
        Host::Cold => without_carrier(world.attachment_owned(&[att])),
    }
}

fn whole_state(world: &KernelWorld, att: &Attachment) -> String {
    without_carrier(world.state(&[att]))
}

fn without_carrier(text: String) -> String {
    text.replace(",LOWER_UP", "").replace(",NO-CARRIER", "")
}

fn clean_run(case: &Scenario, host: Host) -> Clean {
    let (world, att, conf, warm) = fresh(case);
    world.in_host(|| {
        prepare(&world, case, &conf, &warm, host);
        let start = state(&world, &att, host);
        let before = world.faults.op_count();
        world
            .call("ADD", &conf, &att)
            .unwrap_or_else(|e| panic!("{}: ADD without faults failed: {e}", case.slug));
        let add_ops = world.faults.op_count() - before;
        let del = world.call("DEL", &conf, &att);
        assert_eq!(del, Ok(Value::Null), "{}: DEL without faults", case.slug);
        Clean {
            start,
            add_ops,
            after_del: whole_state(&world, &att),
        }
    })
}

fn fail_one(case: &Scenario, n: u64, clean: &Clean, host: Host) {
    let (world, att, conf, warm) = fresh(case);
    world.in_host(|| {
        prepare(&world, case, &conf, &warm, host);
        let start = &clean.start;
        let (outcome, failed_op) = world
            .faults
            .with_nth_failing(n, NetErrorKind::Other, || world.call("ADD", &conf, &att));
        let failed_op =
            failed_op.unwrap_or_else(|| panic!("{}: ADD stopped before operation #{n}", case.slug));
        let label = format!(
            "{}: {host:?} ADD with #{n} ({:?}) failing",
            case.slug, failed_op.op
        );
        assert!(failed_op.injected, "{label}: not the fault: {failed_op:?}");
        let err = outcome
            .err()
            .unwrap_or_else(|| panic!("{label}: ADD succeeded"));
        assert!(
            format!("{} {}", err.msg, err.details).contains("injected fault"),
            "{label}: the error does not carry the fault: {err}"
        );
        assert_state(&world, &att, host, start, &format!("{label}: not undone"));

        let del = world.call("DEL", &conf, &att);
        assert_eq!(del, Ok(Value::Null), "{label}, then DEL");
        assert_state(&world, &att, host, start, &format!("{label}, then DEL"));

        let add = world.call("ADD", &conf, &att);
        assert!(add.is_ok(), "{label}, then ADD without faults: {add:?}");
        let del = world.call("DEL", &conf, &att);
        assert_eq!(del, Ok(Value::Null), "{label}, then ADD and DEL");
        let label = format!("{label}, then ADD and DEL");
        assert_eq!(whole_state(&world, &att), clean.after_del, "{label}");
    });
}

fn fail_each_operation_in_turn(test: &str, plugin: &str) {
    if !privileged(test) {
        return;
    }
    let case = FAULT_CASES.iter().find(|c| c.slug == plugin).unwrap();
    for host in [Host::Warm, Host::Cold] {
        let clean = clean_run(case, host);
        let total = clean.add_ops;
        assert!(
            total > 3,
            "{plugin}: a successful ADD ran only {total} operations"
        );
        for n in 1..=total {
            fail_one(case, n, &clean, host);
        }
    }
}

#[test]
fn bridge_on_the_kernel_undoes_every_failed_step() {
    fail_each_operation_in_turn("bridge_on_the_kernel_undoes_every_failed_step", "bridge");
}

#[test]
fn ptp_on_the_kernel_undoes_every_failed_step() {
    fail_each_operation_in_turn("ptp_on_the_kernel_undoes_every_failed_step", "ptp");
}

#[test]
fn macvlan_on_the_kernel_undoes_every_failed_step() {
    fail_each_operation_in_turn("macvlan_on_the_kernel_undoes_every_failed_step", "macvlan");
}

#[test]
fn loopback_on_the_kernel_undoes_every_failed_step() {
    fail_each_operation_in_turn(
        "loopback_on_the_kernel_undoes_every_failed_step",
        "loopback",
    );
}
