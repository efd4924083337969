//! Turning a range as written in a network configuration into a [`Range`]:
//! defaults as the reference fills them in, and an error naming the field for
//! everything the reference rejects (and for network/broadcast addresses,
//! which the reference would silently hand out).

use super::addr::{canonical, from_u128, next, same_family, to_u128};
use super::parse;
use super::range::{Range, RangeSet};
use ipnet::IpNet;
use std::net::IpAddr;
use thiserror::Error;

/// A bad IPAM configuration. Every variant names the offending field as a
/// path into the configuration (`ipam.ranges[1][0].rangeStart`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("{field}: missing subnet")]
    MissingSubnet { field: String },
    #[error("{field}: invalid CIDR {value:?}: {reason}")]
    BadCidr {
        field: String,
        value: String,
        reason: String,
    },
    #[error("{field}: invalid IP address {value:?}")]
    BadAddress { field: String, value: String },
    #[error("{field}: network {subnet} too small to allocate from")]
    TooSmall { field: String, subnet: IpNet },
    #[error("{field}: {value} is not the same protocol as subnet {subnet}")]
    FamilyMismatch {
        field: String,
        value: IpAddr,
        subnet: IpNet,
    },
    #[error("{field}: {value} not in network {subnet}")]
    OutsideSubnet {
        field: String,
        value: IpAddr,
        subnet: IpNet,
    },
    #[error("{field}: {value} is the {what} address of {subnet}")]
    Reserved {
        field: String,
        value: IpAddr,
        what: &'static str,
        subnet: IpNet,
    },
    #[error("{field}: {value} is in network {subnet} but after end {end}")]
    StartAfterEnd {
        field: String,
        value: IpAddr,
        subnet: IpNet,
        end: IpAddr,
    },
    #[error("{field}: empty range set")]
    EmptyRangeSet { field: String },
    #[error("{field}: mixed address families in one range set")]
    MixedFamilies { field: String },
    #[error("{field}: subnets {a} and {b} overlap")]
    Overlap { field: String, a: String, b: String },
    #[error("ipam.ranges: no IP ranges specified")]
    NoRanges,
}

/// A range as written: every field optional, addresses still text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeSpec {
    pub subnet: Option<String>,
    pub range_start: Option<String>,
    pub range_end: Option<String>,
    pub gateway: Option<String>,
}

fn parse_ip(field: String, value: &str) -> Result<IpAddr, ConfigError> {
    parse::parse_ip(value)
        .map(canonical)
        .map_err(|_| ConfigError::BadAddress {
            field,
            value: value.to_string(),
        })
}

/// Go decodes an empty string into a nil IP: treat it as absent.
fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

impl RangeSpec {
    /// Validates and fills in defaults. `field` is this range's path
    /// (`ipam` for the single-range form, `ipam.ranges[i][j]` otherwise).
    pub fn validate(&self, field: &str) -> Result<Range, ConfigError> {
        let f = |name: &str| format!("{field}.{name}");
        let raw = present(&self.subnet)
            .ok_or_else(|| ConfigError::MissingSubnet { field: f("subnet") })?;
        let subnet = parse_subnet(raw).map_err(|reason| ConfigError::BadCidr {
            field: f("subnet"),
            value: raw.to_string(),
            reason,
        })?;
        if subnet.prefix_len() > subnet.max_prefix_len().saturating_sub(2) {
            return Err(ConfigError::TooSmall {
                field: f("subnet"),
                subnet,
            });
        }
        let network = subnet.network();
        let bound = |name: &str, text: Option<&str>, default: IpAddr| match text {
            Some(t) => in_subnet(&f(name), parse_ip(f(name), t)?, subnet),
            None => Ok(default),
        };
        let gateway = bound("gateway", present(&self.gateway), next(network))?;
        let start = bound("rangeStart", present(&self.range_start), next(network))?;
        let end = bound("rangeEnd", present(&self.range_end), last_ip(subnet))?;
        if to_u128(start) > to_u128(end) {
            return Err(ConfigError::StartAfterEnd {
                field: f("rangeStart"),
                value: start,
                subnet,
                end,
            });
        }
        Ok(Range {
            subnet,
            start,
            end,
            gateway,
        })
    }
}

