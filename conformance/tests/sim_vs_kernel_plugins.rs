//! Plugin-level fidelity of the simulator: every scenario of the corpus, at
//! every version it runs at, in process on the simulator and on the real
//! kernel (the Linux backend in namespaces the test made). Both must print
//! the same result, and leave the same state (`plugin_state`) after ADD and
//! after DEL. Where they differ, the simulator is wrong. Needs root.
//!
//! Normalizations of the result (the state's are in `plugin_state`):
//! - an interface's `sandbox`: the real namespace's path carries a unique prefix;
//! - the MAC of a host-side interface (no `sandbox`), and of every interface
//!   when no address was assigned: nothing to derive it from, so the kernel
//!   picks a random one, the simulator another.

use cni_conformance::backend_suite::settles;
use cni_conformance::in_process::{add_uplink, Attachment, Failure};
use cni_conformance::kernel_world::KernelWorld;
use cni_conformance::plugin_corpus::{scenarios_not_named_in, Scenario, FAULT_CASES, SCENARIOS};
use cni_conformance::sim_scenarios::{with_prev_result, SimWorld};
use cni_core::testsupport::privileged;
use serde_json::{json, Value};

/// What one ADD and DEL printed and left.
#[derive(Debug, PartialEq)]
struct Observed {
    add: Result<Value, Failure>,
    after_add: String,
    del: Result<Value, Failure>,
    after_del: String,
}

fn normalized(mut result: Value) -> Value {
    let has_ips = result.get("ips").is_some();
    for iface in result["interfaces"].as_array_mut().into_iter().flatten() {
        let Some(obj) = iface.as_object_mut() else {
            continue;
        };
        if !has_ips || !obj.contains_key("sandbox") {
            obj.remove("mac");
        }
        if obj.contains_key("sandbox") {
            obj.insert("sandbox".into(), Value::from("<container netns>"));
        }
    }
    result
}

fn on_simulator(scenario: &Scenario, version: &str) -> Observed {
    let (world, att, conf) = SimWorld::for_scenario(scenario, version);
    let add = world.call("ADD", &conf, &att).map(normalized);
    let after_add = world.state(&[&att]);
    let del = world.call("DEL", &conf, &att);
    Observed {
        add,
        after_add,
        del,
        after_del: world.state(&[&att]),
    }
}

/// The kernel's state once it equals `expected`, or after two seconds
/// (carrier reaches a real kernel's link flags a moment late).
fn settled(world: &KernelWorld, att: &Attachment, expected: &str) -> String {
    let mut actual = String::new();
    settles(|| {
        actual = world.state(&[att]);
        actual == expected
    });
    actual
}

fn on_kernel(scenario: &Scenario, version: &str, sim: &Observed) -> Observed {
    let mut world = KernelWorld::new();
    let att = world.add_container("ctr1");
    let conf = world.netconf(&(scenario.conf)(), version);
    world.in_host(|| {
        if scenario.needs_uplink {
            add_uplink(&*world.host(), "uplink0", "uplink1");
        }
        let add = world.call("ADD", &conf, &att).map(normalized);
        let after_add = settled(&world, &att, &sim.after_add);
        let del = world.call("DEL", &conf, &att);
        Observed {
            add,
            after_add,
            del,
            after_del: settled(&world, &att, &sim.after_del),
        }
    })
}

/// On a kernel without the driver the scenario's link kind needs
/// ([`Scenario::kernel_driver`]): ADD fails with code 5 naming the module,
/// leaves the host, the container and the leases as they were, and DEL
/// succeeds. `false` when the kernel has the driver (then compare).
fn refused_without_driver(scenario: &Scenario, version: &str) -> bool {
    let Some(module) = scenario.kernel_driver() else {
        return false;
    };
    let mut world = KernelWorld::new();
    let att = world.add_container("ctr1");
    let conf = world.netconf(&(scenario.conf)(), version);
    world.in_host(|| {
        add_uplink(&*world.host(), "uplink0", "uplink1");
        // The uplink's carrier first: a real kernel reports it a moment late.
        let mut before = String::new();
        settles(|| {
            before = world.state(&[&att]);
            !before.contains("NO-CARRIER")
        });
        let e = match world.call("ADD", &conf, &att) {
            Ok(result) => {
                world.call("DEL", &conf, &att).unwrap();
                let _ = result;
                return false;
            }
            Err(e) => e,
        };
        let label = format!("{} at {version} without {module}", scenario.slug);
        assert_eq!(e.code, 5, "{label}: {e}");
        assert!(
            e.msg.contains(&format!("driver (modprobe {module})")),
            "{label}: the error names the missing driver: {e}"
        );
        assert_eq!(
            settled(&world, &att, &before),
            before,
            "{label}: left something"
        );
        assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null), "{label}");
        eprintln!("{label}: the kernel has no driver; checked the refusal only");
        true
    })
}

fn same_on_both(test: &str, slug: &str) {
    if !privileged(test) {
        return;
    }
    let scenario = SCENARIOS.iter().find(|s| s.slug == slug).unwrap();
    for version in scenario.versions {
        if refused_without_driver(scenario, version) {
            continue;
        }
        let sim = on_simulator(scenario, version);
        assert!(sim.add.is_ok(), "{slug} at {version}: {:?}", sim.add);
        let kernel = on_kernel(scenario, version, &sim);
        let label = format!("{slug} at {version}: kernel (left) and simulator (right)");
        assert_eq!(kernel.add, sim.add, "{label}: ADD result");
        assert_eq!(kernel.after_add, sim.after_add, "{label}: after ADD");
        assert_eq!(kernel.del, sim.del, "{label}: DEL");
        assert_eq!(kernel.after_del, sim.after_del, "{label}: after DEL");
    }
}

