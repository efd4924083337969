//! Addresses and CIDRs as text, read exactly as Go's `net.ParseIP` and
//! `net.ParseCIDR` read them, so a configuration means the same to us and to
//! the reference. The one place this project turns such text into addresses.
//!
//! IPv4 octets with a leading zero (`010.1.2.3`) are refused: some tools read
//! them as octal, so the same text would name another address there. A prefix
//! length is plain decimal and may have leading zeros (`/024`), as Go allows;
//! nothing is trimmed.

use ipnet::IpNet;
use std::net::IpAddr;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("invalid IP address {0:?}")]
    Address(String),
    #[error("invalid CIDR address {0:?}")]
    Cidr(String),
}

/// An IPv4 or IPv6 address (std's parser refuses leading-zero octets, as Go's does).
pub fn parse_ip(text: &str) -> Result<IpAddr, ParseError> {
    text.parse::<IpAddr>()
        .map_err(|_| ParseError::Address(text.to_string()))
}

/// `address/prefix`, the address kept as written (host bits included), as
/// `ParseCIDR`'s first result; callers that need the network call `trunc`.
pub fn parse_cidr(text: &str) -> Result<IpNet, ParseError> {
    let bad = || ParseError::Cidr(text.to_string());
    let (addr, prefix) = text.split_once('/').ok_or_else(bad)?;
    let ip = parse_ip(addr).map_err(|_| bad())?;
    let len = parse_prefix_len(prefix).ok_or_else(bad)?;
    IpNet::new(ip, len).map_err(|_| bad())
}

/// Go's `dtoi` on the whole suffix: decimal digits only, at least one.
fn parse_prefix_len(text: &str) -> Option<u8> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match text.trim_start_matches('0') {
        "" => Some(0),
        significant => significant.parse::<u8>().ok(),
    }
}

/// An address bare or with a prefix, as the reference's `ip.ParseIP` takes a
/// requested address; the prefix is dropped.
pub fn parse_ip_or_cidr(text: &str) -> Result<IpAddr, ParseError> {
    parse_ip(text)
        .or_else(|_| parse_cidr(text).map(|n| n.addr()))
        .map_err(|_| ParseError::Address(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_zero_octets_are_refused_in_addresses_and_cidrs() {
        for bad in ["010.1.2.3", "10.01.2.3", "00.0.0.0", "::ffff:010.1.2.3"] {
            assert!(parse_ip(bad).is_err(), "{bad}");
        }
        for bad in ["010.1.2.0/24", "00.0.0.0/0", "10.1.2.00/24"] {
            assert!(parse_cidr(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_ip("0.0.0.0").unwrap().to_string(), "0.0.0.0");
    }

    #[test]
    fn prefix_length_with_leading_zeros_is_decimal() {
        assert_eq!(
            parse_cidr("10.1.2.0/024").unwrap().to_string(),
            "10.1.2.0/24"
        );
        assert_eq!(parse_cidr("fd00::/0064").unwrap().to_string(), "fd00::/64");
        assert_eq!(parse_cidr("0.0.0.0/00").unwrap().to_string(), "0.0.0.0/0");
    }

    #[test]
    fn malformed_prefixes_and_surrounding_space_are_refused() {
        for bad in [
            "10.1.2.0/",
            "10.1.2.0/+24",
            "10.1.2.0/33",
            "fd00::/129",
            "10.1.2.0/24 ",
            " 10.1.2.0/24",
            "10.1.2.0",
            "10.1.2.0/2 4",
        ] {
            assert!(parse_cidr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cidr_keeps_host_bits_as_written() {
        assert_eq!(
            parse_cidr("192.0.2.12/24").unwrap().addr().to_string(),
            "192.0.2.12"
        );
    }

    #[test]
    fn requested_address_may_carry_a_prefix() {
        assert_eq!(
            parse_ip_or_cidr("10.0.0.5/24").unwrap().to_string(),
            "10.0.0.5"
        );
        assert!(parse_ip_or_cidr("010.0.0.5").is_err());
    }
}
