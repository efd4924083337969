//! The rules an attachment's port mappings need, from the configuration and
//! the container's addresses in `prevResult`: pure, so every case is a unit test.

use super::config::PortMapConf;
use cni_core::net::PortMapRule;
use cni_core::spec::config::ConfigError;
use cni_core::spec::CniResult;
use ipnet::IpNet;
use std::net::SocketAddr;

/// The container's first IPv4 and first IPv6 address, as the reference picks
/// them: an address on an interface that is not `ifname` in a sandbox is not
/// the container's.
pub fn container_addrs(prev: &CniResult, ifname: &str) -> Vec<IpNet> {
    let mut found: Vec<IpNet> = Vec::new();
    for ip in &prev.ips {
        let elsewhere = ip
            .interface
            .and_then(|i| prev.interfaces.get(i))
            .is_some_and(|iface| iface.name != ifname || iface.sandbox.is_empty());
        let family_taken = found
            .iter()
            .any(|f| f.addr().is_ipv4() == ip.address.addr().is_ipv4());
        if !elsewhere && !family_taken {
            found.push(ip.address);
        }
    }
    found
}

/// Localhost connections to a mapped port leave with a 127/8 source.
const LOOPBACK_V4: &str = "127.0.0.0/8";

/// The DNAT rules of every mapping to every address of its family, and with
/// `snat` the masquerade that hairpin (any container of the address's
/// subnet, itself included) and IPv4 localhost connections need.
pub fn rules_for(conf: &PortMapConf, addrs: &[IpNet]) -> Result<Vec<PortMapRule>, ConfigError> {
    let mut rules = Vec::new();
    for m in &conf.mappings {
        let family_of = |a: &&IpNet| m.host_ip.is_none_or(|h| h.is_ipv4() == a.addr().is_ipv4());
        let targets: Vec<&IpNet> = addrs.iter().filter(family_of).collect();
        if targets.is_empty() {
            let family = if m.host_ip.is_some_and(|h| h.is_ipv4()) {
                "IPv4"
            } else {
                "IPv6"
            };
            return Err(ConfigError::invalid(
                format!("{}.hostIP", m.path),
                format!("the container has no {family} address in prevResult to map to"),
            ));
        }
        rules.extend(targets.into_iter().map(|a| PortMapRule::Dnat {
            protocol: m.protocol,
            host_ip: m.host_ip,
            host_port: m.host_port,
            to: SocketAddr::new(a.addr(), m.container_port),
        }));
    }
    if conf.snat && !rules.is_empty() {
        rules.extend(addrs.iter().flat_map(|a| masquerade_for(conf.masq_all, *a)));
    }
    Ok(rules)
}

fn masquerade_for(all: bool, addr: IpNet) -> Vec<PortMapRule> {
    let to = addr.addr();
    if all {
        return vec![PortMapRule::Masquerade { from: None, to }];
    }
    let mut rules = vec![PortMapRule::Masquerade {
        from: Some(addr.trunc()),
        to,
    }];
    if to.is_ipv4() {
        rules.push(PortMapRule::Masquerade {
            from: LOOPBACK_V4.parse().ok(),
            to,
        });
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portmap::config;
    use cni_core::net::PortProtocol;
    use cni_core::spec::{Interface, IpConfig};
    use serde_json::json;

    fn conf(extra: serde_json::Value) -> PortMapConf {
        let mut c = json!({"cniVersion": "1.0.0", "name": "n", "type": "portmap",
            "runtimeConfig": {"portMappings": [
                {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]}});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        config::parse(&serde_json::to_vec(&c).unwrap()).unwrap()
    }

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn dnat(port: u16, to: &str) -> PortMapRule {
        PortMapRule::Dnat {
            protocol: PortProtocol::Tcp,
            host_ip: None,
            host_port: port,
            to: to.parse().unwrap(),
        }
    }

    #[test]
    fn dual_stack_maps_both_families_and_masquerades_hairpin_and_v4_localhost() {
        let rules = rules_for(&conf(json!({})), &[net("10.1.0.5/24"), net("fd00::5/64")]).unwrap();
        assert_eq!(
            rules,
            [
                dnat(8080, "10.1.0.5:80"),
                dnat(8080, "[fd00::5]:80"),
                PortMapRule::Masquerade {
                    from: Some(net("10.1.0.0/24")),
                    to: "10.1.0.5".parse().unwrap()
                },
                PortMapRule::Masquerade {
                    from: Some(net("127.0.0.0/8")),
                    to: "10.1.0.5".parse().unwrap()
                },
                PortMapRule::Masquerade {
                    from: Some(net("fd00::/64")),
                    to: "fd00::5".parse().unwrap()
                },
            ]
        );
    }

    #[test]
    fn snat_off_has_no_masquerade_and_masq_all_matches_any_source() {
        let addrs = [net("10.1.0.5/24")];
        assert_eq!(
            rules_for(&conf(json!({"snat": false})), &addrs).unwrap(),
            [dnat(8080, "10.1.0.5:80")]
        );
        let rules = rules_for(&conf(json!({"masqAll": true})), &addrs).unwrap();
        assert_eq!(
            rules[1],
            PortMapRule::Masquerade {
                from: None,
                to: "10.1.0.5".parse().unwrap()
            }
        );
        assert_eq!(rules.len(), 2);
    }

    #[test]
    fn host_ip_maps_only_its_family_and_a_family_the_container_lacks_is_named() {
        let c = conf(json!({"runtimeConfig": {"portMappings": [
            {"hostPort": 8080, "containerPort": 80, "protocol": "tcp", "hostIP": "192.168.1.1"}]}}));
        let rules = rules_for(&c, &[net("10.1.0.5/24"), net("fd00::5/64")]).unwrap();
        assert!(matches!(
            rules[0],
            PortMapRule::Dnat {
                host_ip: Some(_),
                ..
            }
        ));
        assert_eq!(
            rules
                .iter()
                .filter(|r| matches!(r, PortMapRule::Dnat { .. }))
                .count(),
            1
        );
        let e = rules_for(&c, &[net("fd00::5/64")]).unwrap_err();
        assert_eq!(e.field(), "runtimeConfig.portMappings[0].hostIP");
    }

    #[test]
    fn addresses_of_other_interfaces_are_skipped_and_one_per_family_is_taken() {
        let prev = CniResult {
            interfaces: vec![
                Interface {
                    name: "br0".into(),
                    ..Default::default()
                },
                Interface {
                    name: "eth0".into(),
                    sandbox: "/run/netns/c".into(),
                    ..Default::default()
                },
            ],
            ips: [
                "10.9.0.1/24@0",
                "10.1.0.5/24@1",
                "10.1.0.6/24@1",
                "fd00::5/64@-",
            ]
            .iter()
            .map(|s| {
                let (addr, iface) = s.split_once('@').unwrap();
                IpConfig {
                    address: net(addr),
                    gateway: None,
                    interface: iface.parse().ok(),
                }
            })
            .collect(),
            ..Default::default()
        };
        assert_eq!(
            container_addrs(&prev, "eth0"),
            [net("10.1.0.5/24"), net("fd00::5/64")]
        );
    }
}
