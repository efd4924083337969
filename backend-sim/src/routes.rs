//! Routes users add, replace and delete; a gateway must be reachable.
//!
//! Only routing tables users write to are modelled: the kernel's local table
//! (local and broadcast routes of each address) is not, so `routes()` differs
//! from a real kernel's there.

use crate::model::{Namespace, Net, NsId};
use cni_core::net::{NetError, NetResult, RouteInfo, RouteProtocol, RouteSpec, TABLE_MAIN};
use std::net::IpAddr;

/// The metric Linux gives an IPv6 route added without one.
const IPV6_USER_METRIC: u32 = 1024;

pub(crate) fn routes(net: &Net, ns: &NsId) -> NetResult<Vec<RouteInfo>> {
    Ok(net.ns(ns)?.routes.clone())
}

/// The link a gateway is reached through: a connected route (no gateway) of
/// an up link covering it, restricted to `oif` when given.
fn resolve_gateway(space: &Namespace, gw: IpAddr, oif: Option<u32>) -> NetResult<u32> {
    if let (IpAddr::V6(a), Some(o)) = (gw, oif) {
        if (a.segments()[0] & 0xffc0) == 0xfe80 {
            return Ok(o);
        }
    }
    space
        .routes
        .iter()
        .filter(|r| r.gateway.is_none() && r.dst.contains(&gw))
        .filter(|r| oif.is_none() || r.oif == oif)
        .filter_map(|r| r.oif)
        .filter(|o| space.links.get(o).is_some_and(|l| l.up))
        .max_by_key(|o| {
            space
                .routes
                .iter()
                .filter(|r| r.oif == Some(*o) && r.dst.contains(&gw))
                .map(|r| r.dst.prefix_len())
                .max()
        })
        .ok_or_else(|| NetError::unreachable(format!("gateway {gw} is not reachable")))
}

fn route_from_spec(space: &Namespace, spec: &RouteSpec) -> NetResult<RouteInfo> {
    let dst = spec.dst.trunc();
    if let Some(gw) = spec.gateway {
        if gw.is_ipv4() != dst.addr().is_ipv4() {
            return Err(NetError::invalid(format!(
                "gateway {gw} and destination {dst} are of different families"
            )));
        }
    }
    if let Some(o) = spec.oif {
        let link = space.link(o)?;
        if !link.up {
            return Err(NetError::unreachable(format!(
                "route {dst}: link {:?} is down",
                link.name
            )));
        }
    }
    let oif = match spec.gateway {
        Some(gw) => Some(resolve_gateway(space, gw, spec.oif)?),
        None => spec.oif,
    };
    if oif.is_none() {
        return Err(NetError::invalid(format!(
            "route {dst} needs a gateway or an output link"
        )));
    }
    let v6 = dst.addr().is_ipv6();
    Ok(RouteInfo {
        dst,
        gateway: spec.gateway,
        oif,
        scope: spec.scope,
        table: spec.table.unwrap_or(TABLE_MAIN),
        metric: match spec.metric {
            Some(m) if v6 && m == 0 => Some(IPV6_USER_METRIC),
            Some(0) => None,
            Some(m) => Some(m),
            None => v6.then_some(IPV6_USER_METRIC),
        },
        mtu: spec.mtu,
        advmss: spec.advmss,
        src: spec.src,
        protocol: spec.protocol.unwrap_or(RouteProtocol::Boot),
    })
}

/// Linux keys IPv4 routes by (table, dst, metric); IPv6 also by next hop.
fn same_route_key(a: &RouteInfo, b: &RouteInfo) -> bool {
    let base = a.table == b.table && a.dst == b.dst && a.metric == b.metric;
    if a.dst.addr().is_ipv4() {
        base
    } else {
        base && a.gateway == b.gateway && a.oif == b.oif
    }
}

pub(crate) fn add_route(net: &mut Net, ns: &NsId, spec: &RouteSpec) -> NetResult<()> {
    let space = net.ns_mut(ns)?;
    let route = route_from_spec(space, spec)?;
    if space.routes.iter().any(|r| same_route_key(r, &route)) {
        return Err(NetError::exists(format!(
            "route to {} already exists",
            route.dst
        )));
    }
    space.routes.push(route);
    Ok(())
}

pub(crate) fn del_route(net: &mut Net, ns: &NsId, spec: &RouteSpec) -> NetResult<()> {
    let space = net.ns_mut(ns)?;
    let dst = spec.dst.trunc();
    let table = spec.table.unwrap_or(TABLE_MAIN);
    let pos = space
        .routes
        .iter()
        .position(|r| {
            r.dst == dst
                && r.table == table
                && spec.gateway.is_none_or(|g| r.gateway == Some(g))
                && spec.oif.is_none_or(|o| r.oif == Some(o))
                && spec.metric.is_none_or(|m| r.metric.unwrap_or(0) == m)
        })
        .ok_or_else(|| NetError::not_found(format!("route to {dst} not found")))?;
    space.routes.remove(pos);
    Ok(())
}
