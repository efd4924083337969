//! Addresses and routes of LinuxBackend against real namespaces.

mod common;

use cni_backend_linux::LinuxBackend;
use cni_core::net::{
    AddressSpec, NetBackend, NetErrorKind, Netns, RouteProtocol, RouteScope, RouteSpec, VethSpec,
    TABLE_MAIN,
};
use common::{privileged, TestNs};

/// A namespace with an up veth pair to a second namespace; returns (handle, index).
fn with_link(host: &TestNs, cont: &TestNs) -> (Box<dyn Netns>, u32) {
    let h = LinuxBackend::new().open(&host.ns_ref()).unwrap();
    let spec = VethSpec {
        name: "v0".into(),
        peer_name: "eth0".into(),
        ..Default::default()
    };
    let pair = h.create_veth(&spec, &cont.ns_ref()).unwrap();
    h.set_up(pair.local.index, true).unwrap();
    (h, pair.local.index)
}

#[test]
fn addresses_are_added_listed_and_deleted() {
    if !privileged("addresses_are_added_listed_and_deleted") {
        return;
    }
    let (host, cont) = (TestNs::new("host"), TestNs::new("cont"));
    let (h, ix) = with_link(&host, &cont);
    h.add_address(ix, &AddressSpec::new("10.1.0.1/24".parse().unwrap()))
        .unwrap();
    h.add_address(
        ix,
        &AddressSpec {
            addr: "fd00:1::1/64".parse().unwrap(),
            nodad: true,
        },
    )
    .unwrap();
    let mine = h.addresses(Some(ix)).unwrap();
    let v4 = mine
        .iter()
        .find(|a| a.addr == "10.1.0.1/24".parse().unwrap())
        .expect("v4 listed");
    assert_eq!(
        (v4.index, v4.scope, v4.nodad),
        (ix, RouteScope::Universe, false)
    );
    let v6 = mine
        .iter()
        .find(|a| a.addr == "fd00:1::1/64".parse().unwrap())
        .expect("v6 listed");
    assert!(v6.nodad);
    assert!(mine.iter().all(|a| a.index == ix), "filtered by index");
    let all = h.addresses(None).unwrap();
    assert!(all.iter().any(|a| a.addr == v4.addr) && all.iter().any(|a| a.addr == v6.addr));
    assert!(host
        .ip(&["addr", "show", "v0"])
        .contains("10.1.0.1/24 brd 10.1.0.255"));
    assert!(host.ip(&["-6", "addr", "show", "v0"]).contains("nodad"));

    // The kernel adds the prefix route.
    let routes = h.routes().unwrap();
    let prefix = routes
        .iter()
        .find(|r| r.dst == "10.1.0.0/24".parse().unwrap() && r.table == TABLE_MAIN)
        .expect("prefix route");
    assert_eq!(
        (prefix.oif, prefix.protocol, prefix.scope),
        (Some(ix), RouteProtocol::Kernel, RouteScope::Link)
    );

    let e = h
        .add_address(ix, &AddressSpec::new("10.1.0.1/24".parse().unwrap()))
        .unwrap_err();
    assert_eq!(e.kind, NetErrorKind::Exists);
    assert!(e.msg.contains("10.1.0.1/24"), "{}", e.msg);
    h.del_address(ix, "10.1.0.1/24".parse().unwrap()).unwrap();
    let e = h
        .del_address(ix, "10.1.0.1/24".parse().unwrap())
        .unwrap_err();
    assert_eq!(e.kind, NetErrorKind::NotFound, "{}", e.msg);
    assert!(!h
        .addresses(Some(ix))
        .unwrap()
        .iter()
        .any(|a| a.addr.addr().is_ipv4()));
}

