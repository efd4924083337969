//! ADDs that fail in ways a backend error does not cover: a panic in the
//! middle of a step, and a result the config's version cannot carry. Either
//! way the attachment must be taken back before the runtime hears of it.

use cni_conformance::plugin_corpus::{Scenario, FAULT_CASES};
use cni_conformance::sim_scenarios::{Attachment, SimWorld};
use cni_core::error::code;
use serde_json::{json, Value};

/// A kernel where the network's shared host objects already exist.
fn warm(case: &Scenario) -> (SimWorld, Attachment, Value) {
    let (world, att, conf) = SimWorld::for_scenario(case, case.versions[0]);
    world.warm_up(&conf);
    (world, att, conf)
}

fn ops_of_a_successful_add(case: &Scenario) -> u64 {
    let (world, att, conf) = warm(case);
    let before = world.faults.op_count();
    world
        .call("ADD", &conf, &att)
        .unwrap_or_else(|e| panic!("{}: ADD without faults failed: {e}", case.slug));
    world.faults.op_count() - before
}

/// Operation `n` of the ADD panics: the unwinding runs the undo guard, and
/// skel answers 999 naming the panic.
fn panic_at(case: &Scenario, n: u64) {
    let (world, att, conf) = warm(case);
    let start = world.kernel.snapshot();
    world.faults.panic_nth(n);
    let outcome = world.call("ADD", &conf, &att);
    world.faults.clear_faults();
    let label = format!("{}: ADD with operation #{n} panicking", case.slug);
    let err = match outcome {
        Ok(result) => panic!("{label}: ADD succeeded: {result}"),
        Err(e) => e,
    };
    assert_eq!(err.code, u64::from(code::GENERIC), "{label}: {err}");
    assert!(
        err.msg.starts_with("plugin panicked: injected panic"),
        "{label}: {err}"
    );
    assert_eq!(world.kernel.snapshot(), start, "{label}: not undone");
    assert!(
        world.leases().is_empty(),
        "{label}: lease kept: {:?}",
        world.leases()
    );
}

#[test]
fn a_panic_in_any_step_of_add_undoes_the_attachment_and_answers_999() {
    for case in FAULT_CASES {
        let total = ops_of_a_successful_add(case);
        assert!(total > 1, "{}: only {total} operations", case.slug);
        for n in 1..=total {
            panic_at(case, n);
        }
    }
}

/// A layer-2 config (no IPAM) at 0.2.0: the result has no address, which a
/// 0.2.0 document needs, so ADD must fail — and take its links back.
fn layer2_at_0_2_0_fails_cleanly(l2: Value) {
    let world = SimWorld::new();
    world.add_uplink("uplink0", "uplink1");
    let att = Attachment::new("ctr1");
    world.add_container(&att);
    // Shared host objects exist already, as on a node where a 1.0.0 network uses them.
    let other = Attachment::new("other");
    world.add_container(&other);
    world
        .call("ADD", &world.netconf(&l2, "1.0.0"), &other)
        .unwrap();
    let start = world.kernel.snapshot();

    let err = world
        .call("ADD", &world.netconf(&l2, "0.2.0"), &att)
        .unwrap_err();
    assert_eq!(err.code, u64::from(code::INCOMPATIBLE_VERSION), "{err}");
    assert!(err.msg.contains("0.2.0"), "{err}");
    assert_eq!(err.details, "converting the ADD result", "{err}");
    assert_eq!(world.kernel.snapshot(), start, "{l2}: the links stayed");
}

#[test]
fn layer2_bridge_at_0_2_0_fails_cleanly_and_leaves_nothing() {
    layer2_at_0_2_0_fails_cleanly(
        json!({"name": "br-l2", "type": "bridge", "bridge": "cni2", "ipam": {}}),
    );
}

#[test]
fn layer2_macvlan_at_0_2_0_fails_cleanly_and_leaves_nothing() {
    layer2_at_0_2_0_fails_cleanly(
        json!({"name": "mv-l2", "type": "macvlan", "master": "uplink0", "ipam": {}}),
    );
}
