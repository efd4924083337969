//! The `firewall` plugin's rules as the kernel is asked to hold them: what
//! forwarded traffic to and from one container is accepted or dropped,
//! tagged with the network and container ID (the scheme of
//! [`super::masq_tag`]), so DEL and GC remove exactly one attachment's.

use super::rule_set::{RuleSet, TaggedRule};
use std::fmt;
use std::net::IpAddr;

/// One rule of an attachment's firewall set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FirewallRule {
    /// New forwarded connections to the address are dropped, except those
    /// that came in on `except_in` (the container's bridge, for
    /// `ingressPolicy: same-bridge`). Evaluated before every accept rule.
    DropNewTo {
        to: IpAddr,
        except_in: Option<String>,
    },
    /// Forwarded traffic from the container's address is accepted.
    AcceptFrom(IpAddr),
    /// Forwarded replies (conntrack established or related) to the
    /// container's address are accepted.
    AcceptRepliesTo(IpAddr),
}

impl FirewallRule {
    /// Drop rules run before accept rules, whatever the order of ADDs.
    pub fn is_drop(&self) -> bool {
        matches!(self, FirewallRule::DropNewTo { .. })
    }
}

impl TaggedRule for FirewallRule {
    const SET: &'static str = "forwarding rules";
    const ONE: &'static str = "forwarding rule";

    /// An interface name a rule matches on must be one the kernel could have.
    fn validate(&self) -> Result<(), String> {
        match self {
            FirewallRule::DropNewTo {
                except_in: Some(name),
                ..
            } => crate::spec::validate::check_interface_name(name)
                .map_err(|e| format!("{self}: interface {name:?}: {e}")),
            _ => Ok(()),
        }
    }

    fn describe(&self) -> String {
        format!("{} \"{self}\"", Self::ONE)
    }
}

impl fmt::Display for FirewallRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FirewallRule::DropNewTo {
                to,
                except_in: Some(bridge),
            } => write!(f, "drop new connections to {to} not from {bridge}"),
            FirewallRule::DropNewTo {
                to,
                except_in: None,
            } => write!(f, "drop new connections to {to}"),
            FirewallRule::AcceptFrom(ip) => write!(f, "accept from {ip}"),
            FirewallRule::AcceptRepliesTo(ip) => write!(f, "accept replies to {ip}"),
        }
    }
}

/// Every forwarding rule of one attachment.
pub type FirewallSet = RuleSet<FirewallRule>;
