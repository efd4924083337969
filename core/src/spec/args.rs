//! `CNI_ARGS`: `K=V;K2=V2`. Keys are matched case-sensitively, unknown keys
//! are an error unless `IgnoreUnknown` is `1` or `true` (any case), as in the
//! reference's `types.LoadArgs`.

use crate::error::{code, CniError};
use std::net::IpAddr;

pub const IGNORE_UNKNOWN: &str = "IgnoreUnknown";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    #[error("CNI_ARGS: invalid pair {0:?}")]
    InvalidPair(String),
    #[error("CNI_ARGS: error parsing value of pair {pair:?}: {reason}")]
    InvalidValue { pair: String, reason: String },
    #[error("CNI_ARGS: unknown args {0:?}")]
    Unknown(Vec<String>),
}

impl From<ArgsError> for CniError {
    fn from(e: ArgsError) -> Self {
        CniError::new(code::INVALID_ENVIRONMENT, e.to_string())
    }
}

/// The pairs of a `CNI_ARGS` string, in order. Only the syntax is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CniArgs {
    pairs: Vec<(String, String)>,
}

impl CniArgs {
    /// Splits `raw`; every pair must have exactly one `=` (an empty string is no pairs).
    pub fn parse(raw: &str) -> Result<CniArgs, ArgsError> {
        if raw.is_empty() {
            return Ok(CniArgs::default());
        }
        let mut pairs = Vec::new();
        for pair in raw.split(';') {
            let mut kv = pair.split('=');
            match (kv.next(), kv.next(), kv.next()) {
                (Some(k), Some(v), None) => pairs.push((k.to_string(), v.to_string())),
                _ => return Err(ArgsError::InvalidPair(pair.to_string())),
            }
        }
        Ok(CniArgs { pairs })
    }

    /// Pairs a runtime already holds (libcni's `RuntimeConf::args`), unchecked.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> CniArgs {
        CniArgs { pairs }
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The last value given for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `IgnoreUnknown`, parsed as the reference's UnmarshallableBool.
    pub fn ignore_unknown(&self) -> Result<bool, ArgsError> {
        match self.get(IGNORE_UNKNOWN) {
            None => Ok(false),
            Some(v) => parse_bool(v).map_err(|reason| ArgsError::InvalidValue {
                pair: format!("{IGNORE_UNKNOWN}={v}"),
                reason,
            }),
        }
    }

    /// Unknown keys (not in `known`, not `IgnoreUnknown`) are an error unless
    /// `IgnoreUnknown` is set.
    pub fn check_known(&self, known: &[&str]) -> Result<(), ArgsError> {
        let ignore = self.ignore_unknown()?;
        let unknown: Vec<String> = self
            .pairs
            .iter()
            .filter(|(k, _)| k != IGNORE_UNKNOWN && !known.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if unknown.is_empty() || ignore {
            Ok(())
        } else {
            Err(ArgsError::Unknown(unknown))
        }
    }

    /// Renders the pairs back to `K=V;K2=V2`.
    pub fn to_env_string(&self) -> String {
        self.pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(";")
    }
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(format!("boolean unmarshal error: invalid input {v}")),
    }
}

/// A plugin's declaration of the `CNI_ARGS` keys it understands.
/// `set` receives each known key's value and parses it into the typed field.
pub trait ArgsSchema: Default {
    /// The keys, spelled exactly as runtimes send them (`IP`, `K8S_POD_NAME`, ...).
    const KEYS: &'static [&'static str];
    fn set(&mut self, key: &str, value: &str) -> Result<(), String>;
}

/// Parses `raw` into `T`: syntax, value parsing of known keys, and the
/// unknown-key rule.
pub fn load_args<T: ArgsSchema>(raw: &str) -> Result<T, ArgsError> {
    let args = CniArgs::parse(raw)?;
    args.check_known(T::KEYS)?;
    let mut out = T::default();
    for (k, v) in args.pairs() {
        if T::KEYS.contains(&k.as_str()) {
            out.set(k, v).map_err(|reason| ArgsError::InvalidValue {
                pair: format!("{k}={v}"),
                reason,
            })?;
        }
    }
    Ok(out)
}

/// Parses a typed value, naming what was wrong.
pub fn parse_value<T: std::str::FromStr>(value: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    value.parse::<T>().map_err(|e| e.to_string())
}

/// The keys Kubernetes runtimes send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct K8sArgs {
    pub pod_name: Option<String>,
    pub pod_namespace: Option<String>,
    pub pod_infra_container_id: Option<String>,
    pub pod_uid: Option<String>,
}

