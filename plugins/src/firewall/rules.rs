//! The forwarding rules an attachment needs, from the ingress policy and
//! `prevResult`: pure, so every case is a unit test.

use super::config::IngressPolicy;
use cni_core::net::FirewallRule;
use cni_core::spec::config::ConfigError;
use cni_core::spec::CniResult;
use std::net::IpAddr;

/// Every address of `prevResult`, as the reference takes them.
fn addresses(prev: &CniResult) -> Vec<IpAddr> {
    let mut addrs: Vec<IpAddr> = prev.ips.iter().map(|ip| ip.address.addr()).collect();
    addrs.sort();
    addrs.dedup();
    addrs
}

/// The bridge a `same-bridge` container sits on: the result's first
/// interface, as the reference reads it (bridge reports it first).
fn bridge_of(prev: &CniResult) -> Result<String, ConfigError> {
    match prev.interfaces.first().map(|i| i.name.as_str()) {
        Some(name) if !name.is_empty() => Ok(name.to_string()),
        _ => Err(ConfigError::invalid(
            "prevResult.interfaces",
            "ingressPolicy same-bridge needs the bridge as the first interface; chain firewall after bridge",
        )),
    }
}

/// Traffic from each address is accepted, and replies to it; the ingress
/// policy adds a drop of new connections to it.
pub fn rules_for(
    prev: &CniResult,
    ingress: IngressPolicy,
) -> Result<Vec<FirewallRule>, ConfigError> {
    let addrs = addresses(prev);
    let except_in = match ingress {
        IngressPolicy::SameBridge if !addrs.is_empty() => Some(Some(bridge_of(prev)?)),
        IngressPolicy::Isolated => Some(None),
        _ => None,
    };
    let mut rules = Vec::new();
    for ip in addrs {
        if let Some(except_in) = &except_in {
            rules.push(FirewallRule::DropNewTo {
                to: ip,
                except_in: except_in.clone(),
            });
        }
        rules.push(FirewallRule::AcceptFrom(ip));
        rules.push(FirewallRule::AcceptRepliesTo(ip));
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cni_core::spec::{Interface, IpConfig};

    fn prev(bridge: Option<&str>, addrs: &[&str]) -> CniResult {
        CniResult {
            interfaces: bridge
                .map(|b| Interface {
                    name: b.into(),
                    ..Default::default()
                })
                .into_iter()
                .collect(),
            ips: addrs
                .iter()
                .map(|a| IpConfig {
                    address: a.parse().unwrap(),
                    gateway: None,
                    interface: None,
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn open_accepts_from_and_replies_to_every_address() {
        let rules = rules_for(
            &prev(None, &["10.1.0.5/24", "fd00::5/64"]),
            IngressPolicy::Open,
        )
        .unwrap();
        let v4: IpAddr = "10.1.0.5".parse().unwrap();
        let v6: IpAddr = "fd00::5".parse().unwrap();
        assert_eq!(
            rules,
            [
                FirewallRule::AcceptFrom(v4),
                FirewallRule::AcceptRepliesTo(v4),
                FirewallRule::AcceptFrom(v6),
                FirewallRule::AcceptRepliesTo(v6),
            ]
        );
    }

    #[test]
    fn same_bridge_drops_new_connections_not_from_the_first_interface() {
        let rules = rules_for(
            &prev(Some("cni0"), &["10.1.0.5/24"]),
            IngressPolicy::SameBridge,
        )
        .unwrap();
        assert_eq!(
            rules[0],
            FirewallRule::DropNewTo {
                to: "10.1.0.5".parse().unwrap(),
                except_in: Some("cni0".into())
            }
        );
        assert_eq!(rules.len(), 3);
        let e = rules_for(&prev(None, &["10.1.0.5/24"]), IngressPolicy::SameBridge).unwrap_err();
        assert_eq!(e.field(), "prevResult.interfaces");
    }

    #[test]
    fn isolated_drops_every_new_connection_and_no_address_means_no_rule() {
        let rules = rules_for(&prev(None, &["10.1.0.5/24"]), IngressPolicy::Isolated).unwrap();
        assert_eq!(
            rules[0],
            FirewallRule::DropNewTo {
                to: "10.1.0.5".parse().unwrap(),
                except_in: None
            }
        );
        assert!(
            rules_for(&prev(Some("cni0"), &[]), IngressPolicy::SameBridge)
                .unwrap()
                .is_empty()
        );
    }
}
