//! A `sysctl` object naming one key twice is refused, as the reference
//! refuses it: a JSON object keeps only the last of them, so the first value
//! would be dropped without a word. This needs the bytes: the parsed config
//! has already lost the duplicate.

use cni_core::spec::config::ConfigError;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

pub fn refuse_duplicate_sysctl_keys(stdin: &[u8]) -> Result<(), ConfigError> {
    let mut de = serde_json::Deserializer::from_slice(stdin);
    match de.deserialize_any(TopLevel) {
        Err(e) if e.to_string().starts_with(DUPLICATED) => {
            Err(ConfigError::invalid("sysctl", e.to_string()))
        }
        // Anything else (not JSON, wrong types) is for the config parse
        // that follows to name.
        _ => Ok(()),
    }
}

/// The config object: only its `sysctl` (any case, as Go matches it) is read.
struct TopLevel;

const DUPLICATED: &str = "duplicated sysctl key";

impl<'de> Visitor<'de> for TopLevel {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a network configuration object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key.eq_ignore_ascii_case("sysctl") {
                map.next_value_seed(DistinctKeys)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct DistinctKeys;

impl<'de> serde::de::DeserializeSeed<'de> for DistinctKeys {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DistinctKeys {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of sysctl keys")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!(
                    "{DUPLICATED} {key:?}: each key may appear once"
                )));
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_sysctl_key_is_refused_naming_it() {
        let conf = br#"{"sysctl":{"net.core.somaxconn":"1","net.core.somaxconn":"2"}}"#;
        let e = refuse_duplicate_sysctl_keys(conf).unwrap_err();
        assert_eq!(e.field(), "sysctl");
        assert!(e.reason().contains("net.core.somaxconn"), "{e}");
        assert_eq!(e.code(), 7);
    }

    #[test]
    fn distinct_keys_and_repeats_elsewhere_pass() {
        for ok in [
            &br#"{"sysctl":{"a":"1","b":"2"},"x":{"k":1,"k":2}}"#[..],
            br#"{"Sysctl":{"a":"1"}}"#,
            br#"{"sysctl":null}"#,
        ] {
            refuse_duplicate_sysctl_keys(ok).unwrap();
        }
    }

    #[test]
    fn wrong_types_and_bad_json_are_left_to_the_config_parse() {
        for other in [
            &b"not json"[..],
            b"[1]",
            br#"{"sysctl":[1]}"#,
            br#"{"sysctl":"x"}"#,
        ] {
            refuse_duplicate_sysctl_keys(other).unwrap();
        }
    }
}
