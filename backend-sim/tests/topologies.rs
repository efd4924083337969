//! Snapshots of typical topologies plugins build.

use cni_backend_sim::SimKernel;
use cni_core::net::{
    AddressSpec, BridgeSpec, MacvlanMode, MacvlanSpec, MasqRule, NetBackend, NsRef, RouteScope,
    RouteSpec, VethSpec,
};

#[test]
fn bridge_with_three_veth_ports_into_three_namespaces() {
    let kernel = SimKernel::new();
    let host = kernel.open(&NsRef::Current).unwrap();
    let br = host
        .create_bridge(&BridgeSpec {
            name: "cni0".into(),
            ..BridgeSpec::default()
        })
        .unwrap();
    host.add_address(br.index, &AddressSpec::new("10.22.0.1/24".parse().unwrap()))
        .unwrap();
    host.set_up(br.index, true).unwrap();
    host.sysctl_set("net/ipv4/ip_forward", "1").unwrap();
    for n in 1..=3 {
        let cref = kernel.add_netns(format!("/var/run/netns/c{n}")).unwrap();
        let c = kernel.open(&cref).unwrap();
        let pair = host
            .create_veth(&VethSpec::new(format!("veth{n}"), "eth0"), &cref)
            .unwrap();
        host.set_master(pair.local.index, Some(br.index)).unwrap();
        host.set_hairpin(pair.local.index, n == 2).unwrap();
        host.set_up(pair.local.index, true).unwrap();
        c.set_up(pair.peer.index, true).unwrap();
        let addr = format!("10.22.0.{}/24", n + 1);
        c.add_address(pair.peer.index, &AddressSpec::new(addr.parse().unwrap()))
            .unwrap();
        c.add_route(
            &RouteSpec::new("0.0.0.0/0".parse().unwrap()).via("10.22.0.1".parse().unwrap()),
        )
        .unwrap();
        host.masquerade_add(&MasqRule {
            network: "mynet".into(),
            container_id: format!("ctr{n}"),
            addrs: vec![addr.parse().unwrap()],
        })
        .unwrap();
    }
    insta::assert_snapshot!(kernel.snapshot());
}

#[test]
fn macvlan_in_a_container() {
    let kernel = SimKernel::new();
    let host = kernel.open(&NsRef::Current).unwrap();
    let uplink_peer = kernel.add_netns("/var/run/netns/uplink").unwrap();
    let parent = host
        .create_veth(&VethSpec::new("eth0", "up0"), &uplink_peer)
        .unwrap();
    host.set_up(parent.local.index, true).unwrap();
    let cref = kernel.add_netns("/var/run/netns/c1").unwrap();
    let mv = host
        .create_macvlan(
            &MacvlanSpec {
                name: "net1".into(),
                parent: parent.local.index,
                mode: MacvlanMode::Bridge,
                mtu: Some(1400),
                mac: None,
                txqueuelen: None,
                bc_queue_len: None,
            },
            &cref,
        )
        .unwrap();
    let c = kernel.open(&cref).unwrap();
    c.add_address(
        mv.index,
        &AddressSpec::new("192.168.50.7/24".parse().unwrap()),
    )
    .unwrap();
    c.set_up(mv.index, true).unwrap();
    insta::assert_snapshot!(kernel.snapshot());
}

#[test]
fn ptp_pair_with_host_slash_32_and_routes() {
    let kernel = SimKernel::new();
    let host = kernel.open(&NsRef::Current).unwrap();
    let cref = kernel.add_netns("/var/run/netns/c1").unwrap();
    let c = kernel.open(&cref).unwrap();
    let pair = host
        .create_veth(&VethSpec::new("veth1a2b", "eth0"), &cref)
        .unwrap();
    host.set_up(pair.local.index, true).unwrap();
    c.set_up(pair.peer.index, true).unwrap();
    // As the ptp plugin does: the host end gets the gateway as /32 and a
    // route to the container; the container routes via the gateway on-link.
    host.add_address(
        pair.local.index,
        &AddressSpec::new("10.1.1.1/32".parse().unwrap()),
    )
    .unwrap();
    host.add_route(
        &RouteSpec::new("10.1.1.2/32".parse().unwrap())
            .dev(pair.local.index)
            .scope(RouteScope::Link),
    )
    .unwrap();
    c.add_address(
        pair.peer.index,
        &AddressSpec::new("10.1.1.2/24".parse().unwrap()),
    )
    .unwrap();
    c.del_route(&RouteSpec::new("10.1.1.0/24".parse().unwrap()).dev(pair.peer.index))
        .unwrap();
    c.add_route(
        &RouteSpec::new("10.1.1.1/32".parse().unwrap())
            .dev(pair.peer.index)
            .scope(RouteScope::Link),
    )
    .unwrap();
    c.add_route(&RouteSpec::new("10.1.1.0/24".parse().unwrap()).via("10.1.1.1".parse().unwrap()))
        .unwrap();
    c.add_route(&RouteSpec::new("0.0.0.0/0".parse().unwrap()).via("10.1.1.1".parse().unwrap()))
        .unwrap();
    insta::assert_snapshot!(kernel.snapshot());
    insta::assert_snapshot!(
        "ptp_normalized",
        kernel.snapshot_ns_normalized(&cref).unwrap()
    );
}
