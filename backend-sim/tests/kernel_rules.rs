//! Simulator behaviour beyond the shared backend suite (which runs in
//! cni-conformance): namespace deletion, index allocation, carrier details.

use cni_backend_sim::SimKernel;
use cni_core::net::{
    AddressSpec, BridgeSpec, MacvlanMode, MacvlanSpec, NetBackend, NsRef, VethSpec,
};

#[test]
fn deleting_a_namespace_deletes_veth_peers_elsewhere() {
    let kernel = SimKernel::new();
    let host = kernel.open(&NsRef::Current).unwrap();
    let cref = kernel.add_netns("/var/run/netns/c1").unwrap();
    host.create_veth(&VethSpec::new("vethA", "eth0"), &cref)
        .unwrap();
    kernel.del_netns("/var/run/netns/c1").unwrap();
    assert!(host.link_by_name("vethA").unwrap_err().is_not_found());
    assert!(kernel.netns_paths().is_empty());
}

#[test]
fn veth_peer_takes_the_lower_index_like_linux() {
    let kernel = SimKernel::new();
    let host = kernel.open(&NsRef::Current).unwrap();
    let pair = host
        .create_veth(&VethSpec::new("d0", "d1"), &NsRef::Current)
        .unwrap();
    assert_eq!((pair.peer.index, pair.local.index), (2, 3));
}

#[test]
fn moved_link_keeps_its_index_when_free_and_comes_down() {
    let kernel = SimKernel::new();
    let host = kernel.open(&NsRef::Current).unwrap();
    let a = kernel.add_netns("/var/run/netns/a").unwrap();
    let b = kernel.add_netns("/var/run/netns/b").unwrap();
    host.create_bridge(&BridgeSpec {
        name: "pad".into(),
        ..BridgeSpec::default()
    })
    .unwrap();
    let pair = host.create_veth(&VethSpec::new("e0", "e1"), &a).unwrap();
    host.set_up(pair.local.index, true).unwrap();
    let moved = host.move_to(pair.local.index, &b).unwrap();
    assert_eq!(moved.index, pair.local.index);
    assert!(!moved.up);
    let peer = kernel.open(&a).unwrap().link_by_name("e1").unwrap();
    assert_eq!(peer.peer_index, Some(moved.index));
}

#[test]
fn fresh_bridge_has_carrier_but_loses_it_when_its_last_port_leaves() {
    let kernel = SimKernel::new();
    let host = kernel.open(&NsRef::Current).unwrap();
    let br = host
        .create_bridge(&BridgeSpec {
            name: "br0".into(),
            ..BridgeSpec::default()
        })
        .unwrap();
    host.set_up(br.index, true).unwrap();
    assert!(host.link_by_index(br.index).unwrap().oper_up);
    let pair = host
        .create_veth(&VethSpec::new("p0", "p1"), &NsRef::Current)
        .unwrap();
    host.set_master(pair.local.index, Some(br.index)).unwrap();
    assert!(
        !host.link_by_index(br.index).unwrap().oper_up,
        "port has no carrier"
    );
    host.set_master(pair.local.index, None).unwrap();
    assert!(!host.link_by_index(br.index).unwrap().oper_up);
}

#[test]
fn deleting_a_macvlan_parent_deletes_the_macvlan() {
    let kernel = SimKernel::new();
    let host = kernel.open(&NsRef::Current).unwrap();
    let cref = kernel.add_netns("/var/run/netns/c1").unwrap();
    let pair = host
        .create_veth(&VethSpec::new("up0", "up1"), &NsRef::Current)
        .unwrap();
    let spec = MacvlanSpec {
        name: "mv0".into(),
        parent: pair.local.index,
        mode: MacvlanMode::Vepa,
        mtu: None,
        mac: None,
        txqueuelen: None,
        bc_queue_len: None,
    };
    host.create_macvlan(&spec, &cref).unwrap();
    host.delete_link(pair.local.index).unwrap();
    assert!(kernel
        .open(&cref)
        .unwrap()
        .link_by_name("mv0")
        .unwrap_err()
        .is_not_found());
}

#[test]
fn ipv6_addresses_are_flushed_when_a_link_goes_down() {
    let kernel = SimKernel::new();
    let host = kernel.open(&NsRef::Current).unwrap();
    let pair = host
        .create_veth(&VethSpec::new("d0", "d1"), &NsRef::Current)
        .unwrap();
    let i = pair.local.index;
    host.set_up(i, true).unwrap();
    host.set_up(pair.peer.index, true).unwrap();
    for a in ["2001:db8::5/64", "10.9.0.1/24"] {
        host.add_address(i, &AddressSpec::new(a.parse().unwrap()))
            .unwrap();
    }
    assert_eq!(
        host.addresses(Some(i)).unwrap().len(),
        3,
        "with the link-local"
    );
    host.set_up(i, false).unwrap();
    let left: Vec<String> = host
        .addresses(Some(i))
        .unwrap()
        .iter()
        .map(|a| a.addr.to_string())
        .collect();
    assert_eq!(left, ["10.9.0.1/24"]);
}

#[test]
fn loopback_up_gets_its_addresses() {
    let kernel = SimKernel::new();
    let host = kernel.open(&NsRef::Current).unwrap();
    host.set_up(1, true).unwrap();
    let mut addrs: Vec<String> = host
        .addresses(Some(1))
        .unwrap()
        .iter()
        .map(|a| a.addr.to_string())
        .collect();
    addrs.sort();
    assert_eq!(addrs, ["127.0.0.1/8", "::1/128"]);
}

#[test]
fn disabling_ipv6_on_a_link_drops_its_ipv6_addresses_and_routes() {
    let kernel = SimKernel::new();
    let host = kernel.open(&NsRef::Current).unwrap();
    let pair = host
        .create_veth(&VethSpec::new("d0", "d1"), &NsRef::Current)
        .unwrap();
    host.set_up(pair.local.index, true).unwrap();
    host.set_up(pair.peer.index, true).unwrap();
    host.add_address(
        pair.local.index,
        &AddressSpec::new("10.9.0.1/24".parse().unwrap()),
    )
    .unwrap();
    host.sysctl_set("net/ipv6/conf/d0/disable_ipv6", "1")
        .unwrap();
    let addrs = host.addresses(Some(pair.local.index)).unwrap();
    assert!(addrs.iter().all(|a| a.addr.addr().is_ipv4()), "{addrs:?}");
    let routes = host.routes().unwrap();
    assert!(routes
        .iter()
        .all(|r| r.oif != Some(pair.local.index) || r.dst.addr().is_ipv4()));
    host.sysctl_set("net/ipv6/conf/d0/disable_ipv6", "0")
        .unwrap();
    let again = host.addresses(Some(pair.local.index)).unwrap();
    assert!(
        again.iter().any(|a| a.addr.addr().is_ipv6()),
        "no link-local after enabling"
    );
}

#[test]
fn a_route_through_a_down_link_is_refused() {
    let kernel = SimKernel::new();
    let host = kernel.open(&NsRef::Current).unwrap();
    let pair = host
        .create_veth(&VethSpec::new("d0", "d1"), &NsRef::Current)
        .unwrap();
    let route = cni_core::net::RouteSpec::new("10.5.0.0/16".parse().unwrap()).dev(pair.local.index);
    let err = host.add_route(&route).unwrap_err();
    assert_eq!(err.kind, cni_core::net::NetErrorKind::Unreachable, "{err}");
}
