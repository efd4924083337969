//! The vrf chained plugin on the simulator, after a dual-stack bridge with
//! a default gateway (the corpus's `bridge` fault case) or a dummy: the
//! interface goes into the VRF with its addresses and its routes moved into
//! the VRF's table, the table picked as the reference picks it, VRFs shared
//! by interfaces and deleted with the last one, CHECK, refusals that leave
//! nothing, DEL when things are gone, and each ADD operation failed in turn.

use cni_conformance::plugin_corpus::{CHAINED_FAULT_CASES, FAULT_CASES};
use cni_conformance::sim_scenarios::{with_prev_result, Attachment, SimWorld};
use cni_core::net::{LinkKind, NetErrorKind, Netns, RouteInfo, VrfSpec, TABLE_MAIN};
use serde_json::{json, Value};

fn bridge() -> Value {
    let case = FAULT_CASES.iter().find(|c| c.slug == "bridge").unwrap();
    (case.conf)()
}

/// The vrf config chained after `main`'s ADD printed `prev`.
fn vrf_conf(world: &SimWorld, extra: Value, prev: &Value) -> Value {
    let mut conf = json!({"name": "br-net", "type": "vrf", "vrfname": "blue"});
    for (k, v) in extra.as_object().unwrap() {
        conf[k] = v.clone();
    }
    with_prev_result(&world.netconf(&conf, "1.0.0"), prev)
}

fn routes_of(ns: &dyn Netns, index: u32) -> Vec<RouteInfo> {
    let routes = ns.routes().unwrap();
    routes
        .into_iter()
        .filter(|r| r.oif == Some(index))
        .collect()
}

#[test]
fn the_interface_goes_into_the_vrf_with_its_addresses_and_routes() {
    // The bridge keeps eth0's IPv6 addresses over a down (keep_addr_on_down);
    // without it, enslaving drops them and the plugin adds them back.
    for keep in ["1", "0"] {
        into_the_vrf(keep);
    }
}

fn into_the_vrf(keep_addr_on_down: &str) {
    let (world, attached) = SimWorld::with_attached(&bridge(), &["ctr1"]);
    let (att, prev) = &attached[0];
    let c = world.container(att);
    c.sysctl_set("net/ipv6/conf/eth0/keep_addr_on_down", keep_addr_on_down)
        .unwrap();
    let eth0 = c.link_by_name("eth0").unwrap();
    let addrs_before: Vec<_> = c.addresses(Some(eth0.index)).unwrap();
    let main_routes: Vec<RouteInfo> = routes_of(&*c, eth0.index);
    assert!(main_routes.iter().any(|r| r.dst.prefix_len() == 0));

    let conf = vrf_conf(&world, json!({"table": 100}), prev);
    let result = world.call("ADD", &conf, att).unwrap();
    assert_eq!(result, *prev, "prevResult is handed on unchanged");

    let vrf = c.link_by_name("blue").unwrap();
    assert_eq!(
        (vrf.kind, vrf.vrf_table, vrf.up),
        (LinkKind::Vrf, Some(100), true)
    );
    let eth0 = c.link_by_name("eth0").unwrap();
    assert_eq!(eth0.master, Some(vrf.index));
    let global = |a: &cni_core::net::AddressInfo| {
        !a.addr.addr().is_ipv6() || a.scope == cni_core::net::RouteScope::Universe
    };
    let kept: Vec<_> = c.addresses(Some(eth0.index)).unwrap();
    for a in addrs_before.iter().filter(|a| global(a)) {
        assert!(kept.iter().any(|k| k.addr == a.addr), "{} kept", a.addr);
    }
    let now = routes_of(&*c, eth0.index);
    assert!(
        now.iter().all(|r| r.table == 100),
        "every route of eth0 in the VRF's table: {now:?}"
    );
    for r in main_routes
        .iter()
        .filter(|r| r.scope == cni_core::net::RouteScope::Universe)
    {
        assert!(
            now.iter().any(|n| n.dst == r.dst && n.gateway == r.gateway),
            "{} moved into table 100: {now:?}",
            r.dst
        );
    }
    assert!(
        now.iter()
            .any(|r| r.dst.addr().is_ipv4() && r.gateway.is_none()),
        "the connected route comes back in the table"
    );

    assert_eq!(world.call("CHECK", &conf, att), Ok(Value::Null));
    let again = world.kernel.snapshot();
    assert_eq!(
        world.call("ADD", &conf, att),
        Ok(prev.clone()),
        "a retried ADD"
    );
    assert_eq!(
        world.kernel.snapshot(),
        again,
        "a retried ADD changes nothing"
    );
    let mut other = conf.clone();
    other["table"] = json!(101);
    let e = world.call("CHECK", &other, att).unwrap_err();
    assert!(e.msg.contains("table"), "{e}");

    assert_eq!(world.call("DEL", &conf, att), Ok(Value::Null));
    assert!(
        c.link_by_name("blue").is_err(),
        "the last interface's DEL deletes the VRF"
    );
    assert_eq!(c.link_by_name("eth0").unwrap().master, None);
    let e = world.call("CHECK", &conf, att).unwrap_err();
    assert!(e.msg.contains("VRF blue not found"), "{e}");
    assert_eq!(world.call("DEL", &conf, att), Ok(Value::Null), "DEL again");
}

