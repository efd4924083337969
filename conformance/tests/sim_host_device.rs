//! host-device in process on the simulator: the device moves into the
//! container as `CNI_IFNAME` with its host name in its alias, and DEL brings
//! it back with its name, addresses and up state; every selector
//! (`device`, `hwaddr`, `kernelpath`, `pciBusID`, `runtimeConfig.deviceID`,
//! DPDK mode); CHECK; DEL idempotent, after the reference's ADD (alias
//! only), after an interrupted DEL; each operation of ADD failed in turn.

use cni_conformance::faults::NetOp;
use cni_conformance::in_process::file_names;
use cni_conformance::sim_scenarios::{with_prev_result, Attachment, SimWorld};
use cni_core::net::{AddressSpec, NetErrorKind, Netns, NsRef, VethSpec};
use serde_json::{json, Value};
use std::path::Path;

const HD_MAC: &str = "02:00:00:00:0d:01";

/// A world with a veth pair `hd0`/`hd0p` in the host, `hd0` up with a v4
/// and a v6 address, and container `ctr1`.
fn world() -> (SimWorld, Attachment) {
    let world = SimWorld::new();
    let host = world.host();
    let spec = VethSpec {
        mac: Some(HD_MAC.parse().unwrap()),
        ..VethSpec::new("hd0", "hd0p")
    };
    let pair = host.create_veth(&spec, &NsRef::Current).unwrap();
    host.set_up(pair.local.index, true).unwrap();
    host.set_up(pair.peer.index, true).unwrap();
    for a in ["10.9.0.5/24", "fd09::5/64"] {
        let spec = AddressSpec {
            addr: a.parse().unwrap(),
            nodad: true,
        };
        host.add_address(pair.local.index, &spec).unwrap();
    }
    let att = Attachment::new("ctr1");
    world.add_container(&att);
    (world, att)
}

fn conf(world: &SimWorld, selector: Value) -> Value {
    let mut conf = json!({"name": "hd-net", "type": "host-device",
        "ipam": {"type": "host-local", "subnet": "10.30.0.0/24",
                 "routes": [{"dst": "0.0.0.0/0"}]}});
    for (k, v) in selector.as_object().unwrap() {
        conf[k] = v.clone();
    }
    world.netconf(&conf, "1.0.0")
}

fn saved_files(world: &SimWorld) -> Vec<String> {
    file_names(&world.scratch_path("host-device"))
}

fn v4_addrs(ns: &dyn Netns, name: &str) -> Vec<String> {
    let link = ns.link_by_name(name).unwrap();
    let mut out: Vec<String> = ns
        .addresses(Some(link.index))
        .unwrap()
        .into_iter()
        .filter(|a| a.scope != cni_core::net::RouteScope::Link)
        .map(|a| a.addr.to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn add_moves_the_device_in_and_del_brings_it_back_as_it_was() {
    let (world, att) = world();
    let start = world.kernel.snapshot();
    let conf = conf(&world, json!({"device": "hd0"}));
    let result = world.call("ADD", &conf, &att).unwrap();
    assert_eq!(
        result["interfaces"],
        json!([{"name": "eth0", "mac": HD_MAC, "sandbox": att.netns}])
    );
    assert_eq!(result["ips"][0]["address"], "10.30.0.2/24");
    assert_eq!(result["ips"][0]["interface"], 0);

    let host = world.host();
    assert!(host.link_by_name("hd0").unwrap_err().is_not_found());
    let c = world.container(&att);
    let eth0 = c.link_by_name("eth0").unwrap();
    assert_eq!(eth0.alias.as_deref(), Some("hd0"));
    assert_eq!(eth0.mac.to_string(), HD_MAC);
    assert!(eth0.up);
    assert_eq!(v4_addrs(&*c, "eth0"), ["10.30.0.2/24"]);
    assert_eq!(saved_files(&world), ["ctr1_eth0.json"]);

    let check = with_prev_result(&conf, &result);
    assert_eq!(world.call("CHECK", &check, &att), Ok(Value::Null));

    assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null));
    assert_eq!(world.kernel.snapshot(), start, "the host as before ADD");
    assert_eq!(v4_addrs(&*host, "hd0"), ["10.9.0.5/24", "fd09::5/64"]);
    assert!(host.link_by_name("hd0").unwrap().up);
    assert!(saved_files(&world).is_empty());
    assert!(world.leases().is_empty());
    assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null), "DEL again");
    assert_eq!(world.kernel.snapshot(), start);
}

