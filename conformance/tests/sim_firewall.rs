//! firewall chained after bridge + host-local, in process on the simulator:
//! every verb, GC, CHECK naming what is missing, and each backend operation
//! of an ADD failed in turn.

use cni_conformance::faults::NetOp;
use cni_conformance::sim_scenarios::{gc_keeping, with_prev_result, SimWorld};
use cni_core::net::FirewallRule;
use serde_json::{json, Value};

fn bridge_conf() -> Value {
    json!({"name": "fw-net", "type": "bridge", "bridge": "cni-fw", "isGateway": true,
        "ipam": {"type": "host-local", "ranges": [
            [{"subnet": "10.32.0.0/24"}], [{"subnet": "fd32::/64"}]]}})
}

fn firewall_conf(prev: &Value, ingress: &str) -> Value {
    let conf = json!({"cniVersion": "1.0.0", "name": "fw-net", "type": "firewall",
        "ingressPolicy": ingress});
    with_prev_result(&conf, prev)
}

#[test]
fn add_passes_prev_result_through_and_allows_both_families() {
    let (world, atts) = SimWorld::with_attached(&bridge_conf(), &["c1"]);
    let (att, prev) = &atts[0];
    let out = world
        .call("ADD", &firewall_conf(prev, "open"), att)
        .unwrap();
    assert_eq!(&out, prev);
    let sets = world.host().firewall_list().unwrap();
    assert_eq!(sets.len(), 1);
    let accepted: Vec<String> = sets[0]
        .rules
        .iter()
        .filter_map(|r| match r {
            FirewallRule::AcceptFrom(ip) => Some(ip.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(accepted.len(), 2, "{accepted:?}");
    assert!(accepted.iter().any(|a| a.starts_with("fd32::")));
    assert!(!sets[0].rules.iter().any(FirewallRule::is_drop));
}

#[test]
fn same_bridge_drops_new_connections_not_from_the_bridge() {
    let (world, atts) = SimWorld::with_attached(&bridge_conf(), &["c1"]);
    let (att, prev) = &atts[0];
    world
        .call("ADD", &firewall_conf(prev, "same-bridge"), att)
        .unwrap();
    let rules = &world.host().firewall_list().unwrap()[0].rules;
    let drops: Vec<&FirewallRule> = rules.iter().filter(|r| r.is_drop()).collect();
    assert_eq!(drops.len(), 2, "{rules:?}");
    assert!(drops.iter().all(|r| matches!(r,
        FirewallRule::DropNewTo { except_in: Some(b), .. } if b == "cni-fw")));
}

#[test]
fn check_passes_then_names_the_missing_rule_and_del_removes_everything() {
    let (world, atts) = SimWorld::with_attached(&bridge_conf(), &["c1"]);
    let (att, prev) = &atts[0];
    let conf = firewall_conf(prev, "open");
    world.call("ADD", &conf, att).unwrap();
    world.call("CHECK", &conf, att).unwrap();
    // A stricter policy in the config than the kernel holds: CHECK names it.
    let e = world
        .call("CHECK", &firewall_conf(prev, "isolated"), att)
        .unwrap_err();
    assert!(
        e.msg.contains("drop new connections to 10.32.0."),
        "{}",
        e.msg
    );
    world.call("DEL", &conf, att).unwrap();
    assert!(world.host().firewall_list().unwrap().is_empty());
    let e = world.call("CHECK", &conf, att).unwrap_err();
    assert!(
        e.msg.contains("accept from") && e.msg.contains("not found"),
        "{}",
        e.msg
    );
    world.call("DEL", &conf, att).unwrap();
}

#[test]
fn del_succeeds_on_a_config_add_would_refuse() {
    let (world, atts) = SimWorld::with_attached(&bridge_conf(), &["c1"]);
    let (att, prev) = &atts[0];
    world
        .call("ADD", &firewall_conf(prev, "open"), att)
        .unwrap();
    let mut bad = firewall_conf(prev, "closed");
    bad["backend"] = json!("iptables");
    bad.as_object_mut().unwrap().remove("prevResult");
    assert_eq!(world.call("ADD", &bad, att).unwrap_err().code, 7);
    world.call("DEL", &bad, att).unwrap();
    assert!(world.host().firewall_list().unwrap().is_empty());
}

#[test]
fn gc_removes_only_attachments_not_valid() {
    let (world, atts) = SimWorld::with_attached(&bridge_conf(), &["c1", "c2"]);
    for (att, prev) in &atts {
        world
            .call("ADD", &firewall_conf(prev, "open"), att)
            .unwrap();
    }
    let gc = gc_keeping(&json!({"name": "fw-net", "type": "firewall"}), &["c2"]);
    world.call("GC", &gc, &atts[0].0).unwrap();
    let left: Vec<String> = world
        .host()
        .firewall_list()
        .unwrap()
        .into_iter()
        .map(|s| s.container_id)
        .collect();
    assert_eq!(left, ["c2"]);
}

#[test]
fn status_succeeds_and_without_prev_result_add_is_refused() {
    let (world, atts) = SimWorld::with_attached(&bridge_conf(), &["c1"]);
    let (att, prev) = &atts[0];
    let conf = firewall_conf(prev, "open");
    let mut status = conf.clone();
    status["cniVersion"] = json!("1.1.0");
    world.call("STATUS", &status, att).unwrap();
    let mut bare = conf.clone();
    bare.as_object_mut().unwrap().remove("prevResult");
    let e = world.call("ADD", &bare, att).unwrap_err();
    assert_eq!(e.code, 7);
    assert!(e.msg.starts_with("prevResult"), "{}", e.msg);
}

#[test]
fn each_failed_operation_of_an_add_leaves_the_state_as_it_was() {
    let (world, atts) = SimWorld::with_attached(&bridge_conf(), &["c1"]);
    let (att, prev) = &atts[0];
    let conf = firewall_conf(prev, "same-bridge");
    let start = world.kernel.snapshot();
    let ops = world.fail_each_op_of_add(&conf, att, |n| {
        assert_eq!(world.kernel.snapshot(), start, "op {n}");
    });
    assert!(ops.contains(&NetOp::FirewallAdd), "{ops:?}");
}
