//! Spec versions as libcni needs them: which ones it speaks, how they order,
//! and which verbs each one allows.

use std::cmp::Ordering;

/// Every spec version this library runs, oldest first.
pub const SUPPORTED_VERSIONS: &[&str] = &[
    "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0",
];

/// The newest spec version this library implements.
pub const CURRENT_VERSION: &str = "1.1.0";

/// CHECK and `prevResult` on DEL appeared in 0.4.0.
pub const CHECK_MIN_VERSION: &str = "0.4.0";
/// GC and STATUS appeared in 1.1.0.
pub const GC_STATUS_MIN_VERSION: &str = "1.1.0";

/// A parsed `MAJOR.MINOR.PATCH` version string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// Parses `X.Y.Z` (exactly three decimal parts). Returns None for anything else.
    pub fn parse(s: &str) -> Option<Version> {
        let mut parts = s.split('.');
        let mut next = || -> Option<u32> {
            let p = parts.next()?;
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()
        };
        let v = Version(next()?, next()?, next()?);
        if parts.next().is_some() {
            return None;
        }
        Some(v)
    }
}

/// Is `v` one of [`SUPPORTED_VERSIONS`]?
pub fn is_supported(v: &str) -> bool {
    SUPPORTED_VERSIONS.contains(&v)
}

/// Compares two version strings; unparsable ones sort first.
pub fn compare(a: &str, b: &str) -> Ordering {
    Version::parse(a).cmp(&Version::parse(b))
}

/// `v >= min`, false when `v` does not parse.
pub fn at_least(v: &str, min: &str) -> bool {
    match (Version::parse(v), Version::parse(min)) {
        (Some(v), Some(m)) => v >= m,
        _ => false,
    }
}

/// Results before 0.3.0 have the `ip4`/`ip6` shape instead of `interfaces`/`ips`.
pub fn is_legacy_result_version(v: &str) -> bool {
    !at_least(v, "0.3.0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_three_numeric_parts() {
        assert_eq!(Version::parse("1.1.0"), Some(Version(1, 1, 0)));
        assert_eq!(Version::parse("0.3.1"), Some(Version(0, 3, 1)));
        for bad in [
            "", "1", "1.0", "1.0.0.0", "1.a.0", "v1.0.0", "1..0", "-1.0.0",
        ] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn orders_numerically_not_lexically() {
        assert_eq!(compare("0.10.0", "0.4.0"), Ordering::Greater);
        assert!(at_least("1.0.0", "0.4.0"));
        assert!(!at_least("0.3.1", "0.4.0"));
        assert!(!at_least("garbage", "0.1.0"));
    }

    #[test]
    fn supported_versions_are_sorted_and_end_at_current() {
        let mut sorted = SUPPORTED_VERSIONS.to_vec();
        sorted.sort_by(|a, b| compare(a, b));
        assert_eq!(sorted, SUPPORTED_VERSIONS);
        assert_eq!(SUPPORTED_VERSIONS.last(), Some(&CURRENT_VERSION));
    }
}
