//! The configuration fields every main plugin reads, besides its own.

use cni_core::net::MacAddr;
use cni_core::spec::{CniResult, Dns};
use cni_core::CniError;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct IpamConf {
    #[serde(rename = "type", default)]
    pub plugin_type: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RuntimeConfig {
    #[serde(default)]
    pub mac: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CommonConf {
    #[serde(rename = "cniVersion", default)]
    pub cni_version: String,
    pub name: String,
    #[serde(default)]
    pub ipam: Option<IpamConf>,
    #[serde(default)]
    pub dns: Dns,
    #[serde(rename = "runtimeConfig", default)]
    pub runtime_config: RuntimeConfig,
    #[serde(default)]
    pub args: Option<Value>,
    #[serde(rename = "prevResult", default)]
    pub prev_result: Option<Value>,
}

impl CommonConf {
    /// The IPAM plugin type, or `None` for layer 2 only (`ipam` absent or `{}`).
    pub fn ipam_type(&self) -> Option<&str> {
        self.ipam
            .as_ref()
            .map(|i| i.plugin_type.as_str())
            .filter(|t| !t.is_empty())
    }

    /// The MAC the runtime asked for: `runtimeConfig.mac` (the `mac` capability),
    /// then `args.cni.mac`, then `MAC=` in `CNI_ARGS`.
    pub fn requested_mac(&self, cni_args: &str) -> Result<Option<MacAddr>, CniError> {
        let from_args = self
            .args
            .as_ref()
            .and_then(|a| a.pointer("/cni/mac"))
            .and_then(Value::as_str);
        let env_args = cni_core::spec::args::CniArgs::parse(cni_args)?;
        let from_env = env_args.get("MAC");
        let (field, text) = match (self.runtime_config.mac.as_deref(), from_args, from_env) {
            (Some(m), _, _) => ("runtimeConfig.mac", m),
            (None, Some(m), _) => ("args.cni.mac", m),
            (None, None, Some(m)) => ("CNI_ARGS MAC", m),
            (None, None, None) => return Ok(None),
        };
        text.parse::<MacAddr>()
            .map(Some)
            .map_err(|e| CniError::invalid_config(format!("{field}: {e}")))
    }

    /// The last touch on an ADD result: the config's `dns` laid over IPAM's,
    /// and the config's version (skel renders the result at it).
    pub fn finish(&self, mut result: CniResult) -> CniResult {
        result.dns = merge_dns(&result.dns, &self.dns);
        result.cni_version = self.cni_version.clone();
        result
    }

    /// The previous result, required by CHECK.
    pub fn prev_result(&self) -> Result<CniResult, CniError> {
        let raw = self
            .prev_result
            .as_ref()
            .ok_or_else(|| CniError::invalid_config("prevResult: required for CHECK"))?;
        let version = if self.cni_version.is_empty() {
            cni_core::spec::version::DEFAULT_CONFIG_VERSION
        } else {
            &self.cni_version
        };
        CniResult::from_value(raw.clone(), version).map_err(CniError::from)
    }
}

/// Parses the config or fails with code 6 (malformed) / 7 (missing `name`).
pub fn parse<T: serde::de::DeserializeOwned>(stdin: &[u8]) -> Result<T, CniError> {
    let value: Value = serde_json::from_slice(stdin)
        .map_err(|e| CniError::decode(format!("failed to parse network configuration: {e}")))?;
    if value
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(CniError::invalid_config(
            "missing network name: field \"name\" is required",
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| CniError::invalid_config(format!("invalid network configuration: {e}")))
}

/// The result's DNS with the network config's `dns` laid over it, field by field.
pub fn merge_dns(from_ipam: &Dns, from_conf: &Dns) -> Dns {
    Dns {
        nameservers: pick(&from_conf.nameservers, &from_ipam.nameservers),
        domain: if from_conf.domain.is_empty() {
            from_ipam.domain.clone()
        } else {
            from_conf.domain.clone()
        },
        search: pick(&from_conf.search, &from_ipam.search),
        options: pick(&from_conf.options, &from_ipam.options),
    }
}

fn pick(preferred: &[String], fallback: &[String]) -> Vec<String> {
    if preferred.is_empty() {
        fallback.to_vec()
    } else {
        preferred.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_dns_wins_per_field() {
        let ipam = Dns {
            nameservers: vec!["10.0.0.53".into()],
            domain: "ipam.example".into(),
            search: vec!["a".into()],
            options: vec![],
        };
        let conf = Dns {
            nameservers: vec![],
            domain: "conf.example".into(),
            search: vec![],
            options: vec!["ndots:2".into()],
        };
        let merged = merge_dns(&ipam, &conf);
        assert_eq!(merged.nameservers, vec!["10.0.0.53"]);
        assert_eq!(merged.domain, "conf.example");
        assert_eq!(merged.search, vec!["a"]);
        assert_eq!(merged.options, vec!["ndots:2"]);
    }

    #[test]
    fn requested_mac_prefers_runtime_config_then_args_then_cni_args() {
        let c: CommonConf = parse(
            br#"{"name":"n","runtimeConfig":{"mac":"0a:00:00:00:00:01"},"args":{"cni":{"mac":"0a:00:00:00:00:02"}}}"#,
        )
        .unwrap();
        assert_eq!(
            c.requested_mac("MAC=0a:00:00:00:00:03")
                .unwrap()
                .unwrap()
                .to_string(),
            "0a:00:00:00:00:01"
        );
        let c: CommonConf = parse(br#"{"name":"n"}"#).unwrap();
        assert_eq!(
            c.requested_mac("IgnoreUnknown=1;MAC=0a:00:00:00:00:03")
                .unwrap()
                .unwrap()
                .to_string(),
            "0a:00:00:00:00:03"
        );
        let err = c.requested_mac("MAC=zz").unwrap_err();
        assert_eq!(err.code, 7);
        assert!(err.msg.contains("CNI_ARGS MAC"), "{}", err.msg);
    }

    #[test]
    fn missing_name_is_code_7_and_garbage_is_code_6() {
        assert_eq!(
            parse::<CommonConf>(br#"{"cniVersion":"1.0.0"}"#)
                .unwrap_err()
                .code,
            7
        );
        assert_eq!(parse::<CommonConf>(b"{not json").unwrap_err().code, 6);
        assert_eq!(parse::<CommonConf>(b"").unwrap_err().code, 6);
    }
}