impl ArgsSchema for K8sArgs {
    const KEYS: &'static [&'static str] = &[
        "K8S_POD_NAME",
        "K8S_POD_NAMESPACE",
        "K8S_POD_INFRA_CONTAINER_ID",
        "K8S_POD_UID",
    ];
    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let slot = match key {
            "K8S_POD_NAME" => &mut self.pod_name,
            "K8S_POD_NAMESPACE" => &mut self.pod_namespace,
            "K8S_POD_INFRA_CONTAINER_ID" => &mut self.pod_infra_container_id,
            _ => &mut self.pod_uid,
        };
        *slot = Some(value.to_string());
        Ok(())
    }
}

/// `IP=...` (a comma-separated list is accepted, as host-local does) and `MAC=...`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpMacArgs {
    pub ips: Vec<IpAddr>,
    pub mac: Option<String>,
}

impl ArgsSchema for IpMacArgs {
    const KEYS: &'static [&'static str] = &["IP", "MAC"];
    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        if key == "MAC" {
            validate_mac(value)?;
            self.mac = Some(value.to_string());
            return Ok(());
        }
        self.ips = value
            .split(',')
            .map(|s| parse_ip_or_cidr(s.trim()).map_err(|e| format!("{s:?}: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(())
    }
}

/// An address, or an address with a prefix length (`10.0.0.5/24`, as the
/// reference's `ip.IP` accepts); the prefix is validated, then dropped.
pub fn parse_ip_or_cidr(s: &str) -> Result<IpAddr, String> {
    if s.contains('/') {
        return parse_value::<ipnet::IpNet>(s).map(|n| n.addr());
    }
    parse_value::<IpAddr>(s)
}

/// Six colon-separated hex octets.
pub fn validate_mac(value: &str) -> Result<(), String> {
    let parts: Vec<&str> = value.split(':').collect();
    let ok = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(format!("invalid MAC address {value:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_pairs_in_order() {
        let a = CniArgs::parse("IgnoreUnknown=1;K8S_POD_NAME=web;IP=10.0.0.5").unwrap();
        assert_eq!(a.get("K8S_POD_NAME"), Some("web"));
        assert_eq!(a.pairs().len(), 3);
        assert_eq!(
            a.to_env_string(),
            "IgnoreUnknown=1;K8S_POD_NAME=web;IP=10.0.0.5"
        );
        assert_eq!(CniArgs::parse("").unwrap().pairs().len(), 0);
    }

    #[test]
    fn malformed_pairs_are_named() {
        for bad in ["A", "A=1;", "A=1=2", ";A=1"] {
            let e = CniArgs::parse(bad).unwrap_err();
            assert!(matches!(e, ArgsError::InvalidPair(_)), "{bad}: {e}");
        }
        let e: CniError = CniArgs::parse("A=1;B").unwrap_err().into();
        assert_eq!(e.code, 4);
        assert!(e.msg.contains("\"B\""), "{}", e.msg);
    }

    #[test]
    fn unknown_keys_need_ignore_unknown() {
        let e = load_args::<K8sArgs>("FOO=1;K8S_POD_NAME=x").unwrap_err();
        assert_eq!(e, ArgsError::Unknown(vec!["FOO=1".into()]));
        for ign in ["1", "true", "TRUE", "True"] {
            let a =
                load_args::<K8sArgs>(&format!("FOO=1;IgnoreUnknown={ign};K8S_POD_NAME=x")).unwrap();
            assert_eq!(a.pod_name.as_deref(), Some("x"));
        }
        assert!(load_args::<K8sArgs>("FOO=1;IgnoreUnknown=0").is_err());
        assert!(matches!(
            load_args::<K8sArgs>("IgnoreUnknown=yes").unwrap_err(),
            ArgsError::InvalidValue { .. }
        ));
    }

    #[test]
    fn keys_are_case_sensitive() {
        assert!(load_args::<IpMacArgs>("ip=10.0.0.1").is_err());
    }

    #[test]
    fn typed_values_are_parsed() {
        let a = load_args::<IpMacArgs>("IP=10.0.0.5,fd00::5;MAC=02:42:ac:11:00:02").unwrap();
        assert_eq!(a.ips.len(), 2);
        assert_eq!(a.mac.as_deref(), Some("02:42:ac:11:00:02"));
        let e = load_args::<IpMacArgs>("IP=10.0.0.300").unwrap_err();
        assert!(matches!(e, ArgsError::InvalidValue { .. }), "{e}");
        assert!(load_args::<IpMacArgs>("MAC=zz:42:ac:11:00:02").is_err());
        let a = load_args::<IpMacArgs>("IP=10.0.0.5/24").unwrap();
        assert_eq!(a.ips, vec!["10.0.0.5".parse::<IpAddr>().unwrap()]);
        assert!(load_args::<IpMacArgs>("IP=10.0.0.5/33").is_err());
    }
}
