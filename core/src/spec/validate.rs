//! Validation of the identifiers a runtime hands a plugin, with the
//! reference's codes and messages (containernetworking/cni pkg/utils).

use super::config::ConfigError;
use crate::error::{code, CniError};

/// The kernel's IFNAMSIZ less the terminating NUL.
pub const MAX_INTERFACE_NAME_LEN: usize = 15;

/// `[a-zA-Z0-9][a-zA-Z0-9_.\-]*`: what the reference allows in container IDs
/// and network names (both end up in file names).
fn is_valid_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphanumeric() => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

pub fn validate_container_id(id: &str) -> Result<(), CniError> {
    if id.is_empty() {
        return Err(CniError::new(
            code::UNKNOWN_CONTAINER,
            "missing containerID",
        ));
    }
    if !is_valid_identifier(id) {
        return Err(CniError::new(
            code::INVALID_ENVIRONMENT,
            "invalid characters in containerID",
        )
        .with_details(id));
    }
    Ok(())
}

pub fn validate_network_name(name: &str) -> Result<(), CniError> {
    if name.is_empty() {
        return Err(CniError::new(
            code::INVALID_NETWORK_CONFIG,
            "missing network name",
        ));
    }
    if !is_valid_identifier(name) {
        return Err(CniError::new(
            code::INVALID_NETWORK_CONFIG,
            "invalid characters found in network name",
        )
        .with_details(name));
    }
    Ok(())
}

/// Why the kernel would refuse an interface name (`dev_valid_name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InterfaceNameError {
    #[error("interface name is empty")]
    Empty,
    #[error("interface name is too long")]
    TooLong,
    #[error("interface name is . or ..")]
    Dots,
    #[error("interface name contains / or : or % or whitespace characters")]
    BadCharacter,
}

/// The kernel's rule for interface names: 1-15 bytes, not `.` or `..`, no
/// `/`, `:`, NUL or whitespace. Every check of a name (the runtime's
/// `CNI_IFNAME`, a config's `bridge`/`master`, both backends) is this one.
pub fn check_interface_name(name: &str) -> Result<(), InterfaceNameError> {
    if name.is_empty() {
        return Err(InterfaceNameError::Empty);
    }
    if name.len() > MAX_INTERFACE_NAME_LEN {
        return Err(InterfaceNameError::TooLong);
    }
    if name == "." || name == ".." {
        return Err(InterfaceNameError::Dots);
    }
    if name
        .chars()
        // `%` makes the kernel pick a name of its own (`eth%d` becomes
        // `eth0`, `eth1`, ...), so the link would not be where we look.
        .any(|c| matches!(c, '/' | ':' | '%' | '\0') || c.is_whitespace())
    {
        return Err(InterfaceNameError::BadCharacter);
    }
    Ok(())
}

/// `CNI_IFNAME`, with the reference's code (4) and messages.
pub fn validate_interface_name(name: &str) -> Result<(), CniError> {
    check_interface_name(name).map_err(|e| {
        let err = CniError::new(code::INVALID_ENVIRONMENT, e.to_string());
        if e == InterfaceNameError::TooLong {
            err.with_details(format!(
                "interface name should be less than {} characters",
                MAX_INTERFACE_NAME_LEN + 1
            ))
        } else {
            err
        }
    })
}

/// A link name from a configuration (`bridge`, `master`, ...), naming `field`.
pub fn validate_link_name(field: &str, name: &str) -> Result<(), ConfigError> {
    check_interface_name(name).map_err(|e| {
        ConfigError::invalid(
            field,
            format!("invalid interface name {name:?}: {e} (1-15 bytes, no '/', ':' or whitespace)"),
        )
    })
}

/// The MTUs an Ethernet-like link takes (the kernel's ETH_MIN_MTU to IP's maximum).
pub const MTU_RANGE: std::ops::RangeInclusive<u32> = 68..=65535;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} is outside 68-65535")]
pub struct MtuOutOfRange(pub u32);

/// The one MTU rule, for configs and both backends.
pub fn check_mtu(mtu: u32) -> Result<(), MtuOutOfRange> {
    if MTU_RANGE.contains(&mtu) {
        Ok(())
    } else {
        Err(MtuOutOfRange(mtu))
    }
}

