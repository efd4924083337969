//! Which spec versions allow which verbs. Parsing, ordering and the list of
//! versions are the shared `spec::version`.

use crate::spec::version::{version_at_least, ALL};

/// CHECK and `prevResult` on DEL appeared in 0.4.0.
pub const CHECK_MIN_VERSION: &str = "0.4.0";
/// GC and STATUS appeared in 1.1.0.
pub const GC_STATUS_MIN_VERSION: &str = "1.1.0";

/// Is `v` a spec version this library runs?
pub fn is_supported(v: &str) -> bool {
    ALL.contains(&v)
}

/// `v >= min`; false when `v` does not parse (a list's version always does:
/// it is checked at load time).
pub fn at_least(v: &str, min: &str) -> bool {
    version_at_least(v, min).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_numerically_not_lexically() {
        assert!(at_least("0.10.0", "0.4.0"));
        assert!(at_least("1.0.0", "0.4.0"));
        assert!(!at_least("0.3.1", "0.4.0"));
        assert!(!at_least("garbage", "0.1.0"));
    }

    #[test]
    fn supports_exactly_the_spec_versions() {
        assert!(is_supported("0.1.0") && is_supported("1.1.0"));
        for other in ["0.5.0", "1", "1.0", "", "2.0.0"] {
            assert!(!is_supported(other), "{other}");
        }
    }
}
