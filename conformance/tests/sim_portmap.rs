//! portmap chained after bridge + host-local, in process on the simulator:
//! every verb, GC, CHECK naming what is missing, and each backend operation
//! of an ADD failed in turn.

use cni_conformance::faults::NetOp;
use cni_conformance::sim_scenarios::{gc_keeping, with_prev_result, SimWorld};
use cni_core::net::PortMapRule;
use serde_json::{json, Value};

fn bridge_conf() -> Value {
    json!({"name": "pm-net", "type": "bridge", "bridge": "cni-pm", "isGateway": true,
        "ipam": {"type": "host-local", "ranges": [
            [{"subnet": "10.31.0.0/24"}], [{"subnet": "fd31::/64"}]]}})
}

fn portmap_conf(prev: &Value) -> Value {
    let conf = json!({"cniVersion": "1.0.0", "name": "pm-net", "type": "portmap",
        "runtimeConfig": {"portMappings": [
            {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
            {"hostPort": 5353, "containerPort": 53, "protocol": "udp", "hostIP": "192.0.2.1"}]}});
    with_prev_result(&conf, prev)
}

#[test]
fn add_passes_prev_result_through_and_maps_both_families() {
    let (world, atts) = SimWorld::with_attached(&bridge_conf(), &["c1"]);
    let (att, prev) = &atts[0];
    let out = world.call("ADD", &portmap_conf(prev), att).unwrap();
    assert_eq!(&out, prev);
    let sets = world.host().portmap_list().unwrap();
    assert_eq!(sets.len(), 1);
    let dnat_targets: Vec<String> = sets[0]
        .rules
        .iter()
        .filter_map(|r| match r {
            PortMapRule::Dnat { to, .. } => Some(to.to_string()),
            _ => None,
        })
        .collect();
    // tcp 8080 to both families; udp on an IPv4 hostIP to the IPv4 address only.
    assert_eq!(dnat_targets.len(), 3, "{dnat_targets:?}");
    assert!(dnat_targets.iter().any(|t| t.starts_with("[fd31::")));
    let localnet = world
        .host()
        .sysctl_get("net/ipv4/conf/cni-pm/route_localnet")
        .unwrap();
    assert_eq!(localnet, "1");
}

#[test]
fn check_passes_then_names_the_missing_rule_and_del_removes_everything() {
    let (world, atts) = SimWorld::with_attached(&bridge_conf(), &["c1"]);
    let (att, prev) = &atts[0];
    let conf = portmap_conf(prev);
    world.call("ADD", &conf, att).unwrap();
    world.call("CHECK", &conf, att).unwrap();
    // Another mapping in the config than the kernel holds: CHECK names it.
    let mut other = conf.clone();
    other["runtimeConfig"]["portMappings"][0]["hostPort"] = json!(9090);
    let e = world.call("CHECK", &other, att).unwrap_err();
    assert!(e.msg.contains("tcp port 9090"), "{}", e.msg);
    world.call("DEL", &conf, att).unwrap();
    assert!(world.host().portmap_list().unwrap().is_empty());
    let e = world.call("CHECK", &conf, att).unwrap_err();
    assert!(e.msg.contains("not found"), "{}", e.msg);
    world.call("DEL", &conf, att).unwrap();
}

#[test]
fn gc_removes_only_attachments_not_valid() {
    let (world, atts) = SimWorld::with_attached(&bridge_conf(), &["c1", "c2"]);
    for (att, prev) in &atts {
        world.call("ADD", &portmap_conf(prev), att).unwrap();
    }
    let gc = gc_keeping(&json!({"name": "pm-net", "type": "portmap"}), &["c2"]);
    world.call("GC", &gc, &atts[0].0).unwrap();
    let left: Vec<String> = world
        .host()
        .portmap_list()
        .unwrap()
        .into_iter()
        .map(|s| s.container_id)
        .collect();
    assert_eq!(left, ["c2"]);
}

#[test]
fn without_mappings_nothing_changes_and_without_prev_result_add_is_refused() {
    let (world, atts) = SimWorld::with_attached(&bridge_conf(), &["c1"]);
    let (att, prev) = &atts[0];
    let mut conf = portmap_conf(prev);
    conf["runtimeConfig"] = json!({});
    let before = world.faults.op_count();
    assert_eq!(&world.call("ADD", &conf, att).unwrap(), prev);
    assert_eq!(world.faults.op_count(), before, "{:?}", world.faults.ops());
    let mut bare = portmap_conf(prev);
    bare.as_object_mut().unwrap().remove("prevResult");
    let e = world.call("ADD", &bare, att).unwrap_err();
    assert_eq!(e.code, 7);
    assert!(e.msg.starts_with("prevResult"), "{}", e.msg);
}

#[test]
fn each_failed_operation_of_an_add_leaves_no_rule() {
    let (world, atts) = SimWorld::with_attached(&bridge_conf(), &["c1"]);
    let (att, prev) = &atts[0];
    let conf = portmap_conf(prev);
    let start = world.kernel.snapshot();
    let ops = world.fail_each_op_of_add(&conf, att, |n| {
        assert!(world.host().portmap_list().unwrap().is_empty(), "op {n}");
        world.call("DEL", &conf, att).unwrap();
    });
    assert!(ops.contains(&NetOp::PortmapAdd), "{ops:?}");
    // route_localnet is a shared host setting the first ADD turned on.
    let end = world.kernel.snapshot();
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("route_localnet"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&start), strip(&end));
}
