//! Address arithmetic: IPv4 and IPv6 as one ordered integer space per family.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The address as an integer; only compare values of the same family.
pub fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The address `n` in the family of `like`. Truncates to 32 bits for IPv4.
pub fn from_u128(like: IpAddr, n: u128) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(n as u32)),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(n)),
    }
}

/// The next address, wrapping at the top of the family (as the reference's `ip.NextIP`).
pub fn next(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4).wrapping_add(1))),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6).wrapping_add(1))),
    }
}

/// IPv4-mapped IPv6 addresses are the IPv4 address, as Go's `To4` treats them.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// Addresses separated by spaces, as error messages list them.
pub fn join(ips: &[IpAddr]) -> String {
    ips.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn same_family(a: IpAddr, b: IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_crosses_octets_and_wraps() {
        assert_eq!(
            next("10.0.0.255".parse().unwrap()),
            "10.0.1.0".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            next("255.255.255.255".parse().unwrap()),
            "0.0.0.0".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            next("fd00::ffff".parse().unwrap()),
            "fd00::1:0".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn mapped_v6_is_v4() {
        assert_eq!(
            canonical("::ffff:10.1.2.3".parse().unwrap()),
            "10.1.2.3".parse::<IpAddr>().unwrap()
        );
    }
}
