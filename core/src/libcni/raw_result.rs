//! Results as raw JSON: the version fix-up the reference applies to what a
//! plugin prints, and conversion of a cached result to the network's version
//! (so plugins get `prevResult` at their configuration's version). Kept apart
//! so it can switch to the shared result types and their conversion.

use super::version;
use serde_json::{Map, Value};

/// Parses a plugin's ADD output. A result without `cniVersion` is taken to be
/// at the configuration's version (the reference's `fixupResultVersion`);
/// `null` is an empty result. The version must be one we know.
pub fn parse_plugin_result(
    stdout: &[u8],
    conf_version: &str,
) -> Result<Map<String, Value>, String> {
    let value: Value =
        serde_json::from_slice(stdout).map_err(|e| format!("not valid JSON: {e}"))?;
    let mut result = match value {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        other => {
            return Err(format!(
                "must be a JSON object, found {}",
                super::raw_conf::json_kind(&other)
            ))
        }
    };
    match result.get("cniVersion") {
        Some(Value::String(v)) if !v.is_empty() => {
            if !version::is_supported(v) {
                return Err(format!("unsupported result cniVersion {v:?}"));
            }
        }
        Some(Value::String(_)) | None => {
            result.insert("cniVersion".into(), Value::String(conf_version.to_string()));
        }
        Some(other) => {
            return Err(format!(
                "cniVersion must be a string, found {}",
                super::raw_conf::json_kind(other)
            ))
        }
    }
    Ok(result)
}

/// The result's `cniVersion`, or 0.1.0 (the spec's default) when absent.
pub fn result_version(result: &Map<String, Value>) -> &str {
    result
        .get("cniVersion")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .unwrap_or("0.1.0")
}

/// Converts a result to spec version `to`. Fields a version lacks are dropped.
pub fn convert_result(result: &Map<String, Value>, to: &str) -> Result<Map<String, Value>, String> {
    if !version::is_supported(to) {
        return Err(format!(
            "cannot convert a result to unsupported version {to:?}"
        ));
    }
    let from = result_version(result);
    if !version::is_supported(from) {
        return Err(format!(
            "cannot convert a result from unsupported version {from:?}"
        ));
    }
    if from == to {
        return Ok(result.clone());
    }
    let modern = if version::is_legacy_result_version(from) {
        legacy_to_modern(result)
    } else {
        result.clone()
    };
    let mut out = if version::is_legacy_result_version(to) {
        modern_to_legacy(&modern)
    } else {
        shape_modern(modern, to)
    };
    out.insert("cniVersion".into(), Value::String(to.to_string()));
    Ok(out)
}

/// Fields that only exist from 1.1.0 (they ride along at 1.0.0 too, as in the
/// reference's shared 1.x types, and are dropped below 1.0.0).
const INTERFACE_1X_FIELDS: &[&str] = &["mtu", "socketPath", "pciID"];
const ROUTE_1X_FIELDS: &[&str] = &["mtu", "advmss", "priority", "table", "scope"];

fn shape_modern(mut r: Map<String, Value>, to: &str) -> Map<String, Value> {
    let below_1 = !version::at_least(to, "1.0.0");
    if let Some(Value::Array(ips)) = r.get_mut("ips") {
        for ip in ips.iter_mut().filter_map(Value::as_object_mut) {
            if below_1 {
                let family = if address_is_v6(ip.get("address")) {
                    "6"
                } else {
                    "4"
                };
                ip.insert("version".into(), Value::String(family.into()));
            } else {
                ip.remove("version");
            }
        }
    }
    if below_1 {
        strip_fields(&mut r, "interfaces", INTERFACE_1X_FIELDS);
        strip_fields(&mut r, "routes", ROUTE_1X_FIELDS);
    }
    r
}

fn strip_fields(r: &mut Map<String, Value>, list: &str, fields: &[&str]) {
    if let Some(Value::Array(items)) = r.get_mut(list) {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            for f in fields {
                item.remove(*f);
            }
        }
    }
}

fn address_is_v6(addr: Option<&Value>) -> bool {
    addr.and_then(Value::as_str)
        .is_some_and(|a| a.contains(':'))
}

