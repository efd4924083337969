//! Port mappings (the `portmap` plugin's `portMappings` capability) as the
//! kernel is asked to hold them: rules tagged with the network and container
//! ID (the scheme of [`super::masq_tag`]), so DEL and GC remove exactly one
//! attachment's.

use super::rule_set::{RuleSet, TaggedRule};
use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// The transport protocols a mapping may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortProtocol {
    Tcp,
    Udp,
    Sctp,
}

impl PortProtocol {
    pub const ALL: [PortProtocol; 3] = [PortProtocol::Tcp, PortProtocol::Udp, PortProtocol::Sctp];

    pub fn as_str(self) -> &'static str {
        match self {
            PortProtocol::Tcp => "tcp",
            PortProtocol::Udp => "udp",
            PortProtocol::Sctp => "sctp",
        }
    }

    /// The IP protocol number.
    pub fn number(self) -> u8 {
        match self {
            PortProtocol::Tcp => 6,
            PortProtocol::Udp => 17,
            PortProtocol::Sctp => 132,
        }
    }

    pub fn from_number(n: u8) -> Option<PortProtocol> {
        Self::ALL.into_iter().find(|p| p.number() == n)
    }

    /// Case-insensitive, as runtimes write both `tcp` and `TCP`.
    pub fn parse(s: &str) -> Option<PortProtocol> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
    }
}

/// One rule of an attachment's port mappings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortMapRule {
    /// Traffic to a local address of the host (only `host_ip`, when set) on
    /// `host_port`, arriving from outside or sent by the host itself, is sent
    /// to `to` instead.
    Dnat {
        protocol: PortProtocol,
        host_ip: Option<IpAddr>,
        host_port: u16,
        to: SocketAddr,
    },
    /// A connection a `Dnat` rule sent to `to`, from an address in `from`
    /// (any when `None`), leaves with the outgoing interface's address, so
    /// replies come back through the host: hairpin from containers on the
    /// same network, and connections the host made to 127.0.0.1.
    Masquerade { from: Option<IpNet>, to: IpAddr },
}

impl fmt::Display for PortMapRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortMapRule::Dnat {
                protocol,
                host_ip,
                host_port,
                to,
            } => {
                let on = host_ip.map(|ip| format!(" on {ip}")).unwrap_or_default();
                write!(f, "{} port {host_port}{on} to {to}", protocol.as_str())
            }
            PortMapRule::Masquerade {
                from: Some(from),
                to,
            } => {
                write!(f, "masquerade from {from} to {to}")
            }
            PortMapRule::Masquerade { from: None, to } => write!(f, "masquerade to {to}"),
        }
    }
}

impl TaggedRule for PortMapRule {
    const SET: &'static str = "port mappings";
    const ONE: &'static str = "port-mapping rule";

    /// The rule's addresses are of one family and its ports are not 0.
    fn validate(&self) -> Result<(), String> {
        let (one, other) = match self {
            PortMapRule::Dnat { host_port: 0, .. } => return Err(format!("{self}: host port 0")),
            PortMapRule::Dnat { to, .. } if to.port() == 0 => {
                return Err(format!("{self}: container port 0"))
            }
            PortMapRule::Dnat { host_ip, to, .. } => (host_ip, to.ip()),
            PortMapRule::Masquerade { from, to } => (&from.map(|n| n.addr()), *to),
        };
        match one {
            Some(ip) if ip.is_ipv4() != other.is_ipv4() => {
                Err(format!("{self}: addresses of both IP families"))
            }
            _ => Ok(()),
        }
    }
}

/// Every port mapping of one attachment.
pub type PortMapSet = RuleSet<PortMapRule>;
