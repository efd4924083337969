//! etcd-ipam's configuration: host-local's keys (`ranges`, `rangeStart`,
//! `rangeEnd`, `gateway`, `routes`, `resolvConf`, requested addresses), read
//! by host-local's own code, plus where the shared store is and how this
//! node uses it. Every error names its field.

use cni_core::ipam::cluster::{Keys, Settings};
use cni_core::spec::config::{ConfigError, Fields};
use cni_core::CniError;
use cni_plugins::host_local::config::HostLocalConf;
use std::path::Path;
use std::time::Duration;

pub const DEFAULT_PREFIX: &str = "/cni-rs/ipam/";
pub const DEFAULT_DIAL_TIMEOUT_MS: u64 = 2_000;
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 5_000;
pub const DEFAULT_QUARANTINE_SECONDS: u64 = 60;
pub const DEFAULT_MAX_ATTEMPTS: u32 = 16;
/// Above any real certificate, key or credentials file.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// TLS material, read from the configured files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca_pem: Option<Vec<u8>>,
    /// Client certificate and key.
    pub identity_pem: Option<(Vec<u8>, Vec<u8>)>,
}

/// How to reach etcd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdSettings {
    pub endpoints: Vec<String>,
    pub dial_timeout: Duration,
    pub request_timeout: Duration,
    pub credentials: Option<(String, String)>,
    pub tls: Option<TlsFiles>,
}

/// Everything every verb needs.
#[derive(Debug, Clone)]
pub struct EtcdConf {
    /// The network and host-local's keys (read per verb, as host-local does).
    pub net: HostLocalConf,
    pub etcd: EtcdSettings,
    pub keys: Keys,
    pub settings: Settings,
}

impl EtcdConf {
    pub fn parse(stdin: &[u8]) -> Result<Self, CniError> {
        let net = HostLocalConf::parse(stdin)?;
        let top = net.common.fields();
        let ipam = top
            .object("ipam")?
            .ok_or_else(|| ConfigError::invalid("ipam", "IPAM config missing 'ipam' key"))?;
        let etcd = etcd_settings(&ipam)?;
        let prefix = ipam
            .string("prefix")?
            .unwrap_or_else(|| DEFAULT_PREFIX.to_string());
        if !prefix.starts_with('/') {
            return Err(CniError::invalid_config(format!(
                "ipam.prefix: {prefix:?} must start with '/'"
            )));
        }
        let keys = Keys::new(&format!("{}/{}", prefix.trim_end_matches('/'), net.name()));
        let node = match ipam.string("nodeName")? {
            Some(n) => n,
            None => default_node_name()?,
        };
        check_node_name(&node, "ipam.nodeName")?;
        let quarantine_s: u64 = ipam
            .get("quarantineSeconds")?
            .unwrap_or(DEFAULT_QUARANTINE_SECONDS);
        let max_attempts: u32 = ipam.get("maxAttempts")?.unwrap_or(DEFAULT_MAX_ATTEMPTS);
        if max_attempts == 0 {
            return Err(CniError::invalid_config(
                "ipam.maxAttempts: must be at least 1",
            ));
        }
        let settings = Settings {
            quarantine_ms: quarantine_s.saturating_mul(1000),
            max_attempts,
            ..Settings::new(node)
        };
        Ok(EtcdConf {
            net,
            etcd,
            keys,
            settings,
        })
    }
}

/// The node name: `NODE_NAME` (as Kubernetes' downward API sets it), else
/// the kernel's host name.
fn default_node_name() -> Result<String, CniError> {
    if let Ok(n) = std::env::var("NODE_NAME") {
        if !n.is_empty() {
            return Ok(n);
        }
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .map_err(|e| {
            CniError::io(format!(
                "ipam.nodeName: not set, and reading the host name: {e}"
            ))
        })
}

/// A node name ends up inside records and selects GC's scope: no empty name.
pub fn check_node_name(node: &str, field: &str) -> Result<(), CniError> {
    if node.is_empty() || node.len() > 253 || node.chars().any(|c| c.is_control()) {
        return Err(CniError::invalid_config(format!(
            "{field}: {node:?} is not a usable node name"
        )));
    }
    Ok(())
}

fn etcd_settings(ipam: &Fields<'_>) -> Result<EtcdSettings, CniError> {
    let items = ipam.items("endpoints")?;
    if items.is_empty() {
        return Err(CniError::invalid_config(
            "ipam.endpoints: at least one etcd URL (such as http://127.0.0.1:2379) is required",
        ));
    }
    let mut endpoints = Vec::with_capacity(items.len());
    for item in items {
        let url = item.str()?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(CniError::invalid_config(format!(
                "{}: {url:?} is not an http:// or https:// URL",
                item.path
            )));
        }
        endpoints.push(url.to_string());
    }
    let ms = |key: &str, default: u64| -> Result<Duration, CniError> {
        let v: u64 = ipam.get(key)?.unwrap_or(default);
        if v == 0 {
            return Err(CniError::invalid_config(format!(
                "ipam.{key}: must be above 0"
            )));
        }
        Ok(Duration::from_millis(v))
    };
    let dial_timeout = ms("dialTimeoutMs", DEFAULT_DIAL_TIMEOUT_MS)?;
    let request_timeout = ms("requestTimeoutMs", DEFAULT_REQUEST_TIMEOUT_MS)?;
    let file = |key: &str| -> Result<Option<Vec<u8>>, CniError> {
        ipam.string(key)?
            .map(|p| read_small(Path::new(&p), &format!("ipam.{key}")))
            .transpose()
    };
    let credentials = match file("credentialsFile")? {
        Some(bytes) => Some(parse_credentials(&bytes)?),
        None => None,
    };
    let ca_pem = file("caFile")?;
    let identity_pem = match (file("certFile")?, file("keyFile")?) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => {
            return Err(CniError::invalid_config(
                "ipam.certFile: certFile and keyFile go together",
            ))
        }
    };
    let tls = (ca_pem.is_some() || identity_pem.is_some()).then_some(TlsFiles {
        ca_pem,
        identity_pem,
    });
    Ok(EtcdSettings {
        endpoints,
        dial_timeout,
        request_timeout,
        credentials,
        tls,
    })
}

