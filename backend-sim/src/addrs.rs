//! Addresses, with the prefix routes and link-local addresses the kernel
//! derives from them and from links going up and down.

use crate::model::{Addr, Namespace, Net, NsId};
use cni_core::net::{
    AddressInfo, AddressSpec, LinkKind, MacAddr, NetError, NetErrorKind, NetResult, RouteInfo,
    RouteProtocol, RouteScope,
};
use ipnet::{IpNet, Ipv6Net};
use std::net::{IpAddr, Ipv6Addr};

/// IPv6 prefix routes and link-local routes carry this metric on Linux.
const IPV6_KERNEL_METRIC: u32 = 256;

fn address_scope(addr: &IpNet) -> RouteScope {
    match addr.addr() {
        IpAddr::V4(a) if a.is_loopback() => RouteScope::Host,
        IpAddr::V6(a) if a.is_loopback() => RouteScope::Host,
        IpAddr::V6(a) if (a.segments()[0] & 0xffc0) == 0xfe80 => RouteScope::Link,
        _ => RouteScope::Universe,
    }
}

fn prefix_route(a: &Addr, table: u32) -> Option<RouteInfo> {
    let v4 = a.addr.addr().is_ipv4();
    // Linux: no IPv4 prefix route for /32 or loopback; IPv6 loopback is local-only.
    if a.scope == RouteScope::Host || (v4 && a.addr.prefix_len() == 32) {
        return None;
    }
    Some(RouteInfo {
        dst: a.addr.trunc(),
        gateway: None,
        oif: Some(a.index),
        scope: if v4 {
            RouteScope::Link
        } else {
            RouteScope::Universe
        },
        table,
        metric: (!v4).then_some(IPV6_KERNEL_METRIC),
        mtu: None,
        advmss: None,
        src: v4.then(|| a.addr.addr()),
        protocol: RouteProtocol::Kernel,
    })
}

fn add_prefix_route(space: &mut Namespace, a: &Addr) {
    // A VRF port's connected routes go to the VRF's table.
    if let Some(route) = prefix_route(a, space.l3_table(a.index)) {
        let present = space.routes.iter().any(|r| {
            r.table == route.table
                && r.dst == route.dst
                && r.oif == route.oif
                && r.protocol == route.protocol
        });
        if !present {
            space.routes.push(route);
        }
    }
}

pub(crate) fn on_link_up(space: &mut Namespace, index: u32) {
    let is_lo = space
        .links
        .get(&index)
        .is_some_and(|l| l.kind == LinkKind::Loopback);
    if is_lo {
        // Linux configures loopback addresses itself when lo comes up.
        for addr in ["127.0.0.1/8", "::1/128"] {
            let addr: IpNet = addr.parse().expect("constant loopback address");
            if !space
                .addrs
                .iter()
                .any(|a| a.index == index && a.addr == addr)
            {
                space.addrs.push(Addr {
                    index,
                    addr,
                    scope: RouteScope::Host,
                    nodad: false,
                });
            }
        }
    }
    let addrs: Vec<Addr> = space
        .addrs
        .iter()
        .filter(|a| a.index == index)
        .cloned()
        .collect();
    for a in &addrs {
        add_prefix_route(space, a);
    }
}

/// Linux drops every route through a downed link, and its IPv6 addresses
/// unless keep_addr_on_down (`all`'s when not 0, else the link's) is
/// positive: then its global ones stay (their prefix routes come back when
/// it is up again) and only link-local ones go. IPv4 addresses stay.
pub(crate) fn on_link_down(space: &mut Namespace, index: u32) {
    let keep = keeps_v6_addresses(space, index);
    space.routes.retain(|r| r.oif != Some(index));
    space.addrs.retain(|a| {
        a.index != index || a.addr.addr().is_ipv4() || (keep && a.scope == RouteScope::Universe)
    });
}

fn keeps_v6_addresses(space: &Namespace, index: u32) -> bool {
    let value = |v: Option<&String>| v.and_then(|v| v.trim().parse::<i32>().ok()).unwrap_or(0);
    let all = value(space.sysctls.get("net/ipv6/conf/all/keep_addr_on_down"));
    let link = space
        .links
        .get(&index)
        .map_or(0, |l| value(l.conf.get("ipv6/keep_addr_on_down")));
    (if all != 0 { all } else { link }) > 0
}

fn eui64_link_local(mac: MacAddr) -> IpNet {
    let m = mac.0;
    let seg = |a: u8, b: u8| (u16::from(a) << 8) | u16::from(b);
    let addr = Ipv6Addr::new(
        0xfe80,
        0,
        0,
        0,
        seg(m[0] ^ 0x02, m[1]),
        seg(m[2], 0xff),
        seg(0xfe, m[3]),
        seg(m[4], m[5]),
    );
    IpNet::V6(Ipv6Net::new(addr, 64).expect("64 is a valid IPv6 prefix length"))
}

