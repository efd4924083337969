//! host-device's saved host state on the simulator, beyond
//! `sim_host_device.rs`: the routes the host had through the device come
//! back on DEL (also after a failed ADD, an interrupted DEL, and in other
//! tables), and GC removes the state of attachments no longer valid.

use cni_conformance::faults::NetOp;
use cni_conformance::in_process::file_names;
use cni_conformance::sim_scenarios::{Attachment, SimWorld};
use cni_core::net::{AddressSpec, NetErrorKind, Netns, NsRef, RouteProtocol, RouteSpec, VethSpec};
use serde_json::{json, Value};

/// Host routes through `hd0` someone added: (dst, gateway, table).
fn user_routes(host: &dyn Netns) -> Vec<String> {
    let Ok(hd0) = host.link_by_name("hd0") else {
        return Vec::new();
    };
    let mut out: Vec<String> = host
        .routes()
        .unwrap()
        .into_iter()
        .filter(|r| r.oif == Some(hd0.index) && r.protocol != RouteProtocol::Kernel)
        .map(|r| format!("{} via {:?} table {}", r.dst, r.gateway, r.table))
        .collect();
    out.sort();
    out
}

/// `hd0`/`hd0p` in the host, `hd0` up with an address of each family and
/// three routes through it (one in table 100); devices `hd1`, `hd2` for GC.
fn world() -> (SimWorld, Attachment) {
    let world = SimWorld::new();
    let host = world.host();
    for (name, peer) in [("hd0", "hd0p"), ("hd1", "hd1p"), ("hd2", "hd2p")] {
        let pair = host
            .create_veth(&VethSpec::new(name, peer), &NsRef::Current)
            .unwrap();
        host.set_up(pair.local.index, true).unwrap();
        host.set_up(pair.peer.index, true).unwrap();
    }
    let hd0 = host.link_by_name("hd0").unwrap().index;
    for a in ["10.9.0.5/24", "fd09::5/64"] {
        let spec = AddressSpec {
            addr: a.parse().unwrap(),
            nodad: true,
        };
        host.add_address(hd0, &spec).unwrap();
    }
    let via = |dst: &str, gw: &str| {
        RouteSpec::new(dst.parse().unwrap())
            .via(gw.parse().unwrap())
            .dev(hd0)
    };
    host.add_route(&via("198.51.100.0/24", "10.9.0.1")).unwrap();
    host.add_route(&via("2001:db8:1::/48", "fd09::1")).unwrap();
    let mut other_table = via("203.0.113.0/24", "10.9.0.1");
    other_table.table = Some(100);
    host.add_route(&other_table).unwrap();
    let att = Attachment::new("ctr1");
    world.add_container(&att);
    (world, att)
}

fn conf(world: &SimWorld, device: &str) -> Value {
    world.netconf(
        &json!({"name": "hd-net", "type": "host-device", "device": device,
            "ipam": {"type": "host-local", "subnet": "10.30.0.0/24"}}),
        "1.1.0",
    )
}

fn saved_files(world: &SimWorld) -> Vec<String> {
    file_names(&world.scratch_path("host-device"))
}

#[test]
fn del_brings_back_the_routes_through_the_device() {
    let (world, att) = world();
    let start = world.kernel.snapshot();
    let routes = user_routes(&*world.host());
    assert_eq!(routes.len(), 3, "{routes:?}");
    let conf = conf(&world, "hd0");
    world.call("ADD", &conf, &att).unwrap();
    assert!(
        user_routes(&*world.host()).is_empty(),
        "moved away with hd0"
    );
    let saved =
        std::fs::read_to_string(world.scratch_path("host-device").join("ctr1_eth0.json")).unwrap();
    assert!(
        saved.contains("198.51.100.0/24") && saved.contains("\"table\": 100"),
        "{saved}"
    );
    world.call("DEL", &conf, &att).unwrap();
    assert_eq!(user_routes(&*world.host()), routes);
    assert_eq!(world.kernel.snapshot(), start);
}

