//! The reference's configuration keys that are more than plain fields, in
//! process on the simulator: `macspoofchk`, `portIsolation`, `enabledad`
//! (bridge), `bcqueuelen` (macvlan), the VLAN keys refused, and the
//! sysctls the reference sets on the links it makes.

use cni_conformance::faults::NetOp;
use cni_conformance::sim_scenarios::{gc_keeping, Attachment, SimWorld};
use cni_core::net::{LinkKind, NetErrorKind, Netns, NsRef};
use serde_json::{json, Value};

fn bridge_conf(extra: Value) -> Value {
    let mut conf = json!({"cniVersion": "1.0.0", "name": "keys-net", "type": "bridge",
        "bridge": "kbr0", "isGateway": true,
        "ipam": {"type": "host-local", "ranges": [
            [{"subnet": "10.40.0.0/24"}], [{"subnet": "fd40::/64"}]]}});
    for (k, v) in extra.as_object().unwrap() {
        conf[k] = v.clone();
    }
    conf
}

fn world_with(conf: &Value, ids: &[&str]) -> (SimWorld, Vec<Attachment>, Value) {
    let world = SimWorld::new();
    if conf["type"] == "macvlan" {
        world.add_uplink("uplink0", "uplink1");
    }
    let atts: Vec<Attachment> = ids.iter().map(|id| Attachment::new(id)).collect();
    for att in &atts {
        world.add_container(att);
    }
    let conf = world.netconf(conf, "1.0.0");
    (world, atts, conf)
}

fn host_veth(host: &dyn Netns) -> Vec<cni_core::net::LinkInfo> {
    let mut veths: Vec<_> = host
        .links()
        .unwrap()
        .into_iter()
        .filter(|l| l.kind == LinkKind::Veth)
        .collect();
    veths.sort_by_key(|l| l.name.clone());
    veths
}

#[test]
fn macspoofchk_checks_the_container_mac_on_its_port_until_del() {
    let (world, atts, conf) = world_with(&bridge_conf(json!({"macspoofchk": true})), &["c1", "c2"]);
    for att in &atts {
        world.call("ADD", &conf, att).unwrap();
    }
    let host = world.host();
    let checks = host.spoofcheck_list().unwrap();
    assert_eq!(checks.len(), 2, "{checks:?}");
    for att in &atts {
        let eth0 = world.container(att).link_by_name("eth0").unwrap();
        let port = host.link_by_index(eth0.peer_index.unwrap()).unwrap();
        let check = checks
            .iter()
            .find(|c| c.container_id == att.container_id)
            .expect("a check per attachment");
        assert_eq!(
            (check.network.as_str(), check.iface.as_str(), check.mac),
            ("keys-net", port.name.as_str(), eth0.mac)
        );
    }
    world.call("DEL", &conf, &atts[0]).unwrap();
    let left = host.spoofcheck_list().unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].container_id, "c2", "DEL removes only its own check");
    world.call("DEL", &conf, &atts[1]).unwrap();
    assert!(host.spoofcheck_list().unwrap().is_empty());
}

#[test]
fn macspoofchk_is_undone_when_a_later_step_fails_and_gc_removes_stale_checks() {
    let (world, atts, conf) = world_with(&bridge_conf(json!({"macspoofchk": true})), &["c1", "c2"]);
    // A step after the check fails: adding the container's first address.
    world.faults.fail_next(
        NetOp::AddAddress,
        Some(NsRef::path(&atts[0].netns)),
        NetErrorKind::Other,
    );
    let e = world.call("ADD", &conf, &atts[0]).unwrap_err();
    assert_eq!(e.code, 5, "{e}");
    let host = world.host();
    assert!(
        host.spoofcheck_list().unwrap().is_empty(),
        "the failed ADD took its check back"
    );

    world.call("ADD", &conf, &atts[0]).unwrap();
    world.call("ADD", &conf, &atts[1]).unwrap();
    world
        .call("GC", &gc_keeping(&conf, &["c2"]), &atts[0])
        .unwrap();
    let left = host.spoofcheck_list().unwrap();
    assert_eq!(
        left.iter()
            .map(|c| c.container_id.as_str())
            .collect::<Vec<_>>(),
        ["c2"]
    );
}

#[test]
fn port_isolation_isolates_the_host_veth_only_when_asked() {
    let (world, atts, conf) = world_with(&bridge_conf(json!({"portIsolation": true})), &["c1"]);
    world.call("ADD", &conf, &atts[0]).unwrap();
    let veths = host_veth(&*world.host());
    assert_eq!(veths.len(), 1);
    assert_eq!(veths[0].isolated, Some(true));

    let (world, atts, conf) = world_with(&bridge_conf(json!({})), &["c1"]);
    world.call("ADD", &conf, &atts[0]).unwrap();
    assert_eq!(host_veth(&*world.host())[0].isolated, Some(false));
}

fn v6_addr_nodad(ns: &dyn Netns, link: &str) -> bool {
    let index = ns.link_by_name(link).unwrap().index;
    let addrs = ns.addresses(Some(index)).unwrap();
    let global = addrs
        .iter()
        .find(|a| a.addr.addr().is_ipv6() && !a.addr.addr().to_string().starts_with("fe80"))
        .expect("a global IPv6 address");
    global.nodad
}