#[test]
fn without_table_the_lowest_free_one_is_taken() {
    let (world, attached) = SimWorld::with_attached(&bridge(), &["ctr1"]);
    let (att, prev) = &attached[0];
    let c = world.container(att);
    for (name, table) in [("red", 1), ("green", 3)] {
        c.create_vrf(&VrfSpec {
            name: name.into(),
            table,
        })
        .unwrap();
    }
    let conf = vrf_conf(&world, json!({}), prev);
    world.call("ADD", &conf, att).unwrap();
    assert_eq!(c.link_by_name("blue").unwrap().vrf_table, Some(2));
    assert_eq!(world.call("CHECK", &conf, att), Ok(Value::Null));
}

#[test]
fn a_vrf_is_shared_and_deleted_with_its_last_interface() {
    let dummy = json!({"name": "dm", "type": "dummy",
        "ipam": {"type": "host-local", "subnet": "10.36.0.0/24"}});
    let world = SimWorld::new();
    let first = Attachment::new("shared");
    world.add_container(&first);
    let mut second = Attachment::new("shared");
    second.ifname = "eth1".into();
    let dm = world.netconf(&dummy, "1.0.0");
    let prev0 = world.call("ADD", &dm, &first).unwrap();
    let prev1 = world.call("ADD", &dm, &second).unwrap();
    let conf0 = vrf_conf(&world, json!({"table": 7}), &prev0);
    let conf1 = vrf_conf(&world, json!({}), &prev1);
    world.call("ADD", &conf0, &first).unwrap();
    world.call("ADD", &conf1, &second).unwrap();
    let c = world.container(&first);
    let vrf = c.link_by_name("blue").unwrap();
    assert_eq!(vrf.vrf_table, Some(7), "the existing VRF's table");
    for ifname in ["eth0", "eth1"] {
        assert_eq!(c.link_by_name(ifname).unwrap().master, Some(vrf.index));
    }
    world.call("DEL", &conf0, &first).unwrap();
    assert!(c.link_by_name("blue").is_ok(), "eth1 is still in it");
    assert_eq!(c.link_by_name("eth0").unwrap().master, None);
    world.call("DEL", &conf1, &second).unwrap();
    assert!(c.link_by_name("blue").is_err());
    world.call("DEL", &dm, &first).unwrap();
    world.call("DEL", &dm, &second).unwrap();
    assert!(world.leases().is_empty());
}

#[test]
fn refusals_name_the_field_and_leave_nothing() {
    let (world, attached) = SimWorld::with_attached(&bridge(), &["ctr1"]);
    let (att, prev) = &attached[0];
    let c = world.container(att);
    c.create_vrf(&VrfSpec {
        name: "red".into(),
        table: 5,
    })
    .unwrap();
    c.create_dummy(&cni_core::net::DummySpec {
        name: "notvrf".into(),
        mac: None,
        txqueuelen: None,
    })
    .unwrap();
    let refuse = |conf: Value, att: &Attachment, starts: &str| {
        let before = world.kernel.snapshot();
        let e = world.call("ADD", &conf, att).unwrap_err();
        assert_eq!(e.code, 7, "{e}");
        assert!(e.msg.starts_with(starts), "{starts}: {e}");
        assert_eq!(world.kernel.snapshot(), before, "{starts}: left something");
    };
    let mut no_prev = vrf_conf(&world, json!({}), prev);
    no_prev.as_object_mut().unwrap().remove("prevResult");
    refuse(no_prev, att, "prevResult: required");
    let mut no_name = vrf_conf(&world, json!({}), prev);
    no_name.as_object_mut().unwrap().remove("vrfname");
    refuse(no_name, att, "vrfname: required");
    refuse(
        vrf_conf(&world, json!({"vrfname": "red", "table": 6}), prev),
        att,
        "table: VRF red already exists with table 5",
    );
    refuse(
        vrf_conf(&world, json!({"vrfname": "notvrf"}), prev),
        att,
        "vrfname: notvrf exists",
    );
    refuse(
        vrf_conf(&world, json!({"table": 255}), prev),
        att,
        "table: 255",
    );
    let mut absent = att.clone();
    absent.ifname = "eth9".into();
    refuse(
        vrf_conf(&world, json!({}), prev),
        &absent,
        "prevResult: no interface eth9",
    );
    let eth0 = c.link_by_name("eth0").unwrap();
    let red = c.link_by_name("red").unwrap();
    c.set_master(eth0.index, Some(red.index)).unwrap();
    refuse(
        vrf_conf(&world, json!({}), prev),
        att,
        "vrfname: eth0 already has a master (red)",
    );
    // DEL of a VRF that is not ours or not a VRF changes nothing.
    let before = world.kernel.snapshot();
    assert_eq!(
        world.call(
            "DEL",
            &vrf_conf(&world, json!({"vrfname": "notvrf"}), prev),
            att
        ),
        Ok(Value::Null)
    );
    assert_eq!(
        world.call("DEL", &vrf_conf(&world, json!({}), prev), att),
        Ok(Value::Null)
    );
    let reserved = vrf_conf(&world, json!({"table": 254}), prev);
    assert_eq!(
        world.call("DEL", &reserved, att),
        Ok(Value::Null),
        "DEL does not read table"
    );
    assert_eq!(world.kernel.snapshot(), before);
}

