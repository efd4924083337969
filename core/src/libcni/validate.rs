//! The runtime-supplied identifiers become parts of file names (the result
//! cache) and kernel names: the same rules as the reference's `pkg/utils`.

use super::error::LibcniError;

/// Linux IFNAMSIZ minus the terminating NUL.
const MAX_IFNAME_LEN: usize = 15;

/// Container IDs and network names: `^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`.
fn is_safe_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

pub fn container_id(id: &str) -> Result<(), LibcniError> {
    if id.is_empty() {
        return Err(LibcniError::Runtime {
            field: "containerID",
            reason: "missing".into(),
        });
    }
    if !is_safe_identifier(id) {
        return Err(LibcniError::Runtime {
            field: "containerID",
            reason: format!("{id:?} must start with a letter or digit and contain only letters, digits, `_`, `.` and `-`"),
        });
    }
    Ok(())
}

pub fn network_name(name: &str) -> Result<(), LibcniError> {
    if name.is_empty() {
        return Err(LibcniError::Runtime {
            field: "name",
            reason: "network name is missing".into(),
        });
    }
    if !is_safe_identifier(name) {
        return Err(LibcniError::Runtime {
            field: "name",
            reason: format!("network name {name:?} must start with a letter or digit and contain only letters, digits, `_`, `.` and `-`"),
        });
    }
    Ok(())
}

pub fn interface_name(ifname: &str) -> Result<(), LibcniError> {
    let bad = |reason: String| {
        Err(LibcniError::Runtime {
            field: "ifName",
            reason,
        })
    };
    if ifname.is_empty() {
        return bad("missing".into());
    }
    if ifname.len() > MAX_IFNAME_LEN {
        return bad(format!("{ifname:?} is longer than {MAX_IFNAME_LEN} bytes"));
    }
    if ifname == "." || ifname == ".." {
        return bad(format!("{ifname:?} is not a valid interface name"));
    }
    if ifname
        .chars()
        .any(|c| c == '/' || c == ':' || c.is_whitespace())
    {
        return bad(format!(
            "{ifname:?} must not contain `/`, `:` or whitespace"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_follow_the_reference_pattern() {
        assert!(container_id("abc-1_2.3").is_ok());
        for bad in ["", "-abc", "a/b", "../x", "a b", "é"] {
            assert!(container_id(bad).is_err(), "{bad}");
            assert!(network_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn interface_names_fit_the_kernel() {
        assert!(interface_name("eth0").is_ok());
        assert!(interface_name("123456789012345").is_ok());
        for bad in ["", "1234567890123456", ".", "..", "a/b", "a:b", "a b"] {
            assert!(interface_name(bad).is_err(), "{bad}");
        }
    }
}
