//! Routes of every table: add, replace, delete, dump.

use super::Rtnl;
use cni_core::net::{
    NetError, NetErrorKind, NetResult, RouteInfo, RouteProtocol, RouteScope, RouteSpec, TABLE_MAIN,
};
use ipnet::IpNet;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteMetric,
    RouteProtocol as NlProtocol, RouteScope as NlScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use std::fmt::Write;
use std::net::IpAddr;

const RTPROT_BOOT: u8 = 3;
const RTPROT_STATIC: u8 = 4;
const RTPROT_KERNEL: u8 = 2;

/// `"10.0.0.0/8 via 1.2.3.4 dev #3 table 100 metric 5"`, for error messages.
pub fn describe(route: &RouteSpec) -> String {
    let mut s = route.dst.to_string();
    if let Some(gw) = route.gateway {
        let _ = write!(s, " via {gw}");
    }
    if let Some(oif) = route.oif {
        let _ = write!(s, " dev #{oif}");
    }
    if let Some(t) = route.table {
        let _ = write!(s, " table {t}");
    }
    if let Some(m) = route.metric {
        let _ = write!(s, " metric {m}");
    }
    s
}

fn to_route_address(ip: IpAddr) -> RouteAddress {
    match ip {
        IpAddr::V4(v4) => RouteAddress::Inet(v4),
        IpAddr::V6(v6) => RouteAddress::Inet6(v6),
    }
}