#[test]
fn routes_with_every_attribute_round_trip() {
    if !privileged("routes_with_every_attribute_round_trip") {
        return;
    }
    let (host, cont) = (TestNs::new("host"), TestNs::new("cont"));
    let (h, ix) = with_link(&host, &cont);
    h.add_address(ix, &AddressSpec::new("10.1.0.1/24".parse().unwrap()))
        .unwrap();
    let mut r = RouteSpec::new("10.20.0.0/16".parse().unwrap())
        .via("10.1.0.254".parse().unwrap())
        .dev(ix);
    r.metric = Some(50);
    r.mtu = Some(1400);
    r.advmss = Some(1360);
    r.src = Some("10.1.0.1".parse().unwrap());
    h.add_route(&r).unwrap();
    let found = h
        .routes()
        .unwrap()
        .into_iter()
        .find(|x| x.dst == r.dst)
        .expect("route listed");
    assert_eq!(found.gateway, r.gateway);
    assert_eq!(
        (found.oif, found.metric, found.mtu, found.advmss),
        (Some(ix), Some(50), Some(1400), Some(1360))
    );
    assert_eq!(
        (found.src, found.table, found.protocol),
        (r.src, TABLE_MAIN, RouteProtocol::Boot)
    );
    assert_eq!(h.add_route(&r).unwrap_err().kind, NetErrorKind::Exists);

    // A table above 255 needs RTA_TABLE.
    let mut big = RouteSpec::new("0.0.0.0/0".parse().unwrap()).via("10.1.0.254".parse().unwrap());
    big.table = Some(1000);
    h.add_route(&big).unwrap();
    assert!(h
        .routes()
        .unwrap()
        .iter()
        .any(|x| x.table == 1000 && x.dst.prefix_len() == 0));
    assert!(host
        .ip(&["route", "show", "table", "1000"])
        .contains("default via 10.1.0.254"));

    h.del_route(&r).unwrap();
    assert!(!h.routes().unwrap().iter().any(|x| x.dst == r.dst));
    let e = h.del_route(&r).unwrap_err();
    assert_eq!(e.kind, NetErrorKind::NotFound, "{}", e.msg);
    assert!(
        e.msg.contains("no such route") && e.msg.contains("10.20.0.0/16"),
        "{}",
        e.msg
    );
    h.del_route(&big).unwrap();
}

#[test]
fn link_scope_and_ipv6_routes() {
    if !privileged("link_scope_and_ipv6_routes") {
        return;
    }
    let (host, cont) = (TestNs::new("host"), TestNs::new("cont"));
    let (h, ix) = with_link(&host, &cont);
    let direct = RouteSpec::new("192.168.77.0/24".parse().unwrap())
        .dev(ix)
        .scope(RouteScope::Link);
    h.add_route(&direct).unwrap();
    let found = h
        .routes()
        .unwrap()
        .into_iter()
        .find(|x| x.dst == direct.dst)
        .unwrap();
    assert_eq!((found.scope, found.gateway), (RouteScope::Link, None));

    h.add_address(
        ix,
        &AddressSpec {
            addr: "fd00:1::1/64".parse().unwrap(),
            nodad: true,
        },
    )
    .unwrap();
    let v6 = RouteSpec::new("fd00:99::/48".parse().unwrap())
        .via("fd00:1::fe".parse().unwrap())
        .dev(ix);
    h.add_route(&v6).unwrap();
    let found = h
        .routes()
        .unwrap()
        .into_iter()
        .find(|x| x.dst == v6.dst)
        .unwrap();
    assert_eq!(found.gateway, v6.gateway);
    h.del_route(&v6).unwrap();
}

#[test]
fn an_unreachable_gateway_is_unreachable() {
    if !privileged("an_unreachable_gateway_is_unreachable") {
        return;
    }
    let (host, cont) = (TestNs::new("host"), TestNs::new("cont"));
    let (h, _) = with_link(&host, &cont);
    let r = RouteSpec::new("10.30.0.0/16".parse().unwrap()).via("172.31.9.9".parse().unwrap());
    let e = h.add_route(&r).unwrap_err();
    assert_eq!(e.kind, NetErrorKind::Unreachable, "{}", e.msg);
    assert!(e.msg.contains("10.30.0.0/16 via 172.31.9.9"), "{}", e.msg);
    let r6 = RouteSpec::new("fd00:77::/48".parse().unwrap()).via("fd00:66::1".parse().unwrap());
    assert_eq!(
        h.add_route(&r6).unwrap_err().kind,
        NetErrorKind::Unreachable
    );
}