/// An `mtu` as bridge's and ptp's configs give it, read as the reference
/// reads its Go `int`: 0 is the zero value and a negative number is never
/// sent to the kernel (netlink sends only an MTU above 0), so both mean "no
/// MTU" (the kernel's default); a negative one is warned about, naming
/// `field`. A number past `u32` stays out of range for [`validate_mtu`].
pub fn configured_mtu(field: &str, mtu: Option<i64>) -> Option<u32> {
    match mtu? {
        0 => None,
        m if m < 0 => {
            tracing::warn!("{field}: {m} is negative; read as no MTU (the kernel's default), as the reference reads it");
            None
        }
        m => Some(u32::try_from(m).unwrap_or(u32::MAX)),
    }
}

/// An `mtu` as macvlan's and vlan's configs give it: 0 is "not set" and a
/// negative one is refused, as the reference's refuse it (they check the
/// range `[0, master MTU]`, where bridge, ptp and ipvlan take a negative MTU
/// as none: [`configured_mtu`]).
pub fn configured_mtu_not_negative(
    field: &str,
    mtu: Option<i64>,
) -> Result<Option<u32>, ConfigError> {
    match mtu {
        None | Some(0) => Ok(None),
        Some(m) if m < 0 => Err(ConfigError::invalid(
            field,
            format!("invalid MTU {m}, must be 0 (the parent's) or more"),
        )),
        Some(m) => Ok(Some(u32::try_from(m).unwrap_or(u32::MAX))),
    }
}

/// An `mtu` from a configuration, naming `field`.
pub fn validate_mtu(field: &str, mtu: u32) -> Result<(), ConfigError> {
    check_mtu(mtu).map_err(|e| ConfigError::invalid(field, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_ids() {
        for ok in ["abc", "A1", "0_.-x", "a"] {
            validate_container_id(ok).unwrap();
        }
        for bad in ["-abc", "_a", ".a", "a/b", "a b", "a:b", "ä"] {
            let e = validate_container_id(bad).unwrap_err();
            assert_eq!((e.code, e.details.as_str()), (4, bad));
        }
        assert_eq!(validate_container_id("").unwrap_err().code, 3);
    }

    #[test]
    fn interface_names() {
        for ok in ["eth0", "a", "123456789012345", "veth.1-x"] {
            validate_interface_name(ok).unwrap();
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a:b",
            "a b",
            "a\tb",
            "1234567890123456",
        ] {
            assert_eq!(validate_interface_name(bad).unwrap_err().code, 4, "{bad}");
        }
        // 15 bytes is the limit even when that is fewer characters.
        assert!(validate_interface_name("ééééééé").is_ok());
        assert!(validate_interface_name("éééééééé").is_err());
    }

    #[test]
    fn names_the_kernel_would_rewrite_are_refused() {
        assert_eq!(validate_interface_name("eth%d").unwrap_err().code, 4);
        let e = validate_link_name("bridge", "br%d").unwrap_err();
        assert_eq!(e.code(), 7);
        assert!(e.to_string().starts_with("bridge"), "{e}");
    }

    #[test]
    fn link_names_from_configs_name_their_field_with_code_7() {
        assert!(validate_link_name("bridge", "cni0").is_ok());
        for bad in [
            "",
            "a/b",
            "a:b",
            "a b",
            "a\0b",
            ".",
            "..",
            "sixteen-bytes-xx",
        ] {
            let e = validate_link_name("bridge", bad).unwrap_err();
            assert_eq!((e.field(), e.code()), ("bridge", 7), "{bad:?}");
        }
    }

    #[test]
    fn mtus_outside_68_to_65535_are_refused_naming_the_field() {
        for ok in [68, 1500, 65535] {
            assert!(validate_mtu("mtu", ok).is_ok());
        }
        for bad in [0, 67, 65536] {
            let e = validate_mtu("mtu", bad).unwrap_err();
            assert_eq!(e.to_string(), format!("mtu: {bad} is outside 68-65535"));
        }
    }

    #[test]
    fn network_names() {
        validate_network_name("podman").unwrap();
        let e = validate_network_name("a/b").unwrap_err();
        assert_eq!((e.code, e.details.as_str()), (7, "a/b"));
        assert_eq!(
            validate_network_name("").unwrap_err().msg,
            "missing network name"
        );
    }
}