#[test]
fn a_failed_add_and_an_interrupted_del_restore_the_routes_too() {
    let (world, att) = world();
    let start = world.kernel.snapshot();
    let conf = conf(&world, "hd0");
    world.fail_each_op_of_add(&conf, &att, |n| {
        assert_eq!(world.kernel.snapshot(), start, "op {n}: not undone");
        assert!(saved_files(&world).is_empty(), "op {n}");
    });
    world.call("ADD", &conf, &att).unwrap();
    world
        .faults
        .fail_next(NetOp::AddRoute, None, NetErrorKind::Other);
    let e = world.call("DEL", &conf, &att).unwrap_err();
    assert!(e.msg.contains("restoring route"), "{e}");
    world.faults.clear_faults();
    assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null));
    assert_eq!(world.kernel.snapshot(), start, "the retry finished it");
    assert!(saved_files(&world).is_empty());
}

#[test]
fn a_route_the_host_no_longer_takes_does_not_keep_del_failing() {
    let (world, att) = world();
    let conf = conf(&world, "hd0");
    world.call("ADD", &conf, &att).unwrap();
    // The gateway's subnet leaves with the address: 10.9.0.1 is unreachable.
    let path = world.scratch_path("host-device").join("ctr1_eth0.json");
    let mut saved: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    saved["addresses"] = json!([{"address": "fd09::5/64", "nodad": true}]);
    std::fs::write(&path, serde_json::to_vec(&saved).unwrap()).unwrap();
    assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null));
    assert_eq!(
        user_routes(&*world.host()),
        ["2001:db8:1::/48 via Some(fd09::1) table 254"]
    );
    assert!(saved_files(&world).is_empty());
}

#[test]
fn a_state_saved_without_routes_still_reads() {
    let (world, att) = world();
    let conf = conf(&world, "hd0");
    world.call("ADD", &conf, &att).unwrap();
    let path = world.scratch_path("host-device").join("ctr1_eth0.json");
    let mut saved: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    saved.as_object_mut().unwrap().remove("routes");
    std::fs::write(&path, serde_json::to_vec(&saved).unwrap()).unwrap();
    assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null));
    assert!(user_routes(&*world.host()).is_empty(), "none were saved");
    assert!(world.host().link_by_name("hd0").unwrap().up);
}

#[test]
fn gc_removes_the_state_of_attachments_no_longer_valid() {
    let (world, a0) = world();
    let (a1, a2) = (Attachment::new("ctr2"), Attachment::new("ctr3"));
    world.add_container(&a1);
    world.add_container(&a2);
    let (c0, c1) = (conf(&world, "hd0"), conf(&world, "hd1"));
    world.call("ADD", &c0, &a0).unwrap();
    world.call("ADD", &c1, &a1).unwrap();
    // Another network sharing the directory: never ours to remove.
    let mut other = conf(&world, "hd2");
    other["name"] = json!("other-net");
    world.call("ADD", &other, &a2).unwrap();
    let dir = world.scratch_path("host-device");
    // A temporary file of a writer that died (no process has this ID).
    std::fs::write(dir.join(".cni-rs-tmp-4194304-0-x"), b"half").unwrap();
    assert_eq!(
        saved_files(&world),
        [
            ".cni-rs-tmp-4194304-0-x",
            "ctr1_eth0.json",
            "ctr2_eth0.json",
            "ctr3_eth0.json"
        ]
    );

    let mut gc = c0.clone();
    gc["cni.dev/valid-attachments"] = json!([{"containerID": "ctr1", "ifname": "eth0"}]);
    let before = world.kernel.snapshot();
    assert_eq!(world.call("GC", &gc, &a0), Ok(Value::Null));
    assert_eq!(saved_files(&world), ["ctr1_eth0.json", "ctr3_eth0.json"]);
    assert_eq!(world.kernel.snapshot(), before, "GC leaves devices alone");
    assert_eq!(world.lease_names().len(), 2, "{:?}", world.lease_names());

    // Without the key, GC has nothing to go by.
    assert_eq!(world.call("GC", &c0, &a0), Ok(Value::Null));
    assert_eq!(saved_files(&world), ["ctr1_eth0.json", "ctr3_eth0.json"]);
    world.call("DEL", &c0, &a0).unwrap();
    assert_eq!(user_routes(&*world.host()).len(), 3);
}
