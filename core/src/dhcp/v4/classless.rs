//! Option 121, classless static routes (RFC 3442).
//!
//! Each route is a prefix width (0..=32), the significant octets of the
//! destination (width/8 rounded up) and a 4-byte router; router 0.0.0.0 means
//! the destination is on-link. A width above 32 or a route cut short makes the
//! whole option invalid: half a routing table is worse than none, and the
//! caller then falls back to options 3 and 33 as RFC 3442 has a client without
//! option 121 do.

use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

/// The routes in an option 121 value, or `None` if it is malformed. Bits of a
/// destination beyond its width are cleared (a descriptor cannot carry them
/// when the width is a multiple of 8, and a server setting them elsewhere
/// means the network, not the host).
pub(crate) fn parse(mut data: &[u8]) -> Option<Vec<(Ipv4Net, Ipv4Addr)>> {
    let mut routes = Vec::new();
    while let Some((&width, rest)) = data.split_first() {
        if width > 32 {
            return None;
        }
        let significant = usize::from(width).div_ceil(8);
        let dest_octets = rest.get(..significant)?;
        let router: [u8; 4] = rest.get(significant..significant + 4)?.try_into().ok()?;
        let mut dest = [0u8; 4];
        dest[..significant].copy_from_slice(dest_octets);
        let net = Ipv4Net::new(Ipv4Addr::from(dest), width).ok()?.trunc();
        routes.push((net, Ipv4Addr::from(router)));
        data = &rest[significant + 4..];
    }
    Some(routes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().expect("test CIDR")
    }

    #[test]
    fn dhcp_v4_option_121_default_host_and_on_link_routes() {
        let data = [
            0, 10, 0, 0, 1, // 0.0.0.0/0 via 10.0.0.1
            32, 192, 168, 1, 7, 10, 0, 0, 2, // 192.168.1.7/32 via 10.0.0.2
            24, 172, 16, 5, 0, 0, 0, 0, // 172.16.5.0/24 on-link
            9, 10, 128, 10, 0, 0, 3, // 10.128.0.0/9 via 10.0.0.3
        ];
        assert_eq!(
            parse(&data),
            Some(vec![
                (net("0.0.0.0/0"), Ipv4Addr::new(10, 0, 0, 1)),
                (net("192.168.1.7/32"), Ipv4Addr::new(10, 0, 0, 2)),
                (net("172.16.5.0/24"), Ipv4Addr::UNSPECIFIED),
                (net("10.128.0.0/9"), Ipv4Addr::new(10, 0, 0, 3)),
            ])
        );
        assert_eq!(parse(&[]), Some(vec![]));
    }

    #[test]
    fn dhcp_v4_option_121_clears_host_bits() {
        assert_eq!(
            parse(&[9, 10, 255, 1, 2, 3, 4]),
            Some(vec![(net("10.128.0.0/9"), Ipv4Addr::new(1, 2, 3, 4))])
        );
    }

    #[test]
    fn dhcp_v4_option_121_malformed_is_refused_whole() {
        assert_eq!(parse(&[33, 1, 2, 3, 4, 5, 6, 7, 8]), None); // width > 32
        assert_eq!(parse(&[24, 10, 0]), None); // destination cut short
        assert_eq!(parse(&[24, 10, 0, 0, 1, 2, 3]), None); // router cut short
        assert_eq!(parse(&[0, 10, 0, 0, 1, 8]), None); // a good route, then a stub
    }
}
