//! bandwidth chained after bridge + host-local, in process on the simulator:
//! each verb, CHECK naming what differs, DEL when things are gone, and each
//! backend operation of an ADD failed in turn.

use cni_conformance::faults::NetOp;
use cni_conformance::sim_scenarios::{with_prev_result, Attachment, SimWorld};
use cni_core::net::{RootQdisc, TokenBucket};
use cni_plugins::bandwidth::ifb_name;
use serde_json::{json, Value};

const NET: &str = "bw-net";

fn bridge_conf() -> Value {
    json!({"name": NET, "type": "bridge", "bridge": "cni-bw",
        "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.32.0.0/24"}]]}})
}

fn bandwidth_conf(prev: &Value) -> Value {
    let conf = json!({"cniVersion": "1.0.0", "name": NET, "type": "bandwidth",
        "runtimeConfig": {"bandwidth": {
            "ingressRate": 8_000_000, "ingressBurst": 80_000,
            "egressRate": 16_000_000, "egressBurst": 160_000}}});
    with_prev_result(&conf, prev)
}

fn attached() -> (SimWorld, Attachment, Value) {
    let (world, mut attached) = SimWorld::with_attached(&bridge_conf(), &["c1"]);
    let (att, prev) = attached.remove(0);
    (world, att, prev)
}

fn host_veth_index(world: &SimWorld, att: &Attachment) -> u32 {
    let eth0 = world.container(att).link_by_name("eth0").unwrap();
    eth0.peer_index.unwrap()
}

#[test]
fn add_shapes_both_directions_and_lists_the_ifb() {
    let (world, att, prev) = attached();
    let out = world.call("ADD", &bandwidth_conf(&prev), &att).unwrap();
    let ifb = ifb_name(NET, "c1");
    let names: Vec<&str> = out["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.last(), Some(&ifb.as_str()), "{names:?}");
    assert_eq!(out["ips"], prev["ips"]);
    let host = world.host();
    let veth = host.shaping(host_veth_index(&world, &att)).unwrap();
    assert_eq!(
        veth.root,
        RootQdisc::Tbf(TokenBucket::from_bits(8_000_000, 80_000))
    );
    let ifb_link = host.link_by_name(&ifb).unwrap();
    assert_eq!(veth.ingress_redirects, Some(vec![ifb_link.index]));
    assert!(ifb_link.up && ifb_link.txqueuelen > 0);
    assert_eq!(
        host.shaping(ifb_link.index).unwrap().root,
        RootQdisc::Tbf(TokenBucket::from_bits(16_000_000, 160_000))
    );
}

#[test]
fn check_passes_then_names_the_rate_that_differs() {
    let (world, att, prev) = attached();
    let conf = bandwidth_conf(&prev);
    world.call("ADD", &conf, &att).unwrap();
    world.call("CHECK", &conf, &att).unwrap();
    let mut other = conf.clone();
    other["runtimeConfig"]["bandwidth"]["egressRate"] = json!(24_000_000);
    let e = world.call("CHECK", &other, &att).unwrap_err();
    assert!(e.msg.contains(&ifb_name(NET, "c1")), "{}", e.msg);
    assert!(
        e.msg
            .contains("rate (bytes/s) is 2000000, expected 3000000"),
        "{}",
        e.msg
    );
}

#[test]
fn del_removes_ifb_and_qdiscs_and_succeeds_again() {
    let (world, att, prev) = attached();
    let conf = bandwidth_conf(&prev);
    let before = world.kernel.snapshot();
    world.call("ADD", &conf, &att).unwrap();
    world.call("DEL", &conf, &att).unwrap();
    assert_eq!(world.kernel.snapshot(), before);
    world.call("DEL", &conf, &att).unwrap();
    let e = world.call("CHECK", &conf, &att).unwrap_err();
    assert!(e.msg.contains("no tbf qdisc"), "{}", e.msg);
}

#[test]
fn del_never_fails_on_a_config_only_add_refuses_nor_without_the_container() {
    let (world, att, prev) = attached();
    let conf = bandwidth_conf(&prev);
    world.call("ADD", &conf, &att).unwrap();
    let mut bad = conf.clone();
    bad["runtimeConfig"]["bandwidth"]["ingressBurst"] = json!(0);
    assert_eq!(world.call("ADD", &bad, &att).unwrap_err().code, 7);
    let mut gone = att.clone();
    gone.netns = "/var/run/netns/no-such-container".to_string();
    world.call("DEL", &bad, &gone).unwrap();
    assert!(world.host().link_by_name(&ifb_name(NET, "c1")).is_err());
}

#[test]
fn without_limits_nothing_changes_and_without_prev_result_add_is_refused() {
    let (world, att, prev) = attached();
    let mut conf = bandwidth_conf(&prev);
    conf["runtimeConfig"] = json!({});
    let before = world.faults.op_count();
    assert_eq!(world.call("ADD", &conf, &att).unwrap(), prev);
    assert_eq!(world.faults.op_count(), before);
    let mut bare = bandwidth_conf(&prev);
    bare.as_object_mut().unwrap().remove("prevResult");
    let e = world.call("ADD", &bare, &att).unwrap_err();
    assert_eq!(e.code, 7);
    assert!(e.msg.starts_with("prevResult"), "{}", e.msg);
}

#[test]
fn each_failed_operation_of_an_add_leaves_the_state_as_it_was() {
    let (world, att, prev) = attached();
    let conf = bandwidth_conf(&prev);
    let start = world.kernel.snapshot();
    let seen = world.fail_each_op_of_add(&conf, &att, |n| {
        assert_eq!(world.kernel.snapshot(), start, "op {n}");
    });
    for op in [NetOp::CreateIfb, NetOp::TbfAdd, NetOp::IngressRedirectAdd] {
        assert!(seen.contains(&op), "{op:?} not in {seen:?}");
    }
}
