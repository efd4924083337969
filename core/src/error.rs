//! The one error type every plugin and the runtime side speak: the spec's
//! `{"cniVersion","code","msg","details"}` document.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Error codes defined by the CNI spec (1.1.0, "Error" section).
/// Codes 100 and above are plugin specific.
pub mod code {
    pub const INCOMPATIBLE_VERSION: u32 = 1;
    pub const UNSUPPORTED_FIELD: u32 = 2;
    pub const UNKNOWN_CONTAINER: u32 = 3;
    pub const INVALID_ENVIRONMENT: u32 = 4;
    pub const IO_FAILURE: u32 = 5;
    pub const DECODING_FAILURE: u32 = 6;
    pub const INVALID_NETWORK_CONFIG: u32 = 7;
    pub const TRY_AGAIN_LATER: u32 = 11;
    /// STATUS: the plugin cannot service ADD requests (e.g. IPAM exhausted).
    pub const NOT_AVAILABLE: u32 = 50;
    /// STATUS: limited connectivity, ADD may fail.
    pub const LIMITED_CONNECTIVITY: u32 = 51;
    /// The first plugin-specific code.
    pub const PLUGIN_SPECIFIC: u32 = 100;
    /// What the reference uses for "anything else"; we prefer specific codes.
    pub const GENERIC: u32 = 999;
}

/// A CNI error. Serializes exactly as the spec's error document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CniError {
    #[serde(
        rename = "cniVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub cni_version: String,
    pub code: u32,
    pub msg: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub details: String,
}

impl CniError {
    pub fn new(code: u32, msg: impl Into<String>) -> Self {
        CniError {
            cni_version: String::new(),
            code,
            msg: msg.into(),
            details: String::new(),
        }
    }

    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = details.into();
        self
    }

    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.cni_version = version.into();
        self
    }

    pub fn incompatible_version(msg: impl Into<String>) -> Self {
        Self::new(code::INCOMPATIBLE_VERSION, msg)
    }
    pub fn unsupported_field(msg: impl Into<String>) -> Self {
        Self::new(code::UNSUPPORTED_FIELD, msg)
    }
    pub fn unknown_container(msg: impl Into<String>) -> Self {
        Self::new(code::UNKNOWN_CONTAINER, msg)
    }
    pub fn invalid_env(msg: impl Into<String>) -> Self {
        Self::new(code::INVALID_ENVIRONMENT, msg)
    }
    pub fn io(msg: impl Into<String>) -> Self {
        Self::new(code::IO_FAILURE, msg)
    }
    pub fn decode(msg: impl Into<String>) -> Self {
        Self::new(code::DECODING_FAILURE, msg)
    }
    pub fn invalid_config(msg: impl Into<String>) -> Self {
        Self::new(code::INVALID_NETWORK_CONFIG, msg)
    }
    pub fn try_again_later(msg: impl Into<String>) -> Self {
        Self::new(code::TRY_AGAIN_LATER, msg)
    }

    /// The error document as the reference prints it (four-space indent).
    pub fn to_json_pretty(&self) -> String {
        crate::json::to_string_indent4(self)
    }
}

impl fmt::Display for CniError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.details.is_empty() {
            write!(f, "{}", self.msg)
        } else {
            write!(f, "{}; {}", self.msg, self.details)
        }
    }
}

impl std::error::Error for CniError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_the_spec_document() {
        let e = CniError::invalid_config("missing subnet")
            .with_details("field ipam.subnet")
            .with_version("1.0.0");
        let v: serde_json::Value = serde_json::from_str(&e.to_json_pretty()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"cniVersion":"1.0.0","code":7,"msg":"missing subnet","details":"field ipam.subnet"})
        );
    }

    #[test]
    fn empty_details_are_omitted() {
        let e = CniError::io("disk full");
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"code":5,"msg":"disk full"}"#
        );
    }
}
