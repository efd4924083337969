//! Rules about dummy links and VRF devices. A kernel without the driver
//! answers `Unsupported` naming the module and leaves nothing (then the
//! rest of a rule cannot run).

use super::links::created_or_no_driver;
use super::{expect_kind, link, open, SuiteEnv};
use cni_core::net::{
    AddressSpec, DummySpec, LinkKind, MacAddr, NetErrorKind, Netns, RouteInfo, VrfSpec, TABLE_MAIN,
};

fn prefix_routes(ns: &dyn Netns, index: u32) -> Vec<RouteInfo> {
    let routes = ns.routes().unwrap();
    routes
        .into_iter()
        .filter(|r| r.oif == Some(index) && r.dst.to_string() == "10.61.0.0/24")
        .collect()
}

pub fn dummy_is_created_here_with_kernel_defaults(env: &mut dyn SuiteEnv) {
    let ns_ref = env.new_netns();
    let ns = open(env, &ns_ref);
    let mac = MacAddr([0x0a, 0x58, 10, 60, 0, 2]);
    let spec = DummySpec {
        name: "dm0".into(),
        mac: Some(mac),
        txqueuelen: None,
    };
    let Some(dm) = created_or_no_driver(ns.create_dummy(&spec), &*ns, "dm0", "dummy") else {
        return;
    };
    let seen = link(&*ns, "dm0");
    assert_eq!(seen.index, dm.index);
    assert_eq!(
        (seen.kind, seen.mac, seen.mtu, seen.txqueuelen, seen.up),
        (LinkKind::Dummy, mac, 1500, 1000, false)
    );
    expect_kind(ns.create_dummy(&spec), NetErrorKind::Exists, "a second dm0");
    ns.set_up(dm.index, true).unwrap();
    super::eventually("a dummy that is up has carrier", || {
        link(&*ns, "dm0").oper_up
    });
}

pub fn vrf_binds_its_ports_connected_routes_to_its_table(env: &mut dyn SuiteEnv) {
    let ns_ref = env.new_netns();
    let ns = open(env, &ns_ref);
    let spec = VrfSpec {
        name: "vrf0".into(),
        table: 10,
    };
    let Some(vrf) = created_or_no_driver(ns.create_vrf(&spec), &*ns, "vrf0", "vrf") else {
        return;
    };
    assert_eq!(
        (link(&*ns, "vrf0").kind, link(&*ns, "vrf0").vrf_table),
        (LinkKind::Vrf, Some(10))
    );
    let zero = VrfSpec {
        name: "vrf1".into(),
        table: 0,
    };
    expect_kind(ns.create_vrf(&zero), NetErrorKind::Invalid, "vrf table 0");
    let port = ns
        .create_dummy(&DummySpec {
            name: "port0".into(),
            mac: None,
            txqueuelen: None,
        })
        .unwrap();
    ns.set_up(vrf.index, true).unwrap();
    ns.set_up(port.index, true).unwrap();
    let addr = AddressSpec::new("10.61.0.2/24".parse().unwrap());
    ns.add_address(port.index, &addr).unwrap();
    let tables = |ns: &dyn Netns| -> Vec<u32> {
        prefix_routes(ns, port.index)
            .iter()
            .map(|r| r.table)
            .collect()
    };
    assert_eq!(tables(&*ns), vec![TABLE_MAIN]);

    ns.set_master(port.index, Some(vrf.index)).unwrap();
    assert_eq!(link(&*ns, "port0").master, Some(vrf.index));
    assert_eq!(
        tables(&*ns),
        vec![10],
        "the connected route in the VRF's table"
    );
    let v4: Vec<_> = ns.addresses(Some(port.index)).unwrap();
    assert!(
        v4.iter().any(|a| a.addr == addr.addr),
        "IPv4 addresses stay"
    );

    ns.set_master(port.index, None).unwrap();
    assert_eq!(tables(&*ns), vec![TABLE_MAIN], "back in main when released");

    ns.set_master(port.index, Some(vrf.index)).unwrap();
    ns.delete_link(vrf.index).unwrap();
    assert_eq!(
        link(&*ns, "port0").master,
        None,
        "deleting the VRF releases its ports"
    );
    assert_eq!(tables(&*ns), vec![TABLE_MAIN]);
}
