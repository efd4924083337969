//! Validated address ranges and range sets, with the reference's semantics:
//! a range hands out `start..=end` inside `subnet`, skipping `gateway`; a range
//! set yields one address per ADD from whichever of its ranges has room.

use super::addr::{same_family, to_u128};
use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;

/// One range, after defaults were filled in and every field was checked
/// (see [`super::config::RangeSpec::validate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// The subnet, host bits cleared.
    pub subnet: IpNet,
    pub start: IpAddr,
    pub end: IpAddr,
    pub gateway: IpAddr,
}

impl Range {
    /// Whether `ip` is one this range may hand out (the gateway included: the
    /// allocator skips it, a request for it is refused separately).
    pub fn contains(&self, ip: IpAddr) -> bool {
        same_family(ip, self.start)
            && self.subnet.contains(&ip)
            && to_u128(ip) >= to_u128(self.start)
            && to_u128(ip) <= to_u128(self.end)
    }

    /// The reference's overlap test: an end point of one lies inside the other.
    pub fn overlaps(&self, other: &Range) -> bool {
        same_family(self.start, other.start)
            && (self.contains(other.start)
                || self.contains(other.end)
                || other.contains(self.start)
                || other.contains(self.end))
    }

    /// The address with this range's prefix length, as a result carries it.
    pub fn with_prefix(&self, ip: IpAddr) -> IpNet {
        // `ip` is in `subnet`, so the prefix length is valid for its family.
        IpNet::new(ip, self.subnet.prefix_len()).unwrap_or(self.subnet)
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// The ranges of one range set: all of one family, none overlapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeSet {
    pub ranges: Vec<Range>,
}

impl RangeSet {
    pub fn range_for(&self, ip: IpAddr) -> Option<&Range> {
        self.ranges.iter().find(|r| r.contains(ip))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.range_for(ip).is_some()
    }

    pub fn overlaps(&self, other: &RangeSet) -> bool {
        self.ranges
            .iter()
            .any(|a| other.ranges.iter().any(|b| a.overlaps(b)))
    }

    pub fn is_ipv4(&self) -> bool {
        self.ranges.first().is_some_and(|r| r.start.is_ipv4())
    }
}

impl fmt::Display for RangeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}