fn from_route_address(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn validate(route: &RouteSpec) -> NetResult<()> {
    let v4 = route.dst.addr().is_ipv4();
    let mixed = |ip: Option<IpAddr>| ip.is_some_and(|ip| ip.is_ipv4() != v4);
    if mixed(route.gateway) {
        return Err(NetError::invalid(format!(
            "route {}: gateway is of another IP family than the destination",
            describe(route)
        )));
    }
    if mixed(route.src) {
        return Err(NetError::invalid(format!(
            "route {}: source address is of another IP family than the destination",
            describe(route)
        )));
    }
    if route.dst.trunc() != route.dst {
        return Err(NetError::invalid(format!(
            "route {}: destination has host bits set (expected {})",
            describe(route),
            route.dst.trunc()
        )));
    }
    Ok(())
}

fn route_message(route: &RouteSpec, deleting: bool) -> RouteMessage {
    let mut msg = RouteMessage::default();
    let h = &mut msg.header;
    h.address_family = if route.dst.addr().is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    h.destination_prefix_length = route.dst.prefix_len();
    let table = route.table.unwrap_or(TABLE_MAIN);
    // The header holds 8 bits; larger table ids go in RTA_TABLE only (as iproute2 does).
    h.table = u8::try_from(table).unwrap_or(0);
    if deleting {
        // NOWHERE matches a route of any scope, as `ip route del` does.
        h.scope = NlScope::NoWhere;
    } else {
        h.protocol = NlProtocol::from(route.protocol.map_or(RTPROT_BOOT, |p| p.as_u8()));
        h.scope = NlScope::from(route.scope.as_u8());
        h.kind = RouteType::Unicast;
    }
    let attrs = &mut msg.attributes;
    if table > 255 {
        attrs.push(RouteAttribute::Table(table));
    }
    if route.dst.prefix_len() > 0 {
        attrs.push(RouteAttribute::Destination(to_route_address(
            route.dst.addr(),
        )));
    }
    if let Some(gw) = route.gateway {
        attrs.push(RouteAttribute::Gateway(to_route_address(gw)));
    }
    if let Some(oif) = route.oif {
        attrs.push(RouteAttribute::Oif(oif));
    }
    if let Some(metric) = route.metric {
        attrs.push(RouteAttribute::Priority(metric));
    }
    if let Some(src) = route.src {
        attrs.push(RouteAttribute::PrefSource(to_route_address(src)));
    }
    let mut metrics = Vec::new();
    if let Some(mtu) = route.mtu {
        metrics.push(RouteMetric::Mtu(mtu));
    }
    if let Some(advmss) = route.advmss {
        metrics.push(RouteMetric::Advmss(advmss));
    }
    if !metrics.is_empty() && !deleting {
        attrs.push(RouteAttribute::Metrics(metrics));
    }
    msg
}

/// Our view of a kernel route; `None` for what is not a plain route (multicast
/// routing families, cache clones, blackhole/unreachable/prohibit/throw entries).
/// Plugins see unicast-like routes of IPv4 and IPv6, not the route cache.
fn is_listed(h: &RouteHeader) -> bool {
    matches!(h.address_family, AddressFamily::Inet | AddressFamily::Inet6)
        && !h.flags.contains(RouteFlags::Cloned)
        && matches!(
            h.kind,
            RouteType::Unicast
                | RouteType::Local
                | RouteType::Broadcast
                | RouteType::Anycast
                | RouteType::Multicast
        )
}

fn protocol_of(h: &RouteHeader) -> RouteProtocol {
    match u8::from(h.protocol) {
        RTPROT_KERNEL => RouteProtocol::Kernel,
        RTPROT_BOOT | RTPROT_STATIC => RouteProtocol::Boot,
        other => RouteProtocol::Other(other),
    }
}

pub fn route_info_from(msg: &RouteMessage) -> Option<RouteInfo> {
    let h = &msg.header;
    if !is_listed(h) {
        return None;
    }
    let unspecified: IpAddr = if h.address_family == AddressFamily::Inet {
        IpAddr::V4(0.into())
    } else {
        IpAddr::V6(0u128.into())
    };
    let mut dst = unspecified;
    let mut info = RouteInfo {
        dst: IpNet::new(unspecified, 0).ok()?,
        gateway: None,
        oif: None,
        scope: RouteScope::from_u8(h.scope.into()),
        table: u32::from(h.table),
        metric: None,
        mtu: None,
        advmss: None,
        src: None,
        protocol: protocol_of(h),
    };
    for attr in &msg.attributes {
        match attr {
            RouteAttribute::Destination(a) => dst = from_route_address(a)?,
            RouteAttribute::Gateway(a) => info.gateway = from_route_address(a),
            RouteAttribute::Oif(i) => info.oif = Some(*i),
            RouteAttribute::Table(t) => info.table = *t,
            RouteAttribute::Priority(p) => info.metric = Some(*p),
            RouteAttribute::PrefSource(a) => info.src = from_route_address(a),
            RouteAttribute::Metrics(ms) => {
                for m in ms {
                    match m {
                        RouteMetric::Mtu(v) => info.mtu = Some(*v),
                        RouteMetric::Advmss(v) => info.advmss = Some(*v),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    info.dst = IpNet::new(dst, h.destination_prefix_length).ok()?;
    Some(info)
}

impl Rtnl {
    pub fn routes(&self) -> NetResult<Vec<RouteInfo>> {
        let replies = self.sock.dump(
            RouteNetlinkMessage::GetRoute(RouteMessage::default()),
            || format!("list routes in {}", self.ns),
        )?;
        Ok(replies
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewRoute(r) => route_info_from(r),
                _ => None,
            })
            .collect())
    }

    pub fn add_route(&self, route: &RouteSpec) -> NetResult<()> {
        validate(route)?;
        self.sock.request(
            RouteNetlinkMessage::NewRoute(route_message(route, false)),
            NLM_F_CREATE | NLM_F_EXCL,
            || format!("add route {} in {}", describe(route), self.ns),
        )
    }

    pub fn del_route(&self, route: &RouteSpec) -> NetResult<()> {
        validate(route)?;
        let what = || format!("delete route {} in {}", describe(route), self.ns);
        let result = self.sock.request(
            RouteNetlinkMessage::DelRoute(route_message(route, true)),
            0,
            what,
        );
        // ESRCH reads "No such process"; say what it means here.
        result.map_err(|e| match e.kind {
            NetErrorKind::NotFound => NetError::not_found(format!("{}: no such route", what())),
            _ => e,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_table_ids_go_in_rta_table() {
        let mut r = RouteSpec::new("10.0.0.0/8".parse().unwrap());
        r.table = Some(1000);
        let msg = route_message(&r, false);
        assert_eq!(msg.header.table, 0);
        assert!(msg.attributes.contains(&RouteAttribute::Table(1000)));
        r.table = Some(100);
        let msg = route_message(&r, false);
        assert_eq!(msg.header.table, 100);
        assert!(!msg
            .attributes
            .iter()
            .any(|a| matches!(a, RouteAttribute::Table(_))));
    }

    #[test]
    fn route_message_round_trips_to_route_info() {
        let mut r = RouteSpec::new("10.9.0.0/16".parse().unwrap())
            .via("10.0.0.1".parse().unwrap())
            .dev(4);
        r.metric = Some(7);
        r.mtu = Some(1400);
        r.advmss = Some(1360);
        r.src = Some("10.0.0.5".parse().unwrap());
        let info = route_info_from(&route_message(&r, false)).unwrap();
        assert_eq!(info.dst, r.dst);
        assert_eq!(info.gateway, r.gateway);
        assert_eq!(
            (info.oif, info.metric, info.mtu, info.advmss),
            (Some(4), Some(7), Some(1400), Some(1360))
        );
        assert_eq!(info.src, r.src);
        assert_eq!(info.table, TABLE_MAIN);
        assert_eq!(info.protocol, RouteProtocol::Boot);
    }

    #[test]
    fn mixed_families_are_rejected_before_the_kernel_sees_them() {
        let r = RouteSpec::new("10.0.0.0/8".parse().unwrap()).via("fd00::1".parse().unwrap());
        let e = validate(&r).unwrap_err();
        assert_eq!(e.kind, cni_core::net::NetErrorKind::Invalid);
        assert!(e.msg.contains("gateway"), "{}", e.msg);
    }
}