#[test]
fn del_survives_a_missing_namespace_or_interface() {
    let (world, attached) = SimWorld::with_attached(&bridge(), &["ctr1"]);
    let (att, prev) = &attached[0];
    let conf = vrf_conf(&world, json!({"table": 9}), prev);
    world.call("ADD", &conf, att).unwrap();
    let c = world.container(att);
    let eth0 = c.link_by_name("eth0").unwrap();
    c.delete_link(eth0.index).unwrap();
    assert_eq!(world.call("DEL", &conf, att), Ok(Value::Null));
    assert!(c.link_by_name("blue").is_err(), "no interface left in it");
    world.kernel.del_netns(&att.netns).unwrap();
    assert_eq!(world.call("DEL", &conf, att), Ok(Value::Null));
}

/// Each operation of the vrf ADD failed in turn, on a fresh kernel each
/// time: the ADD fails with code 5, the kernel is as before it, DEL
/// succeeds, and an ADD retried without faults succeeds.
#[test]
fn each_failed_operation_of_add_is_undone() {
    let case = CHAINED_FAULT_CASES
        .iter()
        .find(|c| c.slug == "vrf")
        .unwrap();
    let attach = || {
        let (world, mut attached) = SimWorld::with_attached(&bridge(), &["ctr1"]);
        let (att, prev) = attached.remove(0);
        let main = world.netconf(&bridge(), "1.0.0");
        let conf = world.netconf(&case.netconf(&main, &prev), "1.0.0");
        (world, att, conf)
    };
    let (world, att, conf) = attach();
    let first = world.faults.op_count();
    world.call("ADD", &conf, &att).unwrap();
    let total = world.faults.op_count() - first;
    assert!(
        total >= case.min_ops,
        "a successful ADD ran only {total} operations"
    );
    for n in 1..=total {
        let (world, att, conf) = attach();
        let before = world.kernel.snapshot();
        let (outcome, op) = world
            .faults
            .with_nth_failing(n, NetErrorKind::Other, || world.call("ADD", &conf, &att));
        let label = format!("#{n} ({op:?}) failing");
        let e = outcome.expect_err(&label);
        assert_eq!(e.code, 5, "{label}: {e}");
        assert_eq!(world.kernel.snapshot(), before, "{label}: not undone");
        assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null), "{label}");
        world
            .call("ADD", &conf, &att)
            .unwrap_or_else(|e| panic!("{label}, then ADD: {e}"));
        let c = world.container(&att);
        let vrf = c.link_by_name("blue").unwrap();
        let eth0 = c.link_by_name("eth0").unwrap();
        assert_eq!(eth0.master, Some(vrf.index), "{label}, then ADD");
        assert!(routes_of(&*c, eth0.index)
            .iter()
            .all(|r| r.table != TABLE_MAIN));
    }
}

/// The container's whole state after the bridge and the vrf ADD, and after
/// the vrf DEL, as snapshots.
#[test]
fn container_state_after_add_and_del() {
    let (world, attached) = SimWorld::with_attached(&bridge(), &["ctr1"]);
    let (att, prev) = &attached[0];
    let conf = vrf_conf(&world, json!({"table": 100}), prev);
    world.call("ADD", &conf, att).unwrap();
    let ns = cni_core::net::NsRef::path(&att.netns);
    insta::assert_snapshot!("vrf-after-add", world.kernel.snapshot_ns(&ns).unwrap());
    world.call("DEL", &conf, att).unwrap();
    insta::assert_snapshot!("vrf-after-del", world.kernel.snapshot_ns(&ns).unwrap());
}
