//! Rules about addresses and routes.

use super::{expect_kind, open, two, SuiteEnv};
use cni_core::net::VethSpec;
use cni_core::net::{
    AddressSpec, NetErrorKind, Netns, RouteInfo, RouteProtocol, RouteScope, RouteSpec, TABLE_MAIN,
};
use ipnet::IpNet;

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

/// A veth end in the host with carrier (both ends up), returning its index.
fn up_veth(env: &mut dyn SuiteEnv, host: &dyn Netns, name: &str) -> u32 {
    let other = env.new_netns();
    let pair = host
        .create_veth(&VethSpec::new(name, format!("{name}p")), &other)
        .unwrap();
    open(env, &other).set_up(pair.peer.index, true).unwrap();
    host.set_up(pair.local.index, true).unwrap();
    pair.local.index
}

fn main_routes_via(ns: &dyn Netns, index: u32, dst: IpNet) -> Vec<RouteInfo> {
    ns.routes()
        .unwrap()
        .into_iter()
        .filter(|r| r.table == TABLE_MAIN && r.oif == Some(index) && r.dst == dst)
        .collect()
}

pub fn ipv4_prefix_route_exists_only_while_link_up(env: &mut dyn SuiteEnv) {
    let (host, _c, cref) = two(env);
    let pair = host
        .create_veth(&VethSpec::new("pf0", "pf0p"), &cref)
        .unwrap();
    let i = pair.local.index;
    host.add_address(i, &AddressSpec::new(net("10.61.0.5/24")))
        .unwrap();
    assert!(
        main_routes_via(&*host, i, net("10.61.0.0/24")).is_empty(),
        "route while down"
    );
    host.set_up(i, true).unwrap();
    let routes = main_routes_via(&*host, i, net("10.61.0.0/24"));
    assert_eq!(routes.len(), 1, "{routes:?}");
    let r = &routes[0];
    assert_eq!(
        (r.protocol, r.scope, r.src, r.gateway),
        (
            RouteProtocol::Kernel,
            RouteScope::Link,
            Some("10.61.0.5".parse().unwrap()),
            None
        )
    );
    host.set_up(i, false).unwrap();
    assert!(
        main_routes_via(&*host, i, net("10.61.0.0/24")).is_empty(),
        "route after down"
    );
    let kept = host.addresses(Some(i)).unwrap();
    assert!(
        kept.iter().any(|a| a.addr == net("10.61.0.5/24")),
        "IPv4 address lost: {kept:?}"
    );
}

pub fn ipv6_prefix_route_has_metric_256(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let i = up_veth(env, &*host, "p6");
    let spec = AddressSpec {
        addr: net("2001:db8:61::5/64"),
        nodad: true,
    };
    host.add_address(i, &spec).unwrap();
    let routes = main_routes_via(&*host, i, net("2001:db8:61::/64"));
    assert_eq!(routes.len(), 1, "{routes:?}");
    assert_eq!(
        (routes[0].metric, routes[0].protocol),
        (Some(256), RouteProtocol::Kernel)
    );
}

pub fn slash_32_address_adds_no_prefix_route(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let i = up_veth(env, &*host, "p32");
    host.add_address(i, &AddressSpec::new(net("10.62.0.1/32")))
        .unwrap();
    let main: Vec<_> = host
        .routes()
        .unwrap()
        .into_iter()
        .filter(|r| r.table == TABLE_MAIN && r.dst.addr().is_ipv4())
        .collect();
    assert!(main.is_empty(), "{main:?}");
}

pub fn duplicate_address_is_exists(env: &mut dyn SuiteEnv) {
    let (host, _c, cref) = two(env);
    let i = host
        .create_veth(&VethSpec::new("da0", "da0p"), &cref)
        .unwrap()
        .local
        .index;
    let spec = AddressSpec::new(net("10.63.0.5/24"));
    host.add_address(i, &spec).unwrap();
    expect_kind(
        host.add_address(i, &spec),
        NetErrorKind::Exists,
        "same address twice",
    );
    let v6 = AddressSpec {
        addr: net("2001:db8:63::5/64"),
        nodad: true,
    };
    host.add_address(i, &v6).unwrap();
    let other_prefix = AddressSpec {
        addr: net("2001:db8:63::5/96"),
        nodad: true,
    };
    expect_kind(
        host.add_address(i, &other_prefix),
        NetErrorKind::Exists,
        "IPv6 same address",
    );
}

