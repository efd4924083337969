//! A backend-neutral text view of a namespace, read only through the trait,
//! so the simulator and a real kernel can be compared line by line.

use super::{open, settles, SuiteEnv};
use cni_core::net::VethSpec;
use cni_core::net::{
    AddressSpec, BridgeSpec, LinkInfo, LinkKind, NetResult, Netns, RouteInfo, RouteScope,
    RouteSpec, TABLE_MAIN,
};
use std::fmt::Write;

fn is_link_local(net: &ipnet::IpNet) -> bool {
    matches!(net.addr(), std::net::IpAddr::V6(a) if (a.segments()[0] & 0xffc0) == 0xfe80)
}

/// Links by name (no indexes, no MACs), addresses other than link-local ones,
/// and main-table routes other than IPv6 link-local ones, each sorted.
pub fn normalized_view(ns: &dyn Netns) -> NetResult<String> {
    let links = ns.links()?;
    let name_of = |i: u32| link_name(&links, i);
    let mut lines: Vec<String> = links.iter().map(|l| link_line(l, &name_of)).collect();
    for a in ns.addresses(None)? {
        if !is_link_local(&a.addr) {
            lines.push(format!("addr {} dev {}", a.addr, name_of(a.index)));
        }
    }
    for r in ns.routes()? {
        if r.table == TABLE_MAIN && !is_link_local(&r.dst) {
            lines.push(route_line(&r, &name_of));
        }
    }
    lines.sort();
    Ok(lines.join("\n"))
}

/// The name of the link with index `i` among `links` (`if<i>` when none).
pub fn link_name(links: &[LinkInfo], i: u32) -> String {
    links
        .iter()
        .find(|l| l.index == i)
        .map_or_else(|| format!("if{i}"), |l| l.name.clone())
}

fn link_line(l: &LinkInfo, name_of: &dyn Fn(u32) -> String) -> String {
    let kind = match &l.kind {
        LinkKind::Loopback => "loopback",
        LinkKind::Bridge => "bridge",
        LinkKind::Veth => "veth",
        LinkKind::Macvlan => "macvlan",
        LinkKind::Ipvlan => "ipvlan",
        LinkKind::Vlan => "vlan",
        LinkKind::Tap => "tap",
        LinkKind::Dummy => "dummy",
        LinkKind::Vrf => "vrf",
        LinkKind::Other(k) => k,
    };
    let state = match (l.up, l.oper_up) {
        (true, true) => "UP,LOWER_UP",
        (true, false) => "UP,NO-CARRIER",
        (false, _) => "DOWN",
    };
    let mut s = format!(
        "link {} {kind} mtu {} qlen {} {state}",
        l.name, l.mtu, l.txqueuelen
    );
    if let Some(m) = l.master {
        let _ = write!(s, " master {}", name_of(m));
    }
    if let Some(mode) = l.macvlan_mode {
        let _ = write!(s, " mode {mode}");
    }
    if let Some(mode) = l.ipvlan_mode {
        let _ = write!(s, " mode {mode}");
    }
    if let Some(id) = l.vlan_id {
        let _ = write!(s, " id {id}");
    }
    if let Some(t) = l.vrf_table {
        let _ = write!(s, " table {t}");
    }
    if l.hairpin == Some(true) {
        s.push_str(" hairpin");
    }
    if l.isolated == Some(true) {
        s.push_str(" isolated");
    }
    if let Some(q) = l.bc_queue_len.filter(|q| *q != 1000) {
        let _ = write!(s, " bcqueuelen {q}");
    }
    if let Some(t) = &l.tap {
        let _ = write!(
            s,
            " tap pi {} vnet_hdr {} persist {} multi_queue {} owner {:?} group {:?}",
            t.pi, t.vnet_hdr, t.persist, t.multi_queue, t.owner, t.group
        );
    }
    if l.promisc {
        s.push_str(" promisc");
    }
    if l.allmulti {
        s.push_str(" allmulti");
    }
    s
}

fn route_line(r: &RouteInfo, name_of: &dyn Fn(u32) -> String) -> String {
    let mut s = format!("route {}", r.dst);
    if let Some(g) = r.gateway {
        let _ = write!(s, " via {g}");
    }
    if let Some(o) = r.oif {
        let _ = write!(s, " dev {}", name_of(o));
    }
    if let Some(src) = r.src {
        let _ = write!(s, " src {src}");
    }
    s
}

const BRIDGE_TOPOLOGY: &str = "\
== host
addr 10.30.0.1/24 dev tbr0
link lo loopback mtu 65536 qlen 1000 DOWN
link tbr0 bridge mtu 1500 qlen 1000 UP,LOWER_UP
link tv1 veth mtu 1500 qlen 1000 UP,LOWER_UP master tbr0
link tv2 veth mtu 1500 qlen 1000 UP,LOWER_UP master tbr0 hairpin
route 10.30.0.0/24 dev tbr0 src 10.30.0.1
== c1
addr 10.30.0.2/24 dev eth0
link eth0 veth mtu 1500 qlen 1000 UP,LOWER_UP
link lo loopback mtu 65536 qlen 1000 DOWN
route 0.0.0.0/0 via 10.30.0.1 dev eth0
route 10.30.0.0/24 dev eth0 src 10.30.0.2
== c2
addr 10.30.0.3/24 dev eth0
link eth0 veth mtu 1500 qlen 1000 UP,LOWER_UP
link lo loopback mtu 65536 qlen 1000 DOWN
route 0.0.0.0/0 via 10.30.0.1 dev eth0
route 10.30.0.0/24 dev eth0 src 10.30.0.3";

/// What the bridge plugin builds: a bridge with a gateway address and two
/// veth ports into two containers with addresses and default routes.
pub fn bridge_topology_view_matches_reference(env: &mut dyn SuiteEnv) {
    let host_ref = env.host();
    let host = open(env, &host_ref);
    let br = host
        .create_bridge(&BridgeSpec {
            name: "tbr0".into(),
            ..BridgeSpec::default()
        })
        .unwrap();
    host.add_address(br.index, &AddressSpec::new("10.30.0.1/24".parse().unwrap()))
        .unwrap();
    host.set_up(br.index, true).unwrap();
    let mut views = vec![("host".to_string(), host_ref)];
    for n in 1..=2u8 {
        let cref = env.new_netns();
        let c = open(env, &cref);
        let pair = host
            .create_veth(&VethSpec::new(format!("tv{n}"), "eth0"), &cref)
            .unwrap();
        host.set_master(pair.local.index, Some(br.index)).unwrap();
        host.set_hairpin(pair.local.index, n == 2).unwrap();
        host.set_up(pair.local.index, true).unwrap();
        c.set_up(pair.peer.index, true).unwrap();
        let addr = format!("10.30.0.{}/24", n + 1);
        c.add_address(pair.peer.index, &AddressSpec::new(addr.parse().unwrap()))
            .unwrap();
        c.add_route(
            &RouteSpec::new("0.0.0.0/0".parse().unwrap())
                .via("10.30.0.1".parse().unwrap())
                .scope(RouteScope::Universe),
        )
        .unwrap();
        views.push((format!("c{n}"), cref));
    }
    let render = |views: &[(String, cni_core::net::NsRef)]| {
        views
            .iter()
            .map(|(label, r)| format!("== {label}\n{}", normalized_view(&*open(env, r)).unwrap()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    // Carrier may lag on a real kernel: wait for it, then compare (with a diff).
    let mut last = String::new();
    let _ = settles(|| {
        last = render(&views);
        last == BRIDGE_TOPOLOGY
    });
    assert_eq!(last, BRIDGE_TOPOLOGY);
}
