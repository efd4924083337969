//! Every main plugin, every verb, at every spec version, in process on the
//! kernel simulator: ADD, CHECK against ADD's result, DEL, DEL again, and at
//! 1.1.0 STATUS and GC. Snapshots hold the printed result per version and
//! the simulated kernel after ADD and after DEL per scenario (the kernel
//! state must not depend on the spec version, which the runner asserts).

use cni_conformance::plugin_corpus::{scenarios_not_named_in, Scenario, SCENARIOS};
use cni_conformance::sim_scenarios::{with_prev_result, SimWorld};
use serde_json::{json, Value};

fn at_least(version: &str, floor: &str) -> bool {
    let parse = |v: &str| -> Vec<u32> { v.split('.').map(|p| p.parse().unwrap()).collect() };
    parse(version) >= parse(floor)
}

/// What one scenario leaves in the kernel, per version, to compare across versions.
struct KernelStates {
    after_add: String,
    after_del: String,
}

fn run_one(scenario: &Scenario, version: &str) -> KernelStates {
    let label = format!("{} at {version}", scenario.slug);
    let (world, att, conf) = SimWorld::for_scenario(scenario, version);

    let result = world
        .call("ADD", &conf, &att)
        .unwrap_or_else(|e| panic!("{label}: ADD failed: {e}"));
    assert_eq!(result["cniVersion"], version, "{label}: result version");
    insta::assert_snapshot!(
        format!("{}-v{version}-add-result", scenario.slug),
        serde_json::to_string_pretty(&result).unwrap()
    );
    let after_add = world.kernel.snapshot();
    let leases_after_add = world.leases();

    let check_conf = with_prev_result(&conf, &result);
    match world.call("CHECK", &check_conf, &att) {
        Ok(printed) if at_least(version, "0.4.0") => {
            assert_eq!(printed, Value::Null, "{label}: CHECK prints nothing")
        }
        Ok(_) => panic!("{label}: CHECK must be refused before 0.4.0"),
        Err(e) if !at_least(version, "0.4.0") => {
            assert_eq!(e.code, 1, "{label}: CHECK before 0.4.0: {e}");
            assert!(e.msg.contains("CHECK"), "{label}: {e}");
        }
        Err(e) => panic!("{label}: CHECK failed: {e}"),
    }

    if at_least(version, "1.1.0") {
        assert_eq!(
            world.call("STATUS", &conf, &att),
            Ok(Value::Null),
            "{label}"
        );
        let mut gc_conf = conf.clone();
        gc_conf["cni.dev/valid-attachments"] =
            json!([{"containerID": att.container_id, "ifname": att.ifname}]);
        assert_eq!(world.call("GC", &gc_conf, &att), Ok(Value::Null), "{label}");
        assert_eq!(
            world.kernel.snapshot(),
            after_add,
            "{label}: GC of a live attachment changed the kernel"
        );
        assert_eq!(
            world.leases(),
            leases_after_add,
            "{label}: GC released a live lease"
        );
    }
    assert_eq!(
        world.kernel.snapshot(),
        after_add,
        "{label}: CHECK changed the kernel"
    );

    assert_eq!(
        world.call("DEL", &conf, &att),
        Ok(Value::Null),
        "{label}: DEL"
    );
    let after_del = world.kernel.snapshot();
    assert_eq!(
        world.leases(),
        Vec::<std::path::PathBuf>::new(),
        "{label}: leases after DEL"
    );
    assert_eq!(
        world.call("DEL", &conf, &att),
        Ok(Value::Null),
        "{label}: DEL again"
    );
    assert_eq!(
        world.kernel.snapshot(),
        after_del,
        "{label}: DEL again changed the kernel"
    );
    KernelStates {
        after_add,
        after_del,
    }
}

fn run_scenario(slug: &str) {
    let scenario = SCENARIOS.iter().find(|s| s.slug == slug).unwrap();
    let mut states = scenario.versions.iter().map(|v| (v, run_one(scenario, v)));
    let (first_version, first) = states.next().unwrap();
    for (version, other) in states {
        assert_eq!(
            other.after_add, first.after_add,
            "{slug}: kernel after ADD differs between {first_version} and {version}"
        );
        assert_eq!(
            other.after_del, first.after_del,
            "{slug}: kernel after DEL differs between {first_version} and {version}"
        );
    }
    insta::assert_snapshot!(format!("{slug}-kernel-after-add"), first.after_add);
    insta::assert_snapshot!(format!("{slug}-kernel-after-del"), first.after_del);
}

#[test]
fn bridge_gateway_masq_default_route() {
    run_scenario("bridge-gateway-masq-default-route");
}

#[test]
fn bridge_dual_stack_mtu1400() {
    run_scenario("bridge-dual-stack-mtu1400");
}

#[test]
fn bridge_layer2() {
    run_scenario("bridge-layer2");
}

#[test]
fn ptp_masq_default_route() {
    run_scenario("ptp-masq-default-route");
}

#[test]
fn ptp_dual_stack() {
    run_scenario("ptp-dual-stack");
}

#[test]
fn macvlan_bridge_mode() {
    run_scenario("macvlan-bridge-mode");
}

#[test]
fn bridge_port_guards() {
    run_scenario("bridge-port-guards");
}

#[test]
fn macvlan_bcqueuelen() {
    run_scenario("macvlan-bcqueuelen");
}

#[test]
fn host_device() {
    run_scenario("host-device");
}

#[test]
fn ipvlan_l2() {
    run_scenario("ipvlan-l2");
}

#[test]
fn ipvlan_l3_dual_stack_mtu1400() {
    run_scenario("ipvlan-l3-dual-stack-mtu1400");
}

#[test]
fn dummy() {
    run_scenario("dummy");
}

#[test]
fn dummy_dual_stack() {
    run_scenario("dummy-dual-stack");
}

#[test]
fn vlan() {
    run_scenario("vlan");
}

#[test]
fn vlan_mtu1400() {
    run_scenario("vlan-mtu1400");
}

#[test]
fn tap() {
    run_scenario("tap");
}

#[test]
fn tap_multiqueue_owner_dual_stack_mtu1400() {
    run_scenario("tap-multiqueue-owner-dual-stack-mtu1400");
}

#[test]
fn tap_layer2_mac() {
    run_scenario("tap-layer2-mac");
}

#[test]
fn loopback() {
    run_scenario("loopback");
}

#[test]
fn every_scenario_has_a_test() {
    let source = include_str!("sim_main_plugins.rs");
    let missing = scenarios_not_named_in(source);
    assert!(missing.is_empty(), "never run: {missing:?}");
}