pub fn deleting_absent_address_is_not_found(env: &mut dyn SuiteEnv) {
    let (host, _c, cref) = two(env);
    let i = host
        .create_veth(&VethSpec::new("dn0", "dn0p"), &cref)
        .unwrap()
        .local
        .index;
    host.add_address(i, &AddressSpec::new(net("10.64.0.5/24")))
        .unwrap();
    expect_kind(
        host.del_address(i, net("10.64.0.6/24")),
        NetErrorKind::NotFound,
        "absent address",
    );
    host.del_address(i, net("10.64.0.5/24")).unwrap();
    expect_kind(
        host.del_address(i, net("10.64.0.5/24")),
        NetErrorKind::NotFound,
        "deleted twice",
    );
}

pub fn unreachable_gateway_is_rejected(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let i = up_veth(env, &*host, "ur0");
    host.add_address(i, &AddressSpec::new(net("10.65.0.5/24")))
        .unwrap();
    let route = RouteSpec::new(net("10.99.0.0/16")).via("10.66.0.1".parse().unwrap());
    expect_kind(
        host.add_route(&route),
        NetErrorKind::Unreachable,
        "gateway off-link",
    );
}

pub fn gateway_route_resolves_output_link(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let i = up_veth(env, &*host, "gw0");
    host.add_address(i, &AddressSpec::new(net("10.67.0.5/24")))
        .unwrap();
    let route = RouteSpec::new(net("10.98.0.0/16")).via("10.67.0.1".parse().unwrap());
    host.add_route(&route).unwrap();
    let found = main_routes_via(&*host, i, net("10.98.0.0/16"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].gateway, Some("10.67.0.1".parse().unwrap()));
}

pub fn duplicate_route_is_exists(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let i = up_veth(env, &*host, "dr0");
    host.add_address(i, &AddressSpec::new(net("10.68.0.5/24")))
        .unwrap();
    let route = RouteSpec::new(net("10.97.0.0/16")).via("10.68.0.1".parse().unwrap());
    host.add_route(&route).unwrap();
    expect_kind(
        host.add_route(&route),
        NetErrorKind::Exists,
        "same route twice",
    );
    assert_eq!(main_routes_via(&*host, i, net("10.97.0.0/16")).len(), 1);
}

pub fn deleting_absent_route_is_not_found(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let i = up_veth(env, &*host, "dx0");
    let route = RouteSpec::new(net("10.96.0.0/16"))
        .dev(i)
        .scope(RouteScope::Link);
    expect_kind(
        host.del_route(&route),
        NetErrorKind::NotFound,
        "absent route",
    );
    host.add_route(&route).unwrap();
    host.del_route(&route).unwrap();
    expect_kind(
        host.del_route(&route),
        NetErrorKind::NotFound,
        "deleted twice",
    );
}

/// The local table keeps the address's local route: only the main table counts.
pub fn link_down_drops_its_routes(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let i = up_veth(env, &*host, "ld0");
    host.add_address(i, &AddressSpec::new(net("10.69.0.5/24")))
        .unwrap();
    let route = RouteSpec::new(net("10.95.0.0/16")).via("10.69.0.1".parse().unwrap());
    host.add_route(&route).unwrap();
    host.set_up(i, false).unwrap();
    let left: Vec<_> = host
        .routes()
        .unwrap()
        .into_iter()
        .filter(|r| r.table == TABLE_MAIN && r.oif == Some(i) && r.dst.addr().is_ipv4())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

pub fn deleting_link_removes_its_addresses_and_routes(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let i = up_veth(env, &*host, "dl0");
    host.add_address(i, &AddressSpec::new(net("10.70.0.5/24")))
        .unwrap();
    host.delete_link(i).unwrap();
    assert!(host.addresses(None).unwrap().iter().all(|a| a.index != i));
    assert!(host.routes().unwrap().iter().all(|r| r.oif != Some(i)));
}
