//! The runtime-supplied identifiers become parts of file names (the result
//! cache) and kernel names: the shared `spec::validate` rules, reported as
//! libcni errors naming the runtime field.

use super::error::LibcniError;
use crate::spec::validate::{
    validate_container_id, validate_interface_name, validate_network_name,
};
use crate::CniError;

fn runtime_error(field: &'static str) -> impl Fn(CniError) -> LibcniError {
    move |e| LibcniError::Runtime {
        field,
        reason: if e.details.is_empty() {
            e.msg
        } else {
            format!("{}: {:?}", e.msg, e.details)
        },
    }
}

pub fn container_id(id: &str) -> Result<(), LibcniError> {
    validate_container_id(id).map_err(runtime_error("containerID"))
}

pub fn network_name(name: &str) -> Result<(), LibcniError> {
    validate_network_name(name).map_err(runtime_error("name"))
}

pub fn interface_name(ifname: &str) -> Result<(), LibcniError> {
    validate_interface_name(ifname).map_err(runtime_error("ifName"))
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

    #[test]
    fn errors_name_the_runtime_field_and_quote_the_value() {
        let e = container_id("a/b").unwrap_err();
        assert!(
            matches!(&e, LibcniError::Runtime { field: "containerID", reason } if reason.contains("\"a/b\"")),
            "{e}"
        );
        assert!(matches!(
            interface_name("").unwrap_err(),
            LibcniError::Runtime {
                field: "ifName",
                ..
            }
        ));
        assert!(matches!(
            network_name("").unwrap_err(),
            LibcniError::Runtime { field: "name", .. }
        ));
    }
}