#[test]
fn enabledad_leaves_dad_on_for_the_container_addresses() {
    let (world, atts, conf) = world_with(&bridge_conf(json!({"enabledad": true})), &["c1"]);
    world.call("ADD", &conf, &atts[0]).unwrap();
    let c = world.container(&atts[0]);
    assert!(!v6_addr_nodad(&*c, "eth0"));
    assert_eq!(c.sysctl_get("net/ipv6/conf/eth0/accept_dad").unwrap(), "1");
    assert_eq!(
        c.sysctl_get("net/ipv6/conf/eth0/enhanced_dad").unwrap(),
        "1"
    );

    let (world, atts, conf) = world_with(&bridge_conf(json!({})), &["c1"]);
    world.call("ADD", &conf, &atts[0]).unwrap();
    let c = world.container(&atts[0]);
    assert!(v6_addr_nodad(&*c, "eth0"));
    assert_eq!(c.sysctl_get("net/ipv6/conf/eth0/accept_dad").unwrap(), "0");
}

#[test]
fn bridge_and_ptp_set_the_sysctls_the_reference_sets() {
    let (world, atts, conf) = world_with(&bridge_conf(json!({})), &["c1"]);
    world.call("ADD", &conf, &atts[0]).unwrap();
    let (host, c) = (world.host(), world.container(&atts[0]));
    let veth = &host_veth(&*host)[0].name;
    for (ns, key, want) in [
        (&*host, "net/ipv6/conf/kbr0/accept_ra".to_string(), "0"),
        (&*host, format!("net/ipv6/conf/{veth}/accept_ra"), "0"),
        (&*c, "net/ipv4/conf/eth0/arp_notify".to_string(), "1"),
        (&*c, "net/ipv6/conf/eth0/keep_addr_on_down".to_string(), "1"),
        (&*c, "net/ipv6/conf/eth0/disable_ipv6".to_string(), "0"),
        (&*c, "net/ipv6/conf/lo/disable_ipv6".to_string(), "0"),
    ] {
        assert_eq!(ns.sysctl_get(&key).unwrap(), want, "{key}");
    }

    let ptp = json!({"cniVersion": "1.0.0", "name": "ptp-keys", "type": "ptp",
        "ipam": {"type": "host-local", "ranges": [[{"subnet": "fd41::/64"}]]}});
    let (world, atts, conf) = world_with(&ptp, &["p1"]);
    let c = world.container(&atts[0]);
    c.sysctl_set("net/ipv6/conf/lo/disable_ipv6", "1").unwrap();
    world.call("ADD", &conf, &atts[0]).unwrap();
    let host = world.host();
    let veth = &host_veth(&*host)[0].name;
    assert_eq!(
        host.sysctl_get(&format!("net/ipv6/conf/{veth}/accept_ra"))
            .unwrap(),
        "0"
    );
    assert_eq!(
        c.sysctl_get("net/ipv6/conf/lo/disable_ipv6").unwrap(),
        "0",
        "IPv6 turned on for lo"
    );
    assert_eq!(
        c.sysctl_get("net/ipv6/conf/eth0/keep_addr_on_down")
            .unwrap(),
        "1"
    );
}

#[test]
fn macvlan_bcqueuelen_reaches_the_link_and_is_validated() {
    let conf = json!({"cniVersion": "1.0.0", "name": "mv-keys", "type": "macvlan",
        "master": "uplink0", "bcqueuelen": 250,
        "ipam": {"type": "host-local", "subnet": "10.42.0.0/24"}});
    let (world, atts, netconf) = world_with(&conf, &["m1"]);
    world.call("ADD", &netconf, &atts[0]).unwrap();
    let c = world.container(&atts[0]);
    assert_eq!(c.link_by_name("eth0").unwrap().bc_queue_len, Some(250));
    assert_eq!(
        c.sysctl_get("net/ipv6/conf/eth0/ndisc_notify").unwrap(),
        "1"
    );

    let mut huge = netconf.clone();
    huge["bcqueuelen"] = json!(1u64 << 30);
    let e = world
        .call("ADD", &huge, &Attachment::new("m2"))
        .unwrap_err();
    assert_eq!(e.code, 7, "{e}");
    assert!(e.msg.starts_with("bcqueuelen"), "{e}");
}

#[test]
fn vlan_keys_are_refused_with_code_7_naming_the_key() {
    for (extra, key) in [
        (json!({"vlan": 100}), "vlan"),
        (
            json!({"vlanTrunk": [{"minID": 10, "maxID": 20}]}),
            "vlanTrunk",
        ),
        (json!({"vlan": 7, "preserveDefaultVlan": true}), "vlan"),
    ] {
        let (world, atts, conf) = world_with(&bridge_conf(extra), &["v1"]);
        let before = world.state(&[&atts[0]]);
        let e = world.call("ADD", &conf, &atts[0]).unwrap_err();
        assert_eq!(e.code, 7, "{e}");
        assert!(e.msg.starts_with(&format!("{key}:")), "{e}");
        assert_eq!(world.state(&[&atts[0]]), before, "nothing changed");
    }
    let (world, atts, conf) = world_with(
        &bridge_conf(json!({"vlan": 0, "preserveDefaultVlan": true})),
        &["v2"],
    );
    world.call("ADD", &conf, &atts[0]).unwrap();
}
