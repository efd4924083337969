//! An attachment's leases as the IPAM result the main plugin applies.

use crate::config::LeaseOptions;
use cni_core::dhcp::{v4, v6};
use cni_core::spec::{Dns, IpConfig, Route};
use cni_core::CniResult;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr};

/// `RT_SCOPE_LINK`: a route whose gateway is 0.0.0.0 in option 121 reaches
/// its destination on the link (the reference sets the same scope).
const SCOPE_LINK: u32 = 253;

pub fn ipam_result(
    options: &LeaseOptions,
    lease4: Option<&v4::Lease>,
    lease6: Option<&v6::Lease>,
) -> CniResult {
    let mut result = CniResult {
        cni_version: cni_core::spec::version::CURRENT.to_string(),
        ..CniResult::default()
    };
    let mut dns = Dns::default();
    if let Some(lease) = lease4 {
        result.ips.push(IpConfig {
            address: IpNet::V4(lease.address),
            gateway: lease.routers.first().copied().map(IpAddr::V4),
            interface: None,
        });
        result.routes.extend(routes4(lease));
        dns.nameservers
            .extend(lease.dns_servers.iter().map(|a| a.to_string()));
        dns.domain = lease.domain_name.clone().unwrap_or_default();
        dns.search.extend(lease.domain_search.iter().cloned());
    }
    if let Some(lease) = lease6 {
        let net = Ipv6Net::new(lease.address, options.ipv6_prefix_len)
            .unwrap_or_else(|_| Ipv6Net::from(lease.address));
        result.ips.push(IpConfig {
            address: IpNet::V6(net),
            gateway: None,
            interface: None,
        });
        dns.nameservers
            .extend(lease.dns_servers.iter().map(|a| a.to_string()));
        for name in &lease.domain_search {
            if !dns.search.contains(name) {
                dns.search.push(name.clone());
            }
        }
    }
    let mtu = lease4.and_then(|l| l.mtu).map(u32::from);
    for route in &mut result.routes {
        if options.priority != 0 {
            route.priority = Some(options.priority);
        }
        route.mtu = mtu;
    }
    result.dns = dns;
    result
}

/// RFC 3442: with classless routes (121) the client ignores the static
/// routes (33) and the router option for routing; without them, the static
/// routes (classful destinations) and a default route via the first router.
fn routes4(lease: &v4::Lease) -> Vec<Route> {
    if !lease.classless_routes.is_empty() {
        return lease
            .classless_routes
            .iter()
            .map(|(dst, gw)| {
                if gw.is_unspecified() {
                    let mut route = Route::new(IpNet::V4(*dst), None);
                    route.scope = Some(SCOPE_LINK);
                    route
                } else {
                    Route::new(IpNet::V4(*dst), Some(IpAddr::V4(*gw)))
                }
            })
            .collect();
    }
    let mut routes: Vec<Route> = lease
        .static_routes
        .iter()
        .map(|(dst, gw)| Route::new(IpNet::V4(classful(*dst)), Some(IpAddr::V4(*gw))))
        .collect();
    if let Some(router) = lease.routers.first() {
        routes.push(Route::new(
            IpNet::V4(Ipv4Net::default()),
            Some(IpAddr::V4(*router)),
        ));
    }
    routes
}

/// Option 33 destinations carry no mask: the address class gives it.
fn classful(dst: Ipv4Addr) -> Ipv4Net {
    Ipv4Net::new(dst, v4::classful_prefix(dst))
        .map(|n| n.trunc())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Families;
    use cni_core::dhcp::Time;
    use std::time::Duration;

    fn options(priority: u32) -> LeaseOptions {
        LeaseOptions {
            families: Families {
                ipv4: true,
                ipv6: true,
            },
            request: vec![],
            provide: vec![],
            ipv6_prefix_len: 64,
            priority,
        }
    }

    fn lease4() -> v4::Lease {
        v4::Lease {
            address: "10.0.0.5/24".parse().unwrap(),
            server_id: "10.0.0.1".parse().unwrap(),
            routers: vec!["10.0.0.1".parse().unwrap()],
            dns_servers: vec!["10.0.0.53".parse().unwrap()],
            domain_name: Some("lan".into()),
            domain_search: vec!["lan".into(), "corp".into()],
            classless_routes: vec![],
            static_routes: vec![("172.16.0.0".parse().unwrap(), "10.0.0.2".parse().unwrap())],
            mtu: Some(1400),
            lease_time: Duration::from_secs(3600),
            t1: Duration::from_secs(1800),
            t2: Duration::from_secs(3150),
            acquired_at: Time(0),
        }
    }

    #[test]
    fn router_static_routes_dns_mtu_and_priority() {
        let r = ipam_result(&options(7), Some(&lease4()), None);
        assert_eq!(r.ips[0].address.to_string(), "10.0.0.5/24");
        assert_eq!(r.ips[0].gateway, Some("10.0.0.1".parse().unwrap()));
        let routes: Vec<String> = r
            .routes
            .iter()
            .map(|r| format!("{} {:?} {:?} {:?}", r.dst, r.gw, r.priority, r.mtu))
            .collect();
        assert_eq!(
            routes,
            vec![
                "172.16.0.0/16 Some(10.0.0.2) Some(7) Some(1400)",
                "0.0.0.0/0 Some(10.0.0.1) Some(7) Some(1400)"
            ]
        );
        assert_eq!(r.dns.nameservers, vec!["10.0.0.53"]);
        assert_eq!(r.dns.domain, "lan");
        assert_eq!(r.dns.search, vec!["lan", "corp"]);
    }

    #[test]
    fn classless_routes_replace_the_router_and_static_routes() {
        let mut lease = lease4();
        lease.classless_routes = vec![
            ("10.0.0.0/24".parse().unwrap(), Ipv4Addr::UNSPECIFIED),
            ("0.0.0.0/0".parse().unwrap(), "10.0.0.254".parse().unwrap()),
        ];
        lease.mtu = None;
        let r = ipam_result(&options(0), Some(&lease), None);
        assert_eq!(r.routes.len(), 2);
        assert_eq!(r.routes[0].gw, None);
        assert_eq!(r.routes[0].scope, Some(SCOPE_LINK));
        assert_eq!(r.routes[1].gw, Some("10.0.0.254".parse().unwrap()));
        assert_eq!(r.routes[1].priority, None);
        assert_eq!(r.routes[1].mtu, None);
    }

    #[test]
    fn classful_destinations() {
        assert_eq!(
            classful("10.1.2.3".parse().unwrap()).to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            classful("172.16.9.9".parse().unwrap()).to_string(),
            "172.16.0.0/16"
        );
        assert_eq!(
            classful("192.168.1.7".parse().unwrap()).to_string(),
            "192.168.1.0/24"
        );
    }
}