/// When a link gains carrier Linux gives it an IPv6 link-local address and
/// the fe80::/64 route; once per up-cycle, so a user may delete them.
pub(crate) fn settle_link_local(net: &mut Net) {
    let mut due = Vec::new();
    for (id, space) in &net.namespaces {
        let v6_off = space
            .sysctls
            .get("net/ipv6/conf/all/disable_ipv6")
            .is_some_and(|v| v == "1");
        for l in space.links.values() {
            let disabled = v6_off || l.conf.get("ipv6/disable_ipv6").is_some_and(|v| v == "1");
            // No link-local address on an L3 master (Linux's addrconf_addr_gen).
            if !matches!(l.kind, LinkKind::Loopback | LinkKind::Vrf)
                && !l.link_local_done
                && !disabled
                && net.oper_up(id, l.index)
            {
                due.push((id.clone(), l.index, l.mac));
            }
        }
    }
    for (id, index, mac) in due {
        let Some(space) = net.namespaces.get_mut(&id) else {
            continue;
        };
        if let Some(l) = space.links.get_mut(&index) {
            l.link_local_done = true;
        }
        let addr = Addr {
            index,
            addr: eui64_link_local(mac),
            scope: RouteScope::Link,
            nodad: false,
        };
        if !space
            .addrs
            .iter()
            .any(|a| a.index == index && a.addr == addr.addr)
        {
            space.addrs.push(addr.clone());
        }
        add_prefix_route(space, &addr);
    }
}

pub(crate) fn addresses(net: &Net, ns: &NsId, index: Option<u32>) -> NetResult<Vec<AddressInfo>> {
    let space = net.ns(ns)?;
    if let Some(i) = index {
        space.link(i)?;
    }
    Ok(space
        .addrs
        .iter()
        .filter(|a| index.is_none_or(|i| a.index == i))
        .map(|a| AddressInfo {
            index: a.index,
            addr: a.addr,
            scope: a.scope,
            nodad: a.nodad,
        })
        .collect())
}

fn same_address(a: &IpNet, b: &IpNet) -> bool {
    // IPv4 keys an address by address and prefix; IPv6 by address alone.
    match (a, b) {
        (IpNet::V4(_), IpNet::V4(_)) => a == b,
        (IpNet::V6(x), IpNet::V6(y)) => x.addr() == y.addr(),
        _ => false,
    }
}

pub(crate) fn add_address(
    net: &mut Net,
    ns: &NsId,
    index: u32,
    spec: &AddressSpec,
) -> NetResult<()> {
    let space = net.ns_mut(ns)?;
    let up = space.link(index)?.up;
    let disabled6 = space
        .link(index)?
        .conf
        .get("ipv6/disable_ipv6")
        .is_some_and(|v| v == "1");
    if spec.addr.addr().is_ipv6() && disabled6 {
        return Err(NetError::new(
            NetErrorKind::Permission,
            format!("IPv6 is disabled on link index {index}"),
        ));
    }
    if spec.addr.addr().is_unspecified() {
        return Err(NetError::invalid(format!(
            "address {} is unspecified",
            spec.addr
        )));
    }
    if space
        .addrs
        .iter()
        .any(|a| a.index == index && same_address(&a.addr, &spec.addr))
    {
        return Err(NetError::exists(format!(
            "address {} already assigned to link index {index}",
            spec.addr
        )));
    }
    let addr = Addr {
        index,
        addr: spec.addr,
        scope: address_scope(&spec.addr),
        nodad: spec.nodad,
    };
    space.addrs.push(addr.clone());
    if up {
        add_prefix_route(space, &addr);
    }
    Ok(())
}

pub(crate) fn del_address(net: &mut Net, ns: &NsId, index: u32, addr: IpNet) -> NetResult<()> {
    let space = net.ns_mut(ns)?;
    space.link(index)?;
    let pos = space
        .addrs
        .iter()
        .position(|a| a.index == index && same_address(&a.addr, &addr))
        .ok_or_else(|| {
            NetError::not_found(format!("address {addr} not found on link index {index}"))
        })?;
    let removed = space.addrs.remove(pos);
    let still_covered = space
        .addrs
        .iter()
        .any(|a| a.index == index && a.addr.trunc() == removed.addr.trunc());
    if !still_covered {
        let dst = removed.addr.trunc();
        space.routes.retain(|r| {
            !(r.dst == dst && r.oif == Some(index) && r.protocol == RouteProtocol::Kernel)
        });
    }
    Ok(())
}
