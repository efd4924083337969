//! Deterministic MAC addresses derived from an interface's IP address.
//!
//! The scheme (documented in docs/ARCHITECTURE.md):
//! - IPv4 `a.b.c.d` gives `0a:58:aa:bb:cc:dd` — the historical CNI scheme, so
//!   operators recognise it and ARP caches survive a container restart that
//!   keeps its address.
//! - IPv6 (only when the interface has no IPv4 address) gives `0a:5a:` followed
//!   by the last four bytes of the address XOR-folded with an FNV-1a hash of the
//!   first twelve, so addresses that differ only in their prefix still differ.
//!
//! Both prefixes have the locally administered bit set and the multicast bit
//! clear, so they never clash with a vendor-assigned address.

use crate::net::MacAddr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const IPV4_PREFIX: [u8; 2] = [0x0a, 0x58];
pub const IPV6_PREFIX: [u8; 2] = [0x0a, 0x5a];

pub fn from_ipv4(ip: Ipv4Addr) -> MacAddr {
    let o = ip.octets();
    MacAddr([IPV4_PREFIX[0], IPV4_PREFIX[1], o[0], o[1], o[2], o[3]])
}

pub fn from_ipv6(ip: Ipv6Addr) -> MacAddr {
    let o = ip.octets();
    let prefix_hash = fnv1a32(&o[..12]).to_be_bytes();
    MacAddr([
        IPV6_PREFIX[0],
        IPV6_PREFIX[1],
        o[12] ^ prefix_hash[0],
        o[13] ^ prefix_hash[1],
        o[14] ^ prefix_hash[2],
        o[15] ^ prefix_hash[3],
    ])
}

/// The MAC for an interface holding `addrs`: from its first IPv4 address, else
/// from its first IPv6 address, else `None` (the kernel picks one).
pub fn for_addresses<'a>(addrs: impl IntoIterator<Item = &'a IpAddr>) -> Option<MacAddr> {
    let mut first_v6 = None;
    for a in addrs {
        match a {
            IpAddr::V4(v4) => return Some(from_ipv4(*v4)),
            IpAddr::V6(v6) if first_v6.is_none() => first_v6 = Some(*v6),
            IpAddr::V6(_) => {}
        }
    }
    first_v6.map(from_ipv6)
}

fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ipv4_uses_the_historical_cni_scheme() {
        assert_eq!(
            from_ipv4("10.1.0.5".parse().unwrap()).to_string(),
            "0a:58:0a:01:00:05"
        );
    }

    #[test]
    fn ipv4_wins_over_ipv6() {
        let v6: IpAddr = "fd00::5".parse().unwrap();
        let v4: IpAddr = "10.0.0.9".parse().unwrap();
        assert_eq!(
            for_addresses([&v6, &v4]).unwrap().to_string(),
            "0a:58:0a:00:00:09"
        );
    }

    #[test]
    fn ipv6_only_is_derived_from_the_ipv6_address() {
        let v6: IpAddr = "fd00::5".parse().unwrap();
        let mac = for_addresses([&v6]).unwrap();
        assert_eq!(mac.0[..2], IPV6_PREFIX);
        assert_eq!(Some(mac), for_addresses([&v6]));
    }

    #[test]
    fn no_address_gives_no_mac() {
        assert_eq!(for_addresses([]), None);
    }

    proptest! {
        #[test]
        fn ipv6_macs_are_unicast_local_and_distinct_within_a_prefix(a in any::<u32>(), b in any::<u32>()) {
            prop_assume!(a != b);
            let base = u128::from("fd00:1:2:3::".parse::<Ipv6Addr>().unwrap());
            let ma = from_ipv6(Ipv6Addr::from(base | u128::from(a)));
            let mb = from_ipv6(Ipv6Addr::from(base | u128::from(b)));
            prop_assert_ne!(ma, mb);
            prop_assert_eq!(ma.0[0] & 0x01, 0, "multicast bit must be clear");
            prop_assert_eq!(ma.0[0] & 0x02, 2, "locally administered bit must be set");
        }
    }
}
