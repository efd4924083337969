//! The dummy plugin on the simulator, beyond the corpus (`sim_main_plugins.rs`:
//! every verb and version, snapshots; the fault sweep): the deterministic
//! MAC, IPAM required, CHECK of the kind, a name already taken, DEL when
//! things are gone.

use cni_conformance::sim_scenarios::{with_prev_result, Attachment, SimWorld};
use cni_core::net::{LinkKind, NsRef, VethSpec};
use serde_json::{json, Value};

fn dummy() -> Value {
    json!({"name": "dm-net", "type": "dummy",
        "ipam": {"type": "host-local", "ranges": [[{"subnet": "fd40::/64"}], [{"subnet": "10.40.0.0/24"}]]}})
}

fn world(id: &str) -> (SimWorld, Attachment, Value) {
    let world = SimWorld::new();
    let att = Attachment::new(id);
    world.add_container(&att);
    let conf = world.netconf(&dummy(), "1.0.0");
    (world, att, conf)
}

#[test]
fn the_mac_derives_from_the_first_ipv4_address() {
    let (world, att, conf) = world("mac");
    let result = world.call("ADD", &conf, &att).unwrap();
    let eth0 = world.container(&att).link_by_name("eth0").unwrap();
    assert_eq!(eth0.kind, LinkKind::Dummy);
    assert_eq!(eth0.mac.to_string(), "0a:58:0a:28:00:02", "from 10.40.0.2");
    assert_eq!(result["interfaces"][0]["mac"], eth0.mac.to_string());
    assert_eq!(eth0.txqueuelen, 1000);
    assert!(eth0.up);
}

#[test]
fn ipam_is_required_and_nothing_is_left() {
    let (world, att, _) = world("noipam");
    let before = world.kernel.snapshot();
    for conf in [
        json!({"name": "dm", "type": "dummy"}),
        json!({"name": "dm", "type": "dummy", "ipam": {}}),
    ] {
        let conf = world.netconf(&conf, "1.0.0");
        let e = world.call("ADD", &conf, &att).unwrap_err();
        assert_eq!(e.code, 7, "{e}");
        assert!(e.msg.starts_with("ipam.type: required"), "{e}");
        assert_eq!(world.kernel.snapshot(), before);
    }
}

#[test]
fn a_taken_name_is_refused_before_anything_changes() {
    let (world, att, conf) = world("taken");
    let c = world.container(&att);
    c.create_veth(&VethSpec::new("eth0", "peer0"), &NsRef::path(&att.netns))
        .unwrap();
    let before = world.kernel.snapshot();
    let e = world.call("ADD", &conf, &att).unwrap_err();
    assert!(e.msg.contains("eth0"), "{e}");
    assert_eq!(world.kernel.snapshot(), before);
    assert!(world.leases().is_empty());
}

#[test]
fn check_names_a_link_that_is_no_longer_a_dummy() {
    let (world, att, conf) = world("check");
    let result = world.call("ADD", &conf, &att).unwrap();
    let check = with_prev_result(&conf, &result);
    assert_eq!(world.call("CHECK", &check, &att), Ok(Value::Null));
    // Replace the dummy by a veth of the same name, MAC and addresses.
    let c = world.container(&att);
    let eth0 = c.link_by_name("eth0").unwrap();
    let addrs = c.addresses(Some(eth0.index)).unwrap();
    c.delete_link(eth0.index).unwrap();
    let mut spec = VethSpec::new("eth0", "peer0");
    spec.mac = Some(eth0.mac);
    let pair = c.create_veth(&spec, &NsRef::path(&att.netns)).unwrap();
    c.set_up(pair.local.index, true).unwrap();
    c.set_up(pair.peer.index, true).unwrap();
    for a in addrs
        .iter()
        .filter(|a| a.scope == cni_core::net::RouteScope::Universe)
    {
        c.add_address(
            pair.local.index,
            &cni_core::net::AddressSpec {
                addr: a.addr,
                nodad: true,
            },
        )
        .unwrap();
    }
    let e = world.call("CHECK", &check, &att).unwrap_err();
    assert!(e.msg.contains("not a dummy"), "{e}");
}

#[test]
fn del_is_idempotent_and_survives_a_missing_namespace_or_link() {
    let (world, att, conf) = world("del");
    world.call("ADD", &conf, &att).unwrap();
    let c = world.container(&att);
    let eth0 = c.link_by_name("eth0").unwrap();
    c.delete_link(eth0.index).unwrap();
    assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null));
    assert!(world.leases().is_empty());
    assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null));
    world.kernel.del_netns(&att.netns).unwrap();
    assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null));
}