/// 0.1.0/0.2.0 `ip4`/`ip6` objects to `ips` + `routes`.
fn legacy_to_modern(r: &Map<String, Value>) -> Map<String, Value> {
    let mut ips = Vec::new();
    let mut routes = Vec::new();
    for key in ["ip4", "ip6"] {
        let Some(Value::Object(cfg)) = r.get(key) else {
            continue;
        };
        if let Some(addr) = cfg.get("ip") {
            let mut ip = Map::new();
            ip.insert("address".into(), addr.clone());
            if let Some(gw) = cfg.get("gateway") {
                ip.insert("gateway".into(), gw.clone());
            }
            ips.push(Value::Object(ip));
        }
        if let Some(Value::Array(rs)) = cfg.get("routes") {
            routes.extend(rs.iter().cloned());
        }
    }
    let mut out = Map::new();
    out.insert("cniVersion".into(), Value::String("1.1.0".into()));
    if !ips.is_empty() {
        out.insert("ips".into(), Value::Array(ips));
    }
    if !routes.is_empty() {
        out.insert("routes".into(), Value::Array(routes));
    }
    if let Some(dns) = r.get("dns") {
        out.insert("dns".into(), dns.clone());
    }
    out
}

/// `ips` + `routes` to 0.1.0/0.2.0 `ip4`/`ip6`: the first address of each
/// family, and the routes split by destination family.
fn modern_to_legacy(r: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    let ips: &[Value] = r
        .get("ips")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let routes: &[Value] = r
        .get("routes")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for (key, want_v6) in [("ip4", false), ("ip6", true)] {
        let Some(ip) = ips
            .iter()
            .filter_map(Value::as_object)
            .find(|ip| address_is_v6(ip.get("address")) == want_v6)
        else {
            continue;
        };
        let mut cfg = Map::new();
        if let Some(a) = ip.get("address") {
            cfg.insert("ip".into(), a.clone());
        }
        if let Some(gw) = ip.get("gateway") {
            cfg.insert("gateway".into(), gw.clone());
        }
        let family_routes: Vec<Value> = routes
            .iter()
            .filter_map(Value::as_object)
            .filter(|rt| address_is_v6(rt.get("dst")) == want_v6)
            .map(|rt| {
                let mut m = Map::new();
                for k in ["dst", "gw"] {
                    if let Some(v) = rt.get(k) {
                        m.insert(k.into(), v.clone());
                    }
                }
                Value::Object(m)
            })
            .collect();
        if !family_routes.is_empty() {
            cfg.insert("routes".into(), Value::Array(family_routes));
        }
        out.insert(key.into(), Value::Object(cfg));
    }
    if let Some(dns) = r.get("dns") {
        out.insert("dns".into(), dns.clone());
    }
    out
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
        let r = parse_plugin_result(br#"{"ips":[]}"#, "0.4.0").unwrap();
        assert_eq!(r["cniVersion"], "0.4.0");
        let r = parse_plugin_result(b"null", "1.0.0").unwrap();
        assert_eq!(Value::Object(r), json!({"cniVersion":"1.0.0"}));
    }

    #[test]
    fn unknown_result_version_is_refused() {
        assert!(parse_plugin_result(br#"{"cniVersion":"9.9.9"}"#, "1.0.0").is_err());
        assert!(parse_plugin_result(b"[1]", "1.0.0").is_err());
    }

    #[test]
    fn modern_versions_gain_and_lose_the_ip_version_field() {
        let r = obj(
            json!({"cniVersion":"1.1.0","interfaces":[{"name":"eth0","mtu":1400}],
            "ips":[{"address":"10.0.0.2/24"},{"address":"fd00::2/64"}],
            "routes":[{"dst":"0.0.0.0/0","table":5}]}),
        );
        let old = convert_result(&r, "0.4.0").unwrap();
        assert_eq!(
            Value::Object(old.clone()),
            json!({"cniVersion":"0.4.0","interfaces":[{"name":"eth0"}],
            "ips":[{"address":"10.0.0.2/24","version":"4"},{"address":"fd00::2/64","version":"6"}],
            "routes":[{"dst":"0.0.0.0/0"}]})
        );
        let back = convert_result(&old, "1.0.0").unwrap();
        assert!(back["ips"][0].get("version").is_none());
    }

    #[test]
    fn legacy_round_trip_keeps_addresses_and_routes() {
        let r = obj(json!({"cniVersion":"1.0.0",
            "ips":[{"address":"10.0.0.2/24","gateway":"10.0.0.1"}],
            "routes":[{"dst":"0.0.0.0/0","gw":"10.0.0.1"}],"dns":{"nameservers":["1.1.1.1"]}}));
        let legacy = convert_result(&r, "0.2.0").unwrap();
        assert_eq!(
            Value::Object(legacy.clone()),
            json!({"ip4":{"ip":"10.0.0.2/24","gateway":"10.0.0.1",
            "routes":[{"dst":"0.0.0.0/0","gw":"10.0.0.1"}]},"dns":{"nameservers":["1.1.1.1"]},"cniVersion":"0.2.0"})
        );
        let modern = convert_result(&legacy, "1.0.0").unwrap();
        assert_eq!(modern["ips"], r["ips"]);
        assert_eq!(modern["routes"], r["routes"]);
    }
}