fn read_small(path: &Path, field: &str) -> Result<Vec<u8>, CniError> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| {
        CniError::invalid_config(format!("{field}: reading {}: {e}", path.display()))
    })?;
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            CniError::invalid_config(format!("{field}: reading {}: {e}", path.display()))
        })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(CniError::invalid_config(format!(
            "{field}: {} is larger than {MAX_FILE_BYTES} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

/// `username:password` on the first line (the password may hold ':').
pub fn parse_credentials(bytes: &[u8]) -> Result<(String, String), CniError> {
    let bad = |why: &str| CniError::invalid_config(format!("ipam.credentialsFile: {why}"));
    let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8"))?;
    let line = text.lines().next().unwrap_or("");
    let (user, password) = line
        .split_once(':')
        .ok_or_else(|| bad("expected one line username:password"))?;
    if user.is_empty() {
        return Err(bad("empty username"));
    }
    Ok((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(ipam: &str) -> Result<EtcdConf, CniError> {
        EtcdConf::parse(
            format!(
                r#"{{"cniVersion":"1.0.0","name":"net1","type":"x","ipam":{{"type":"etcd-ipam","nodeName":"n1","subnet":"10.0.0.0/24",{ipam}}}}}"#
            )
            .as_bytes(),
        )
    }

    #[test]
    fn defaults_and_key_prefix() {
        let c = conf(r#""endpoints":["http://127.0.0.1:2379"]"#).unwrap();
        assert_eq!(c.keys.prefix(), "/cni-rs/ipam/net1/");
        assert_eq!(c.settings.node, "n1");
        assert_eq!(c.settings.quarantine_ms, 60_000);
        assert_eq!(c.etcd.request_timeout, Duration::from_millis(5_000));
        assert!(c.etcd.tls.is_none() && c.etcd.credentials.is_none());
        let c = conf(r#""endpoints":["http://a:1"],"prefix":"/x/","quarantineSeconds":0"#).unwrap();
        assert_eq!(c.keys.prefix(), "/x/net1/");
        assert_eq!(c.settings.quarantine_ms, 0);
    }

    #[test]
    fn errors_name_the_field() {
        for (ipam, field) in [
            (r#""endpoints":[]"#, "ipam.endpoints"),
            (r#""endpoints":["127.0.0.1:2379"]"#, "ipam.endpoints[0]"),
            (r#""endpoints":["http://a:1"],"prefix":"x""#, "ipam.prefix"),
            (
                r#""endpoints":["http://a:1"],"requestTimeoutMs":0"#,
                "ipam.requestTimeoutMs",
            ),
            (
                r#""endpoints":["http://a:1"],"caFile":"/nonexistent/ca""#,
                "ipam.caFile",
            ),
            (
                r#""endpoints":["http://a:1"],"certFile":"/etc/hostname""#,
                "ipam.certFile",
            ),
            (
                r#""endpoints":["http://a:1"],"maxAttempts":0"#,
                "ipam.maxAttempts",
            ),
        ] {
            let e = conf(ipam).unwrap_err();
            assert_eq!(e.code, 7, "{ipam}: {e:?}");
            assert!(e.msg.starts_with(field), "{ipam}: {}", e.msg);
        }
        let e = conf(r#""endpoints":"http://a:1""#).unwrap_err();
        assert_eq!(e.code, 6, "{e:?}");
    }

    #[test]
    fn credentials_file_format() {
        assert_eq!(
            parse_credentials(b"root:pa:ss\n").unwrap(),
            ("root".to_string(), "pa:ss".to_string())
        );
        assert!(parse_credentials(b"nocolon").is_err());
        assert!(parse_credentials(b":pw").is_err());
    }
}
