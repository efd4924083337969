//! DHCPv4 option names as the reference's config accepts them.

/// Asked for unless `skipDefault`: the reference asks for the subnet mask and
/// routers only; we also ask for what goes into the result (DNS servers,
/// domain, search list, classless and static routes, interface MTU) and for
/// the lease times.
pub use cni_core::dhcp::DEFAULT_REQUEST;

/// The names the reference knows (its `optionNameToID`) and the others its
/// users write most, by dhcp-options(5) spelling; anything else by number.
const NAMES: &[(&str, u8)] = &[
    ("subnet-mask", 1),
    ("routers", 3),
    ("domain-name-servers", 6),
    ("host-name", 12),
    ("domain-name", 15),
    ("interface-mtu", 26),
    ("static-routes", 33),
    ("vendor-class-identifier", 60),
    ("dhcp-client-identifier", 61),
    ("user-class", 77),
    ("domain-search", 119),
    ("classless-static-routes", 121),
];

/// The option code for a name or a decimal number (1-254: 0 and 255 are
/// padding and end, not options).
pub fn option_code(name: &str) -> Option<u8> {
    if let Some((_, code)) = NAMES.iter().find(|(n, _)| *n == name) {
        return Some(*code);
    }
    match name.parse::<u8>() {
        Ok(code) if (1..=254).contains(&code) => Some(code),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(option_code("host-name"), Some(12));
        assert_eq!(option_code("121"), Some(121));
        assert_eq!(option_code("0"), None);
        assert_eq!(option_code("255"), None);
        assert_eq!(option_code("256"), None);
        assert_eq!(option_code("hostname"), None);
    }
}
