//! ipvlan and vlan on the simulator, beyond the corpus (`sim_main_plugins.rs`:
//! every verb and version, snapshots) and the fault sweeps: the master
//! (default route, `linkInContainer`, absent), the MAC shared with the
//! master, CHECK naming a changed mode or id, the kernel's refusals before
//! anything is left, and DEL when things are already gone.

use cni_conformance::sim_scenarios::{with_prev_result, Attachment, SimWorld};
use cni_core::net::{IpvlanMode, LinkKind, NsRef, VethSpec};
use serde_json::{json, Value};

fn ipvlan(mode: &str) -> Value {
    json!({"name": "iv-net", "type": "ipvlan", "master": "uplink0", "mode": mode,
        "ipam": {"type": "host-local", "subnet": "10.70.0.0/24"}})
}

fn vlan(id: u16) -> Value {
    json!({"name": "vl-net", "type": "vlan", "master": "uplink0", "vlanId": id,
        "ipam": {"type": "host-local", "subnet": "10.71.0.0/24"}})
}

/// A kernel with the uplink and container `id`; the config at 1.0.0.
fn world_for(conf: &Value, id: &str) -> (SimWorld, Attachment, Value) {
    let world = SimWorld::new();
    world.add_uplink("uplink0", "uplink1");
    let att = Attachment::new(id);
    world.add_container(&att);
    let conf = world.netconf(conf, "1.0.0");
    (world, att, conf)
}

#[test]
fn both_share_the_masters_mac_and_report_it() {
    for conf in [ipvlan("l3"), vlan(5)] {
        let (world, att, conf) = world_for(&conf, "mac");
        let result = world.call("ADD", &conf, &att).unwrap();
        let uplink = world.host().link_by_name("uplink0").unwrap();
        let eth0 = world.container(&att).link_by_name("eth0").unwrap();
        assert_eq!(eth0.mac, uplink.mac, "{conf}");
        assert_eq!(result["interfaces"][0]["mac"], uplink.mac.to_string());
        assert_eq!(eth0.parent_index, Some(uplink.index));
        assert_eq!(eth0.txqueuelen, 1000, "never a queue length of 0");
    }
}

#[test]
fn ipvlan_without_master_uses_the_default_route_interface() {
    let mut conf = ipvlan("l2");
    conf.as_object_mut().unwrap().remove("master");
    let (world, att, conf) = world_for(&conf, "iv-default");
    world.call("ADD", &conf, &att).unwrap();
    let uplink = world.host().link_by_name("uplink0").unwrap();
    let eth0 = world.container(&att).link_by_name("eth0").unwrap();
    assert_eq!(
        (eth0.kind, eth0.ipvlan_mode, eth0.parent_index),
        (LinkKind::Ipvlan, Some(IpvlanMode::L2), Some(uplink.index))
    );
    world.call("DEL", &conf, &att).unwrap();
    assert!(world.leases().is_empty());
}

#[test]
fn vlan_requires_master_and_a_valid_id_before_anything_changes() {
    let mut no_master = vlan(1);
    no_master.as_object_mut().unwrap().remove("master");
    let (world, att, conf) = world_for(&no_master, "vl-nomaster");
    let e = world.add_refused(&conf, &att);
    assert_eq!(e.code, 7, "{e}");
    assert!(e.msg.starts_with("master: required"), "{e}");

    let mut bad_id = vlan(1);
    bad_id["vlanId"] = json!(4095);
    let conf = world.netconf(&bad_id, "1.0.0");
    let e = world.add_refused(&conf, &att);
    assert!(e.msg.starts_with("vlanId"), "{e}");

    let mut missing = vlan(1);
    missing["master"] = json!("nosuch0");
    let conf = world.netconf(&missing, "1.0.0");
    let e = world.add_refused(&conf, &att);
    assert_eq!(e.code, 7, "{e}");
    assert!(e.msg.starts_with("master: link nosuch0 not found"), "{e}");
}

