//! Validation of the identifiers a runtime hands a plugin, with the
//! reference's codes and messages (containernetworking/cni pkg/utils).

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

pub fn validate_interface_name(name: &str) -> Result<(), CniError> {
    let invalid = |msg: &str| CniError::new(code::INVALID_ENVIRONMENT, msg);
    if name.is_empty() {
        return Err(invalid("interface name is empty"));
    }
    if name.len() > MAX_INTERFACE_NAME_LEN {
        return Err(invalid("interface name is too long").with_details(format!(
            "interface name should be less than {} characters",
            MAX_INTERFACE_NAME_LEN + 1
        )));
    }
    if name == "." || name == ".." {
        return Err(invalid("interface name is . or .."));
    }
    if name
        .chars()
        .any(|c| c == '/' || c == ':' || c.is_whitespace())
    {
        return Err(invalid(
            "interface name contains / or : or whitespace characters",
        ));
    }
    Ok(())
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