#[test]
fn bridge_gateway_masq_default_route() {
    same_on_both(
        "bridge_gateway_masq_default_route",
        "bridge-gateway-masq-default-route",
    );
}

#[test]
fn bridge_dual_stack_mtu1400() {
    same_on_both("bridge_dual_stack_mtu1400", "bridge-dual-stack-mtu1400");
}

#[test]
fn bridge_layer2() {
    same_on_both("bridge_layer2", "bridge-layer2");
}

#[test]
fn ptp_masq_default_route() {
    same_on_both("ptp_masq_default_route", "ptp-masq-default-route");
}

#[test]
fn ptp_dual_stack() {
    same_on_both("ptp_dual_stack", "ptp-dual-stack");
}

#[test]
fn macvlan_bridge_mode() {
    same_on_both("macvlan_bridge_mode", "macvlan-bridge-mode");
}

#[test]
fn bridge_port_guards() {
    same_on_both("bridge_port_guards", "bridge-port-guards");
}

#[test]
fn macvlan_bcqueuelen() {
    same_on_both("macvlan_bcqueuelen", "macvlan-bcqueuelen");
}

#[test]
fn host_device() {
    same_on_both("host_device", "host-device");
}

#[test]
fn ipvlan_l2() {
    same_on_both("ipvlan_l2", "ipvlan-l2");
}

#[test]
fn ipvlan_l3_dual_stack_mtu1400() {
    same_on_both(
        "ipvlan_l3_dual_stack_mtu1400",
        "ipvlan-l3-dual-stack-mtu1400",
    );
}

#[test]
fn dummy() {
    same_on_both("dummy", "dummy");
}

#[test]
fn dummy_dual_stack() {
    same_on_both("dummy_dual_stack", "dummy-dual-stack");
}

#[test]
fn vlan() {
    same_on_both("vlan", "vlan");
}

#[test]
fn vlan_mtu1400() {
    same_on_both("vlan_mtu1400", "vlan-mtu1400");
}

#[test]
fn tap() {
    same_on_both("tap", "tap");
}

#[test]
fn tap_multiqueue_owner_dual_stack_mtu1400() {
    same_on_both(
        "tap_multiqueue_owner_dual_stack_mtu1400",
        "tap-multiqueue-owner-dual-stack-mtu1400",
    );
}

#[test]
fn tap_layer2_mac() {
    same_on_both("tap_layer2_mac", "tap-layer2-mac");
}

#[test]
fn loopback() {
    same_on_both("loopback", "loopback");
}

#[test]
fn every_scenario_is_compared() {
    let source = include_str!("sim_vs_kernel_plugins.rs");
    let missing = scenarios_not_named_in(source);
    assert!(missing.is_empty(), "never run: {missing:?}");
}

/// The chained vrf after the corpus's dual-stack bridge, on both: the
/// same state after its ADD and after its DEL. On a kernel without the vrf
/// driver, its ADD fails with code 5 naming the module, leaves the state
/// as the bridge left it, and its DEL succeeds.
#[test]
fn vrf_after_bridge() {
    if !privileged("vrf_after_bridge") {
        return;
    }
    let bridge = (FAULT_CASES
        .iter()
        .find(|c| c.slug == "bridge")
        .unwrap()
        .conf)();
    let vrf = json!({"name": "br-net", "type": "vrf", "vrfname": "blue", "table": 100});

    let sim = SimWorld::new();
    let sim_att = Attachment::new("ctr1");
    sim.add_container(&sim_att);
    let main = sim.netconf(&bridge, "1.0.0");
    let prev = sim.call("ADD", &main, &sim_att).unwrap();
    let conf = with_prev_result(&sim.netconf(&vrf, "1.0.0"), &prev);
    sim.call("ADD", &conf, &sim_att).unwrap();
    let sim_after_add = sim.state(&[&sim_att]);
    sim.call("DEL", &conf, &sim_att).unwrap();
    let sim_after_del = sim.state(&[&sim_att]);

    let mut world = KernelWorld::new();
    let att = world.add_container("ctr1");
    let main = world.netconf(&bridge, "1.0.0");
    world.in_host(|| {
        let prev = world.call("ADD", &main, &att).unwrap();
        let conf = with_prev_result(&world.netconf(&vrf, "1.0.0"), &prev);
        let mut before = String::new();
        settles(|| {
            before = world.state(&[&att]);
            !before.contains("NO-CARRIER")
        });
        match world.call("ADD", &conf, &att) {
            Err(e) => {
                assert_eq!(e.code, 5, "{e}");
                assert!(
                    e.msg.contains("driver (modprobe vrf)"),
                    "names the driver: {e}"
                );
                assert_eq!(settled(&world, &att, &before), before, "left something");
                assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null));
                eprintln!("vrf: the kernel has no driver; checked the refusal only");
            }
            Ok(_) => {
                let label = "vrf after bridge: kernel (left) and simulator (right)";
                assert_eq!(
                    settled(&world, &att, &sim_after_add),
                    sim_after_add,
                    "{label}"
                );
                assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null));
                assert_eq!(
                    settled(&world, &att, &sim_after_del),
                    sim_after_del,
                    "{label}"
                );
            }
        }
        assert_eq!(world.call("DEL", &main, &att), Ok(Value::Null));
    });
}