/// An explicit address of a range (`field`): of the subnet's family, inside
/// it, and not its IPv4 network or broadcast address.
fn in_subnet(field: &str, ip: IpAddr, subnet: IpNet) -> Result<IpAddr, ConfigError> {
    let (network, broadcast) = (subnet.network(), subnet.broadcast());
    if !same_family(ip, network) {
        return Err(ConfigError::FamilyMismatch {
            field: field.to_string(),
            value: ip,
            subnet,
        });
    }
    if !subnet.contains(&ip) {
        return Err(ConfigError::OutsideSubnet {
            field: field.to_string(),
            value: ip,
            subnet,
        });
    }
    // The reference accepts these and hands out unusable addresses.
    if network.is_ipv4() && (ip == network || ip == broadcast) {
        let what = if ip == network {
            "network"
        } else {
            "broadcast"
        };
        return Err(ConfigError::Reserved {
            field: field.to_string(),
            value: ip,
            what,
            subnet,
        });
    }
    Ok(ip)
}

/// A subnet as the reference's `Range.Canonicalize` accepts it: the network
/// address itself (host bits are refused, not cleared), and no IPv6 subnet
/// written around an IPv4-mapped address (it would hand out IPv4 addresses
/// under an IPv6 prefix length).
fn parse_subnet(raw: &str) -> Result<IpNet, String> {
    let written = parse::parse_cidr(raw).map_err(|e| e.to_string())?;
    if let IpAddr::V6(v6) = written.addr() {
        if v6.to_ipv4_mapped().is_some() {
            return Err("IPv4-mapped IPv6 subnet: write the IPv4 subnet".to_string());
        }
    }
    if written.trunc() != written {
        return Err(format!(
            "Network has host bits set (network is {})",
            written.trunc()
        ));
    }
    Ok(written)
}

/// The last address of a subnet, excluding the IPv4 broadcast.
fn last_ip(subnet: IpNet) -> IpAddr {
    let b = subnet.broadcast();
    if b.is_ipv4() {
        from_u128(b, to_u128(b) - 1)
    } else {
        b
    }
}

/// Validates one range set. `field` is its path (`ipam.ranges[i]`); the
/// ranges are `field[j]` unless `single` names the legacy single-range form.
pub fn validate_range_set(
    specs: &[RangeSpec],
    field: &str,
    single: bool,
) -> Result<RangeSet, ConfigError> {
    if specs.is_empty() {
        return Err(ConfigError::EmptyRangeSet {
            field: field.to_string(),
        });
    }
    let mut ranges = Vec::with_capacity(specs.len());
    for (j, spec) in specs.iter().enumerate() {
        let rf = if single {
            field.to_string()
        } else {
            format!("{field}[{j}]")
        };
        let r = spec.validate(&rf)?;
        if let Some(first) = ranges.first() {
            let first: &Range = first;
            if !same_family(first.start, r.start) {
                return Err(ConfigError::MixedFamilies {
                    field: field.to_string(),
                });
            }
        }
        for earlier in &ranges {
            if r.overlaps(earlier) {
                return Err(ConfigError::Overlap {
                    field: rf,
                    a: earlier.subnet.to_string(),
                    b: r.subnet.to_string(),
                });
            }
        }
        ranges.push(r);
    }
    Ok(RangeSet { ranges })
}

/// Checks that no two range sets overlap; `fields` are their paths.
pub fn check_no_overlap(sets: &[RangeSet], fields: &[String]) -> Result<(), ConfigError> {
    if sets.is_empty() {
        return Err(ConfigError::NoRanges);
    }
    for i in 0..sets.len() {
        for j in i + 1..sets.len() {
            if sets[i].overlaps(&sets[j]) {
                return Err(ConfigError::Overlap {
                    field: fields.get(j).cloned().unwrap_or_default(),
                    a: format!("range set {i} ({})", sets[i]),
                    b: format!("range set {j} ({})", sets[j]),
                });
            }
        }
    }
    Ok(())
}

impl ConfigError {
    /// The offending field's path.
    pub fn field(&self) -> &str {
        match self {
            ConfigError::MissingSubnet { field }
            | ConfigError::BadCidr { field, .. }
            | ConfigError::BadAddress { field, .. }
            | ConfigError::TooSmall { field, .. }
            | ConfigError::FamilyMismatch { field, .. }
            | ConfigError::OutsideSubnet { field, .. }
            | ConfigError::Reserved { field, .. }
            | ConfigError::StartAfterEnd { field, .. }
            | ConfigError::EmptyRangeSet { field }
            | ConfigError::MixedFamilies { field }
            | ConfigError::Overlap { field, .. } => field,
            ConfigError::NoRanges => "ipam.ranges",
        }
    }
}

/// A range that decodes but cannot be used is an invalid configuration (7).
impl From<ConfigError> for crate::spec::config::ConfigError {
    fn from(e: ConfigError) -> Self {
        let text = e.to_string();
        let reason = text
            .strip_prefix(&format!("{}: ", e.field()))
            .unwrap_or(&text)
            .to_string();
        crate::spec::config::ConfigError::invalid(e.field(), reason)
    }
}
