//! Results as libcni keeps them: the document a plugin printed, as the
//! reference caches it. The shared `CniResult` decides what is a valid result
//! at which version and does every conversion between versions.

use crate::invoke::parse_result_output;
use crate::spec::version::DEFAULT_CONFIG_VERSION;
use crate::spec::{CniResult, ResultError};
use crate::CniError;
use serde_json::{Map, Value};

/// A plugin's ADD output, validated by the shared parser (which also reads a
/// missing `cniVersion` as the configuration's) and otherwise kept as printed,
/// so it reaches the next plugin and the cache unchanged.
pub fn parse_add_output(stdout: &[u8], conf_version: &str) -> Result<Map<String, Value>, CniError> {
    let parsed = parse_result_output(stdout, conf_version)?;
    // The shared parser accepted an object or `null`, so this cannot fail.
    let mut doc = serde_json::from_slice::<Option<Map<String, Value>>>(stdout)
        .map_err(|e| CniError::decode(format!("failed to parse the plugin's result: {e}")))?
        .unwrap_or_default();
    doc.insert("cniVersion".into(), Value::String(parsed.cni_version));
    Ok(doc)
}

/// `result` at spec version `to`: unchanged when it already is, else
/// converted through the shared model. A result without `cniVersion` is
/// 0.1.0, as the reference reads a cached one.
pub fn at_version(
    result: &Map<String, Value>,
    to: &str,
) -> Result<Map<String, Value>, ResultError> {
    let parsed = CniResult::from_value(Value::Object(result.clone()), DEFAULT_CONFIG_VERSION)?;
    if parsed.cni_version == to {
        return Ok(result.clone());
    }
    let mut converted = match parsed.to_value_at(to)? {
        Value::Object(m) => m,
        other => {
            return Err(ResultError::CannotConvert {
                to: to.to_string(),
                reason: format!("rendered as {other}, not an object"),
            })
        }
    };
    // libcni's converted results have never carried an empty `dns` (the
    // reference's 0.x types write `{}`); no decoder tells the two apart.
    if converted
        .get("dns")
        .and_then(Value::as_object)
        .is_some_and(Map::is_empty)
    {
        converted.shift_remove("dns");
    }
    Ok(converted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn missing_version_takes_the_config_version() {
        let r = parse_add_output(br#"{"ips":[]}"#, "0.4.0").unwrap();
        assert_eq!(r["cniVersion"], "0.4.0");
        let r = parse_add_output(b"null", "1.0.0").unwrap();
        assert_eq!(Value::Object(r), json!({"cniVersion":"1.0.0"}));
    }

    #[test]
    fn unknown_result_version_is_refused() {
        assert!(parse_add_output(br#"{"cniVersion":"9.9.9"}"#, "1.0.0").is_err());
        assert!(parse_add_output(b"[1]", "1.0.0").is_err());
    }

    #[test]
    fn a_result_passes_unchanged_when_no_conversion_is_needed() {
        let printed =
            obj(json!({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24"}],"x-extra":1}));
        let r = parse_add_output(
            Value::Object(printed.clone()).to_string().as_bytes(),
            "0.4.0",
        )
        .unwrap();
        assert_eq!(r, printed);
        assert_eq!(at_version(&r, "1.0.0").unwrap(), printed);
    }

    #[test]
    fn modern_versions_gain_and_lose_the_ip_version_field() {
        let r = obj(
            json!({"cniVersion":"1.1.0","interfaces":[{"name":"eth0","mtu":1400}],
            "ips":[{"address":"10.0.0.2/24"},{"address":"fd00::2/64"}]}),
        );
        let old = at_version(&r, "0.4.0").unwrap();
        assert_eq!(
            Value::Object(old.clone()),
            json!({"cniVersion":"0.4.0","interfaces":[{"name":"eth0"}],
            "ips":[{"address":"10.0.0.2/24","version":"4"},{"address":"fd00::2/64","version":"6"}]})
        );
        let back = at_version(&old, "1.0.0").unwrap();
        assert!(back["ips"][0].get("version").is_none());
    }

    #[test]
    fn legacy_round_trip_keeps_addresses_and_routes() {
        let r = obj(json!({"cniVersion":"1.0.0",
            "ips":[{"address":"10.0.0.2/24","gateway":"10.0.0.1"}],
            "routes":[{"dst":"0.0.0.0/0","gw":"10.0.0.1"}],"dns":{"nameservers":["1.1.1.1"]}}));
        let legacy = at_version(&r, "0.2.0").unwrap();
        assert_eq!(
            Value::Object(legacy.clone()),
            json!({"ip4":{"ip":"10.0.0.2/24","gateway":"10.0.0.1",
            "routes":[{"dst":"0.0.0.0/0","gw":"10.0.0.1"}]},"dns":{"nameservers":["1.1.1.1"]},"cniVersion":"0.2.0"})
        );
        let modern = at_version(&legacy, "1.0.0").unwrap();
        assert_eq!(modern["ips"], r["ips"]);
        assert_eq!(modern["routes"], r["routes"]);
    }
}
