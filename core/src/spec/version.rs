//! Spec versions: parsing, ordering, the plugin's VERSION answer.

use crate::error::{code, CniError};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// The newest spec version this implementation speaks.
pub const CURRENT: &str = "1.1.0";

/// Every spec version, oldest first.
pub const ALL: &[&str] = &[
    "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0",
];

/// A config without `cniVersion` is 0.1.0 (spec; the reference's ConfigDecoder).
pub const DEFAULT_CONFIG_VERSION: &str = "0.1.0";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version {version:?}: {reason}")]
pub struct VersionError {
    pub version: String,
    pub reason: String,
}

impl From<VersionError> for CniError {
    fn from(e: VersionError) -> Self {
        CniError::new(code::INCOMPATIBLE_VERSION, "invalid CNI version").with_details(e.to_string())
    }
}

/// `major.minor.micro`. Parsed as leniently as the reference: "1" and "1.0"
/// are 1.0.0, the empty string is 0.1.0; anything else non-numeric is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub micro: u64,
}

impl Version {
    pub const fn new(major: u64, minor: u64, micro: u64) -> Self {
        Version {
            major,
            minor,
            micro,
        }
    }

    pub fn parse(s: &str) -> Result<Version, VersionError> {
        if s.is_empty() {
            return Ok(Version::new(0, 1, 0));
        }
        let err = |reason: String| VersionError {
            version: s.to_string(),
            reason,
        };
        let parts: Vec<&str> = s.split('.').collect();
        if parts.len() > 3 {
            return Err(err("too many parts".into()));
        }
        let mut nums = [0u64; 3];
        for (i, (part, name)) in parts.iter().zip(["major", "minor", "micro"]).enumerate() {
            // The reference uses strconv.Atoi, which accepts a leading sign; a
            // negative part can never name a spec version, so refuse signs.
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err(format!("{name} part {part:?} is not a number")));
            }
            nums[i] = part
                .parse()
                .map_err(|e| err(format!("{name} part {part:?}: {e}")))?;
        }
        Ok(Version::new(nums[0], nums[1], nums[2]))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}

impl std::str::FromStr for Version {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s)
    }
}

/// `version >= other`; errors name the unparsable one.
pub fn compare(version: &str, other: &str) -> Result<Ordering, VersionError> {
    Ok(Version::parse(version)?.cmp(&Version::parse(other)?))
}

/// `version >= minimum`, e.g. `version_at_least(conf_version, "0.4.0")`.
pub fn version_at_least(version: &str, minimum: &str) -> Result<bool, VersionError> {
    Ok(compare(version, minimum)? != Ordering::Less)
}

/// The reference's `ErrorIncompatible::Details()`: Go's `%q` of the version and list.
pub fn incompatible_details(config_version: &str, supported: &[&str]) -> String {
    let quoted: Vec<String> = supported.iter().map(|v| go_quote(v)).collect();
    format!(
        "config is {}, plugin supports [{}]",
        go_quote(config_version),
        quoted.join(" ")
    )
}

/// Go's `%q` for the strings we quote (JSON string escaping is identical for
/// printable ASCII, which is all a sane version string holds).
fn go_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// The error the dispatcher reports for a config version the plugin does not support.
pub fn incompatible(config_version: &str, supported: &[&str]) -> CniError {
    CniError::new(code::INCOMPATIBLE_VERSION, "incompatible CNI versions")
        .with_details(incompatible_details(config_version, supported))
}

/// The answer to VERSION: `{"cniVersion":..., "supportedVersions":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    #[serde(rename = "cniVersion")]
    pub cni_version: String,
    #[serde(
        rename = "supportedVersions",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub supported_versions: Vec<String>,
}

impl VersionInfo {
    /// What a plugin supporting `supported` answers: our own protocol version
    /// plus its list.
    pub fn for_plugin(supported: &[&str]) -> Self {
        VersionInfo {
            cni_version: CURRENT.to_string(),
            supported_versions: supported.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Compact JSON and a newline, as the reference's json.Encoder writes it.
    pub fn encode(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Decodes a plugin's VERSION answer as the reference's PluginDecoder
    /// does: a 0.2.0 answer without a list means 0.1.0 and 0.2.0.
    pub fn decode(bytes: &[u8]) -> Result<VersionInfo, CniError> {
        let info: VersionInfo = serde_json::from_slice(bytes)
            .map_err(|e| CniError::decode("decoding version info").with_details(e.to_string()))?;
        if info.cni_version.is_empty() {
            return Err(CniError::decode(
                "decoding version info: missing field cniVersion",
            ));
        }
        if info.supported_versions.is_empty() {
            if info.cni_version == "0.2.0" {
                return Ok(VersionInfo {
                    cni_version: info.cni_version,
                    supported_versions: vec!["0.1.0".into(), "0.2.0".into()],
                });
            }
            return Err(CniError::decode(
                "decoding version info: missing field supportedVersions",
            ));
        }
        Ok(info)
    }

    pub fn supports(&self, version: &str) -> bool {
        self.supported_versions.iter().any(|v| v == version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lenient_forms_like_the_reference() {
        assert_eq!(Version::parse("").unwrap(), Version::new(0, 1, 0));
        assert_eq!(Version::parse("1").unwrap(), Version::new(1, 0, 0));
        assert_eq!(Version::parse("0.4").unwrap(), Version::new(0, 4, 0));
        assert_eq!(Version::parse("1.1.0").unwrap(), Version::new(1, 1, 0));
    }

    #[test]
    fn garbage_versions_are_errors_naming_the_part() {
        for bad in ["abc", "1.x.0", "1.0.0.0", "1..0", "-1.0.0", "1.0.0 "] {
            let e = Version::parse(bad).unwrap_err();
            assert_eq!(e.version, bad);
        }
        let e: CniError = Version::parse("1.x").unwrap_err().into();
        assert_eq!(e.code, 1);
        assert!(e.details.contains("minor"), "{e:?}");
    }

    #[test]
    fn ordering_is_numeric_not_lexical() {
        assert!(version_at_least("0.10.0", "0.4.0").unwrap());
        assert!(version_at_least("0.4.0", "0.4.0").unwrap());
        assert!(!version_at_least("0.3.1", "0.4.0").unwrap());
        assert!(version_at_least("1.0.0", "0.4.0").unwrap());
        assert!(version_at_least("garbage", "0.4.0").is_err());
    }

    #[test]
    fn incompatible_details_match_go_quoting() {
        assert_eq!(
            incompatible_details("1.2.0", &["0.1.0", "1.0.0"]),
            r#"config is "1.2.0", plugin supports ["0.1.0" "1.0.0"]"#
        );
    }

    #[test]
    fn version_answer_is_compact_with_newline() {
        let v = VersionInfo::for_plugin(&["0.4.0", "1.0.0"]);
        assert_eq!(
            v.encode(),
            "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"0.4.0\",\"1.0.0\"]}\n"
        );
    }

    #[test]
    fn decodes_legacy_version_answers() {
        let v = VersionInfo::decode(br#"{"cniVersion":"0.2.0"}"#).unwrap();
        assert_eq!(v.supported_versions, vec!["0.1.0", "0.2.0"]);
        assert!(VersionInfo::decode(br#"{"cniVersion":"0.3.0"}"#).is_err());
        assert!(VersionInfo::decode(br#"{"supportedVersions":["1.0.0"]}"#).is_err());
        assert_eq!(VersionInfo::decode(b"nope").unwrap_err().code, 6);
    }
}