#[test]
fn without_ipam_the_result_is_the_interface_alone() {
    let (world, att) = world();
    let mut conf = conf(&world, json!({"device": "hd0"}));
    conf.as_object_mut().unwrap().remove("ipam");
    let result = world.call("ADD", &conf, &att).unwrap();
    assert_eq!(result["interfaces"][0]["name"], "eth0");
    assert!(result.get("ips").is_none(), "{result}");
    assert!(world.container(&att).link_by_name("eth0").unwrap().up);
    assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null));
    assert_eq!(
        v4_addrs(&*world.host(), "hd0"),
        ["10.9.0.5/24", "fd09::5/64"]
    );
}

#[test]
fn hwaddr_selects_the_device_by_its_mac() {
    let (world, att) = world();
    let conf = conf(&world, json!({"hwaddr": HD_MAC.to_uppercase()}));
    world.call("ADD", &conf, &att).unwrap();
    assert!(world.host().link_by_name("hd0").unwrap_err().is_not_found());
    world.call("DEL", &conf, &att).unwrap();
    world.host().link_by_name("hd0").unwrap();
}

/// `<sys>/<rel>/net/<name>` for each name, as sysfs lists a device's interfaces.
fn sysfs_net(world: &SimWorld, rel: &str, names: &[&str]) {
    for n in names {
        std::fs::create_dir_all(world.scratch_path("sys").join(rel).join("net").join(n)).unwrap();
    }
}

#[test]
fn kernelpath_takes_the_first_interface_under_it_that_is_a_link() {
    let (world, att) = world();
    sysfs_net(&world, "devices/pci0000:00/0000:00:19.0", &["gone0", "hd0"]);
    let conf = conf(
        &world,
        json!({"kernelpath": "/sys/devices/pci0000:00/0000:00:19.0"}),
    );
    world.call("ADD", &conf, &att).unwrap();
    assert_eq!(
        world
            .container(&att)
            .link_by_name("eth0")
            .unwrap()
            .alias
            .as_deref(),
        Some("hd0")
    );
    world.call("DEL", &conf, &att).unwrap();
    let missing = conf_err(&world, &att, json!({"kernelpath": "/sys/devices/nothing"}));
    assert!(
        missing.starts_with("kernelpath: no network devices"),
        "{missing}"
    );
}

fn conf_err(world: &SimWorld, att: &Attachment, selector: Value) -> String {
    let e = world
        .call("ADD", &conf(world, selector), att)
        .expect_err("ADD must fail");
    assert_eq!(e.code, 7, "{e}");
    e.msg
}

#[test]
fn pci_bus_id_and_device_id_find_the_pci_functions_interface() {
    let (world, att) = world();
    sysfs_net(&world, "bus/pci/devices/0000:03:00.1", &["hd0"]);
    // A virtio device keeps its interface one level down.
    sysfs_net(&world, "bus/pci/devices/0000:04:00.0/virtio3", &["hd0"]);
    for selector in [
        json!({"pciBusID": "0000:03:00.1"}),
        json!({"pciBusID": "0000:09:00.0", "runtimeConfig": {"deviceID": "0000:04:00.0"}}),
    ] {
        let conf = conf(&world, selector.clone());
        world
            .call("ADD", &conf, &att)
            .unwrap_or_else(|e| panic!("{selector}: {e}"));
        world.container(&att).link_by_name("eth0").unwrap();
        world.call("DEL", &conf, &att).unwrap();
        world.host().link_by_name("hd0").unwrap();
    }
    let e = conf_err(&world, &att, json!({"pciBusID": "0000:05:00.0"}));
    assert!(e.starts_with("pciBusID: no PCI device"), "{e}");
}

#[test]
fn a_pci_function_on_a_dpdk_driver_gets_addresses_and_no_interface() {
    let (world, att) = world();
    let sys = world.scratch_path("sys");
    let dev = sys.join("bus/pci/devices/0000:03:00.2");
    std::fs::create_dir_all(&dev).unwrap();
    std::fs::create_dir_all(sys.join("bus/pci/drivers/vfio-pci")).unwrap();
    std::os::unix::fs::symlink(Path::new("../../drivers/vfio-pci"), dev.join("driver")).unwrap();
    let start = world.kernel.snapshot();
    let conf = conf(&world, json!({"pciBusID": "0000:03:00.2"}));
    let result = world.call("ADD", &conf, &att).unwrap();
    assert!(result.get("interfaces").is_none(), "{result}");
    assert_eq!(result["ips"][0]["address"], "10.30.0.2/24");
    assert!(result["ips"][0].get("interface").is_none(), "{result}");
    assert_eq!(world.kernel.snapshot(), start, "nothing moved");
    assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null));
    assert!(world.leases().is_empty());
}

