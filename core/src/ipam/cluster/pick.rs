//! Choosing a candidate address from a range set without a lock: each
//! allocator starts from its own pseudo-random point (seeded by a hash of its
//! node and attachment, so concurrent allocators spread over the pool and
//! rarely race for the same address), probes a few random addresses, then
//! scans on from a random point. Works on IPv6 ranges too large to enumerate.

use super::super::addr::{from_u128, to_u128};
use super::super::range::RangeSet;
pub use crate::rng::Rng;
use std::collections::HashSet;
use std::net::IpAddr;

/// Random probes before the scan; at 90% occupancy 16 probes all miss 18%
/// of the time, and the scan then finds a free address in a bounded walk.
const PROBES: u32 = 16;

/// Addresses of the set, gateways included (skipped when picked).
fn size(set: &RangeSet) -> u128 {
    set.ranges
        .iter()
        .map(|r| to_u128(r.end) - to_u128(r.start) + 1)
        .fold(0u128, u128::saturating_add)
}

/// The address at `offset` counting through the ranges in order.
fn nth(set: &RangeSet, mut offset: u128) -> Option<IpAddr> {
    for r in &set.ranges {
        let len = to_u128(r.end) - to_u128(r.start) + 1;
        if offset < len {
            return Some(from_u128(r.start, to_u128(r.start) + offset));
        }
        offset -= len;
    }
    None
}

fn usable(set: &RangeSet, ip: IpAddr, blocked: &HashSet<IpAddr>) -> bool {
    !blocked.contains(&ip) && set.range_for(ip).is_some_and(|r| r.gateway != ip)
}

/// A free address of `set` (not in `blocked`, not a gateway), or None when
/// there is none.
pub fn pick(set: &RangeSet, blocked: &HashSet<IpAddr>, rng: &mut Rng) -> Option<IpAddr> {
    let total = size(set);
    if total == 0 {
        return None;
    }
    for _ in 0..PROBES {
        let ip = nth(set, rng.below(total))?;
        if usable(set, ip, blocked) {
            return Some(ip);
        }
    }
    // Among any k+1 consecutive addresses at most k are blocked or gateways
    // (k = blocked + one gateway per range), so this walk finds a free one if
    // any exists, without enumerating a huge range.
    let walk = total.min(blocked.len() as u128 + set.ranges.len() as u128 + 1);
    let start = rng.below(total);
    (0..walk)
        .map(|i| (start + i) % total)
        .filter_map(|o| nth(set, o))
        .find(|ip| usable(set, *ip, blocked))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipam::config::validate_range_set;
    use crate::ipam::RangeSpec;

    fn set(subnet: &str) -> RangeSet {
        let spec = RangeSpec {
            subnet: Some(subnet.into()),
            ..Default::default()
        };
        validate_range_set(&[spec], "ipam", true).unwrap()
    }

    #[test]
    fn finds_the_last_free_address_and_never_the_gateway() {
        let s = set("10.0.0.0/29"); // .1 gateway, .2-.6 usable
        let mut blocked: HashSet<IpAddr> = (2..=6)
            .map(|i| format!("10.0.0.{i}").parse().unwrap())
            .collect();
        for seed in 0..50 {
            assert_eq!(pick(&s, &blocked, &mut Rng::new(seed)), None);
        }
        blocked.remove(&"10.0.0.4".parse().unwrap());
        for seed in 0..50 {
            assert_eq!(
                pick(&s, &blocked, &mut Rng::new(seed)),
                Some("10.0.0.4".parse().unwrap())
            );
        }
    }

    #[test]
    fn huge_ipv6_range_is_not_enumerated() {
        let s = set("fd00::/64");
        let ip = pick(&s, &HashSet::new(), &mut Rng::new(7)).unwrap();
        assert!(s.contains(ip));
    }

    #[test]
    fn different_seeds_spread() {
        let s = set("10.0.0.0/24");
        let picked: HashSet<IpAddr> = (0..100)
            .filter_map(|seed| pick(&s, &HashSet::new(), &mut Rng::new(seed)))
            .collect();
        assert!(picked.len() > 70, "{}", picked.len());
    }
}
