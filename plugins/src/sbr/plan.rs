//! The pure decisions of sbr, as the reference makes them: which addresses
//! of `prevResult` are the interface's, which table is free, which routes
//! of the interface follow an address into its table.

use cni_core::net::{RouteInfo, RuleInfo};
use cni_core::spec::{CniResult, IpConfig};
use ipnet::IpNet;
use std::net::IpAddr;

/// The reference's first candidate table.
pub const FIRST_TABLE: u32 = 100;

/// The addresses of `ifname`: an address naming another interface is
/// skipped, one naming none (or an index out of range) is kept.
pub fn ip_configs<'a>(prev: &'a CniResult, ifname: &str) -> Vec<&'a IpConfig> {
    prev.ips
        .iter()
        .filter(|ip| {
            ip.interface
                .and_then(|i| prev.interfaces.get(i))
                .is_none_or(|iface| iface.name == ifname)
        })
        .collect()
}

/// The first table from `candidate` on that no rule points at and no route is in.
pub fn next_free_table(rules: &[RuleInfo], routes: &[RouteInfo], candidate: u32) -> u32 {
    let mut table = candidate;
    while rules.iter().any(|r| r.table == table) || routes.iter().any(|r| r.table == table) {
        table += 1;
    }
    table
}

/// The rule's source: the address alone, not its subnet.
pub fn source_of(addr: IpAddr) -> IpNet {
    IpNet::from(addr)
}

/// Whether a route of the interface follows `address` into its table: its
/// source or gateway is in the address's subnet, or it has neither (a
/// route of the link itself, such as IPv6's `fe80::/64`).
pub fn follows(address: &IpNet, route: &RouteInfo) -> bool {
    let inside = |ip: Option<IpAddr>| ip.is_some_and(|ip| address.contains(&ip));
    inside(route.src) || inside(route.gateway) || (route.src.is_none() && route.gateway.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cni_core::net::{RouteProtocol, RouteScope, TABLE_MAIN};
    use cni_core::spec::Interface;

    fn route(dst: &str, gw: Option<&str>, src: Option<&str>, table: u32) -> RouteInfo {
        RouteInfo {
            dst: dst.parse().unwrap(),
            gateway: gw.map(|g| g.parse().unwrap()),
            oif: Some(2),
            scope: RouteScope::Universe,
            table,
            metric: None,
            mtu: None,
            advmss: None,
            src: src.map(|s| s.parse().unwrap()),
            protocol: RouteProtocol::Boot,
        }
    }

    fn rule(table: u32) -> RuleInfo {
        RuleInfo {
            ipv6: false,
            priority: 1,
            src: None,
            table,
        }
    }

    #[test]
    fn the_free_table_skips_tables_with_rules_or_routes() {
        let rules = [rule(100), rule(TABLE_MAIN)];
        let routes = [route("0.0.0.0/0", Some("10.0.0.1"), None, 101)];
        assert_eq!(next_free_table(&rules, &routes, FIRST_TABLE), 102);
        assert_eq!(next_free_table(&[], &[], FIRST_TABLE), 100);
        assert_eq!(next_free_table(&rules, &routes, 103), 103);
    }

    #[test]
    fn routes_follow_by_source_gateway_or_having_neither() {
        let addr: IpNet = "10.1.0.5/24".parse().unwrap();
        let main = TABLE_MAIN;
        assert!(follows(
            &addr,
            &route("10.1.0.0/24", None, Some("10.1.0.5"), main)
        ));
        assert!(follows(
            &addr,
            &route("0.0.0.0/0", Some("10.1.0.1"), None, main)
        ));
        assert!(follows(&addr, &route("fe80::/64", None, None, main)));
        assert!(!follows(
            &addr,
            &route("0.0.0.0/0", Some("10.2.0.1"), None, main)
        ));
        assert!(!follows(
            &addr,
            &route("10.2.0.0/24", None, Some("10.2.0.5"), main)
        ));
    }

    #[test]
    fn addresses_of_other_interfaces_are_skipped() {
        let mut prev = CniResult::default();
        for name in ["veth0", "eth0"] {
            prev.interfaces.push(Interface {
                name: name.into(),
                ..Default::default()
            });
        }
        for (addr, iface) in [
            ("10.0.0.1/24", Some(0)),
            ("10.1.0.5/24", Some(1)),
            ("10.2.0.5/24", None),
        ] {
            prev.ips.push(IpConfig {
                address: addr.parse().unwrap(),
                gateway: None,
                interface: iface,
            });
        }
        let picked: Vec<String> = ip_configs(&prev, "eth0")
            .iter()
            .map(|ip| ip.address.to_string())
            .collect();
        assert_eq!(picked, ["10.1.0.5/24", "10.2.0.5/24"]);
    }

    #[test]
    fn the_source_is_the_address_alone() {
        assert_eq!(
            source_of("10.1.0.5".parse().unwrap()).to_string(),
            "10.1.0.5/32"
        );
        assert_eq!(
            source_of("fd00::5".parse().unwrap()).to_string(),
            "fd00::5/128"
        );
    }
}