#[test]
fn a_missing_device_or_a_taken_name_changes_nothing() {
    let (world, att) = world();
    let start = world.kernel.snapshot();
    let e = conf_err(&world, &att, json!({"device": "nope0"}));
    assert_eq!(e, "device: no link nope0 in the host");
    let e = conf_err(&world, &att, json!({"hwaddr": "02:00:00:00:00:99"}));
    assert!(e.starts_with("hwaddr: no link with MAC"), "{e}");
    assert_eq!(world.kernel.snapshot(), start);

    let c = world.container(&att);
    c.create_veth(&VethSpec::new("eth0", "other0"), &NsRef::Current)
        .unwrap();
    let before = world.kernel.snapshot();
    let e = world
        .call("ADD", &conf(&world, json!({"device": "hd0"})), &att)
        .unwrap_err();
    assert_eq!(e.code, 999, "{e}");
    assert!(e.msg.contains("already exists"), "{e}");
    assert_eq!(world.kernel.snapshot(), before);
    assert!(world.leases().is_empty() && saved_files(&world).is_empty());
}

#[test]
fn check_names_an_address_that_went_missing() {
    let (world, att) = world();
    let conf = conf(&world, json!({"device": "hd0"}));
    let result = world.call("ADD", &conf, &att).unwrap();
    let c = world.container(&att);
    let eth0 = c.link_by_name("eth0").unwrap();
    c.del_address(eth0.index, "10.30.0.2/24".parse().unwrap())
        .unwrap();
    let e = world
        .call("CHECK", &with_prev_result(&conf, &result), &att)
        .unwrap_err();
    assert!(e.msg.contains("lacks address 10.30.0.2/24"), "{e}");
    world.call("DEL", &conf, &att).unwrap();
}

#[test]
fn del_goes_by_the_alias_when_no_state_was_saved() {
    // As after the reference's ADD: only the alias names the host device.
    let (world, att) = world();
    let conf = conf(&world, json!({"device": "hd0"}));
    world.call("ADD", &conf, &att).unwrap();
    std::fs::remove_file(world.scratch_path("host-device/ctr1_eth0.json")).unwrap();
    world.call("DEL", &conf, &att).unwrap();
    let host = world.host();
    let hd0 = host.link_by_name("hd0").unwrap();
    assert!(!hd0.up, "no saved state: left down, as the reference does");
    assert!(v4_addrs(&*host, "hd0").is_empty());
    assert_eq!(hd0.alias, Some("hd0".to_string()));
}

#[test]
fn del_without_alias_or_state_refuses_and_leaves_the_interface() {
    let (world, att) = world();
    let c = world.container(&att);
    c.create_veth(&VethSpec::new("eth0", "other0"), &NsRef::Current)
        .unwrap();
    let conf = conf(&world, json!({"device": "hd0"}));
    let e = world.call("DEL", &conf, &att).unwrap_err();
    assert!(e.msg.contains("no alias naming its host device"), "{e}");
    c.link_by_name("eth0").unwrap();
}

#[test]
fn a_del_interrupted_at_any_step_is_finished_by_the_next() {
    let (world, att) = world();
    let start = world.kernel.snapshot();
    let conf = conf(&world, json!({"device": "hd0"}));
    for op in [
        NetOp::SetUp,
        NetOp::Rename,
        NetOp::SetAlias,
        NetOp::MoveTo,
        NetOp::AddAddress,
    ] {
        world.call("ADD", &conf, &att).unwrap();
        world.faults.fail_next(op, None, NetErrorKind::Other);
        let e = world.call("DEL", &conf, &att).unwrap_err();
        assert!(e.msg.contains("injected fault"), "{op:?}: {e}");
        world.faults.clear_faults();
        assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null), "{op:?}");
        assert_eq!(world.kernel.snapshot(), start, "{op:?}: then DEL again");
        assert!(saved_files(&world).is_empty(), "{op:?}");
    }
}

#[test]
fn del_after_the_namespace_is_gone_succeeds() {
    let (world, att) = world();
    let conf = conf(&world, json!({"device": "hd0"}));
    world.call("ADD", &conf, &att).unwrap();
    world.kernel.del_netns(&att.netns).unwrap();
    assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null));
    assert!(saved_files(&world).is_empty());
    assert!(world.leases().is_empty());
}

#[test]
fn each_failed_operation_of_add_is_undone() {
    let (world, att) = world();
    let start = world.kernel.snapshot();
    let conf = conf(&world, json!({"device": "hd0"}));
    let ops = world.fail_each_op_of_add(&conf, &att, |n| {
        assert_eq!(world.kernel.snapshot(), start, "op {n}: not undone");
        assert!(world.leases().is_empty(), "op {n}: lease kept");
        assert!(saved_files(&world).is_empty(), "op {n}: state file kept");
        assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null), "op {n}");
        assert_eq!(world.kernel.snapshot(), start, "op {n}: then DEL");
    });
    for op in [NetOp::MoveTo, NetOp::SetAlias, NetOp::Rename] {
        assert!(ops.contains(&op), "{op:?} not among {ops:?}");
    }
}