#[test]
fn link_in_container_puts_both_on_a_parent_inside_the_container() {
    for (mut conf, kind) in [(ipvlan("l3s"), LinkKind::Ipvlan), (vlan(9), LinkKind::Vlan)] {
        conf["master"] = json!("inner0");
        conf["linkInContainer"] = json!(true);
        let world = SimWorld::new();
        let att = Attachment::new("inner");
        world.add_container(&att);
        let container = world.container(&att);
        let inner = container
            .create_veth(&VethSpec::new("inner0", "inner1"), &NsRef::path(&att.netns))
            .unwrap();
        let host_before = world.kernel.snapshot_ns(&NsRef::Current).unwrap();
        let conf = world.netconf(&conf, "1.0.0");
        world.call("ADD", &conf, &att).unwrap();
        let eth0 = container.link_by_name("eth0").unwrap();
        assert_eq!(
            (eth0.kind, eth0.parent_index),
            (kind, Some(inner.local.index))
        );
        world.call("DEL", &conf, &att).unwrap();
        assert!(container.link_by_name("eth0").is_err());
        assert!(container.link_by_name("inner0").is_ok(), "the parent stays");
        let host_after = world.kernel.snapshot_ns(&NsRef::Current).unwrap();
        assert_eq!(host_before, host_after, "the host is not touched");
    }
}

#[test]
fn check_names_a_changed_mode_or_id() {
    let cases = [
        (ipvlan("l2"), json!("l3"), "mode", "ipvlan mode"),
        (vlan(10), json!(11), "vlanId", "vlan id"),
    ];
    for (conf, other, key, says) in cases {
        let (world, att, conf) = world_for(&conf, "check");
        let result = world.call("ADD", &conf, &att).unwrap();
        let check = with_prev_result(&conf, &result);
        assert_eq!(world.call("CHECK", &check, &att), Ok(Value::Null));
        let mut changed = check.clone();
        changed[key] = other;
        let e = world.call("CHECK", &changed, &att).unwrap_err();
        assert!(e.msg.contains(says), "{e}");
        world.call("DEL", &conf, &att).unwrap();
        let e = world.call("CHECK", &check, &att).unwrap_err();
        assert!(
            e.msg.contains("eth0"),
            "CHECK after DEL names the interface: {e}"
        );
    }
}

#[test]
fn kernel_refusals_leave_nothing() {
    // A second vlan with the same id on the same master.
    let (world, att, conf) = world_for(&vlan(42), "first");
    world.call("ADD", &conf, &att).unwrap();
    let second = Attachment::new("second");
    world.add_container(&second);
    let before = world.kernel.snapshot();
    let e = world.call("ADD", &conf, &second).unwrap_err();
    assert_eq!(e.code, 5, "{e}");
    assert!(e.msg.contains("creating vlan eth0 on uplink0"), "{e}");
    assert_eq!(world.kernel.snapshot(), before);
    assert_eq!(world.leases().len(), 1, "only the first's lease");

    // An ipvlan on a master that carries a macvlan (the kernel: EBUSY).
    let macvlan = json!({"name": "mv", "type": "macvlan", "master": "uplink0",
        "ipam": {"type": "host-local", "subnet": "10.72.0.0/24"}});
    let (world, att, mv) = world_for(&macvlan, "mv");
    world.call("ADD", &mv, &att).unwrap();
    let iv = Attachment::new("iv");
    world.add_container(&iv);
    let conf = world.netconf(&ipvlan("l2"), "1.0.0");
    let before = world.kernel.snapshot();
    let e = world.call("ADD", &conf, &iv).unwrap_err();
    assert_eq!(e.code, 11, "busy is try-again-later: {e}");
    assert_eq!(world.kernel.snapshot(), before);

    // An mtu above the master's.
    let mut big = ipvlan("l2");
    big["mtu"] = json!(9000);
    let (world, att, conf) = world_for(&big, "big");
    let e = world.add_refused(&conf, &att);
    assert!(e.msg.contains("mtu 9000"), "{e}");
}

#[test]
fn del_is_idempotent_and_survives_a_missing_namespace_or_link() {
    for conf in [ipvlan("l2"), vlan(3)] {
        let (world, att, conf) = world_for(&conf, "del");
        world.call("ADD", &conf, &att).unwrap();
        let c = world.container(&att);
        let eth0 = c.link_by_name("eth0").unwrap();
        c.delete_link(eth0.index).unwrap();
        assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null));
        assert!(world.leases().is_empty(), "the lease goes with DEL");
        assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null));
        world.kernel.del_netns(&att.netns).unwrap();
        assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null));
    }
}

#[test]
fn deleting_the_master_takes_the_stacked_links_with_it() {
    for conf in [ipvlan("l2"), vlan(3)] {
        let (world, att, conf) = world_for(&conf, "gone");
        world.call("ADD", &conf, &att).unwrap();
        let host = world.host();
        let uplink = host.link_by_name("uplink0").unwrap();
        host.delete_link(uplink.index).unwrap();
        assert!(world.container(&att).link_by_name("eth0").is_err());
        assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null));
    }
}

/// Chained after a plugin whose result lists one interface, ipvlan without
/// `master` takes that interface as its master, and without IPAM the
/// previous result's addresses and routes (as the reference's ipvlan).
#[test]
fn chained_ipvlan_takes_master_and_addresses_from_prev_result() {
    let world = SimWorld::new();
    world.add_uplink("uplink0", "uplink1");
    let att = Attachment::new("chained");
    world.add_container(&att);
    let uplink = world.host().link_by_name("uplink0").unwrap();
    let prev = json!({"cniVersion": "1.0.0",
        "interfaces": [{"name": "uplink0"}],
        "ips": [{"address": "10.73.0.5/24", "gateway": "10.73.0.1", "interface": 0}],
        "routes": [{"dst": "10.74.0.0/16"}]});
    let conf = json!({"name": "iv-chain", "type": "ipvlan", "mode": "l2"});
    let conf = with_prev_result(&world.netconf(&conf, "1.0.0"), &prev);
    let result = world.call("ADD", &conf, &att).unwrap();
    let c = world.container(&att);
    let eth0 = c.link_by_name("eth0").unwrap();
    assert_eq!(
        (eth0.kind, eth0.parent_index),
        (LinkKind::Ipvlan, Some(uplink.index))
    );
    let addrs = c.addresses(Some(eth0.index)).unwrap();
    assert!(addrs.iter().any(|a| a.addr.to_string() == "10.73.0.5/24"));
    let routes = c.routes().unwrap();
    assert!(routes
        .iter()
        .any(|r| r.dst.to_string() == "10.74.0.0/16" && r.oif == Some(eth0.index)));
    assert_eq!(result["interfaces"][0]["name"], "eth0");
    assert_eq!(result["ips"][0]["address"], "10.73.0.5/24");
    assert_eq!(result["ips"][0]["interface"], 0);
    assert!(world.leases().is_empty(), "no IPAM ran");
    world.call("DEL", &conf, &att).unwrap();
    assert!(c.link_by_name("eth0").is_err());

    // `master` given wins over the previous result.
    let mut named = conf.clone();
    named["master"] = json!("uplink0");
    named["prevResult"]["interfaces"] = json!([{"name": "nosuch0"}]);
    world.call("ADD", &named, &att).unwrap();
    world.call("DEL", &named, &att).unwrap();

    // Anything but exactly one named interface is refused, naming `master`.
    for interfaces in [
        json!([]),
        json!([{"name": ""}]),
        json!([{"name": "uplink0"}, {"name": "eth0", "sandbox": att.netns}]),
    ] {
        let mut bad = conf.clone();
        bad["prevResult"]["interfaces"] = interfaces.clone();
        let e = world.add_refused(&bad, &att);
        assert_eq!(e.code, 7, "{interfaces}: {e}");
        assert!(
            e.msg.starts_with("master: not set, and prevResult lists"),
            "{e}"
        );
    }
}
