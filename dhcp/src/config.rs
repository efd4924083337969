//! The `ipam` section of a network that uses dhcp, read as the reference
//! reads it (`daemonSocketPath`, `request`, `provide`, `priority`) plus the
//! address families to ask for (`families`: `ipv4`, `ipv6`; the reference
//! only does IPv4) and the prefix length of DHCPv6 addresses, which DHCPv6
//! does not carry (`ipv6PrefixLength`, default 64: the prefix a LAN's router
//! advertises).

use crate::options::{option_code, DEFAULT_REQUEST};
use cni_core::spec::config::{ConfigError, Field, Fields, NetConf};
use cni_core::CniError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where the daemon listens unless the config says otherwise (the reference's path).
pub const DEFAULT_SOCKET_PATH: &str = "/run/cni/dhcp.sock";

/// Which protocol versions an attachment leases addresses with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Families {
    pub ipv4: bool,
    pub ipv6: bool,
}

/// What the daemon needs to lease and keep an attachment's addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseOptions {
    pub families: Families,
    /// DHCPv4 parameter request list, defaults merged in unless `skipDefault`.
    pub request: Vec<u8>,
    /// DHCPv4 options sent as given (values from the config or CNI_ARGS).
    pub provide: Vec<(u8, Vec<u8>)>,
    pub ipv6_prefix_len: u8,
    /// Metric of the routes in the result (`priority`, 0 = none).
    pub priority: u32,
}

/// The network config as the dhcp plugin and daemon read it.
#[derive(Debug, Clone, PartialEq)]
pub struct DhcpConf {
    pub common: NetConf,
    pub socket_path: PathBuf,
    pub lease: LeaseOptions,
}

impl DhcpConf {
    /// Reads `stdin` with the `CNI_ARGS` that `provide` entries may take values from.
    pub fn parse(stdin: &[u8], cni_args: &str) -> Result<DhcpConf, CniError> {
        let common = NetConf::parse(stdin)?;
        let top = common.fields();
        let ipam = top.object("ipam")?.ok_or_else(|| ConfigError::Missing {
            field: "ipam".to_string(),
        })?;
        let socket_path = ipam
            .string("daemonSocketPath")?
            .unwrap_or_else(|| DEFAULT_SOCKET_PATH.to_string());
        let lease = LeaseOptions {
            families: families(&ipam)?,
            request: request_list(&ipam)?,
            provide: provided(&ipam, cni_args)?,
            ipv6_prefix_len: prefix_len(&ipam)?,
            priority: priority(&ipam)?,
        };
        Ok(DhcpConf {
            common,
            socket_path: PathBuf::from(socket_path),
            lease,
        })
    }
}

/// Only the socket path: what DEL, GC and STATUS need to reach the daemon,
/// whatever else the config holds (an attachment must stay deletable).
pub fn socket_path(stdin: &[u8]) -> PathBuf {
    let from_config = NetConf::parse(stdin).ok().and_then(|c| {
        c.fields()
            .object("ipam")
            .ok()
            .flatten()
            .and_then(|ipam| ipam.string("daemonSocketPath").ok().flatten())
    });
    PathBuf::from(from_config.unwrap_or_else(|| DEFAULT_SOCKET_PATH.to_string()))
}

fn families(ipam: &Fields<'_>) -> Result<Families, ConfigError> {
    let listed = ipam.items("families")?;
    if ipam.field("families").is_none() {
        return Ok(Families {
            ipv4: true,
            ipv6: false,
        });
    }
    let mut families = Families {
        ipv4: false,
        ipv6: false,
    };
    for item in &listed {
        match item.str()? {
            "ipv4" => families.ipv4 = true,
            "ipv6" => families.ipv6 = true,
            other => {
                return Err(item.invalid(format!(
                    "unknown address family {other:?}: use \"ipv4\" and/or \"ipv6\""
                )))
            }
        }
    }
    if !families.ipv4 && !families.ipv6 {
        return Err(ConfigError::invalid(
            ipam.path_of("families"),
            "names no address family: use \"ipv4\" and/or \"ipv6\"",
        ));
    }
    Ok(families)
}

fn request_list(ipam: &Fields<'_>) -> Result<Vec<u8>, ConfigError> {
    let mut codes = Vec::new();
    let mut skip_default = false;
    for item in ipam.items("request")? {
        let entry = item.object()?;
        skip_default |= entry.flag("skipDefault")?;
        if let Some(name) = entry.string("option")? {
            let code = named_code(&entry, &name)?;
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
    }
    if !skip_default {
        for code in DEFAULT_REQUEST {
            if !codes.contains(code) {
                codes.push(*code);
            }
        }
    }
    Ok(codes)
}

fn provided(ipam: &Fields<'_>, cni_args: &str) -> Result<Vec<(u8, Vec<u8>)>, ConfigError> {
    let args = loose_cni_args(cni_args);
    let mut options = Vec::new();
    for item in ipam.items("provide")? {
        let entry = item.object()?;
        let name = entry
            .string("option")?
            .ok_or_else(|| ConfigError::Missing {
                field: entry.path_of("option"),
            })?;
        let code = named_code(&entry, &name)?;
        if let Some(value) = entry.string("value")? {
            options.push((code, checked_value(&entry, "value", value)?));
        }
        if let Some(arg) = entry.string("fromArg")? {
            if let Some((_, value)) = args.iter().find(|(k, _)| *k == arg) {
                options.push((code, checked_value(&entry, "fromArg", value.to_string())?));
            }
        }
    }
    Ok(options)
}

fn checked_value(entry: &Fields<'_>, key: &str, value: String) -> Result<Vec<u8>, ConfigError> {
    if value.len() > 255 {
        return Err(ConfigError::invalid(
            entry.path_of(key),
            format!(
                "value is {} bytes; a DHCP option holds at most 255",
                value.len()
            ),
        ));
    }
    Ok(value.into_bytes())
}

fn named_code(entry: &Fields<'_>, name: &str) -> Result<u8, ConfigError> {
    option_code(name).ok_or_else(|| {
        ConfigError::invalid(
            entry.path_of("option"),
            format!("unknown DHCP option {name:?}: give its number (1-254) or a name of dhcp-options(5) the reference knows"),
        )
    })
}

fn prefix_len(ipam: &Fields<'_>) -> Result<u8, ConfigError> {
    match ipam.field("ipv6PrefixLength") {
        None => Ok(64),
        Some(f) => {
            let len: u8 = f.parse()?;
            if len == 0 || len > 128 {
                return Err(f.invalid(format!("{len} is not an IPv6 prefix length (1-128)")));
            }
            Ok(len)
        }
    }
}

fn priority(ipam: &Fields<'_>) -> Result<u32, ConfigError> {
    match ipam.field("priority") {
        None => Ok(0),
        Some(f) => non_negative(&f),
    }
}

fn non_negative(f: &Field<'_>) -> Result<u32, ConfigError> {
    let value: i64 = f.parse()?;
    u32::try_from(value)
        .map_err(|_| f.invalid(format!("{value} is not a route metric (0-4294967295)")))
}

/// `CNI_ARGS` split as the reference's dhcp plugin splits it: pairs without
/// `=` are ignored rather than refused (runtimes pass K8S_* pairs freely).
fn loose_cni_args(raw: &str) -> Vec<(&str, &str)> {
    raw.split(';')
        .filter_map(|pair| pair.split_once('='))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(ipam: serde_json::Value, args: &str) -> Result<DhcpConf, CniError> {
        let conf = json!({"cniVersion": "1.0.0", "name": "lan", "type": "macvlan", "ipam": ipam});
        DhcpConf::parse(conf.to_string().as_bytes(), args)
    }

    #[test]
    fn defaults_are_the_reference_socket_ipv4_and_the_default_request_list() {
        let conf = parse(json!({"type": "dhcp"}), "").unwrap();
        assert_eq!(conf.socket_path, PathBuf::from(DEFAULT_SOCKET_PATH));
        assert!(conf.lease.families.ipv4 && !conf.lease.families.ipv6);
        assert_eq!(conf.lease.request, DEFAULT_REQUEST.to_vec());
        assert_eq!(conf.lease.ipv6_prefix_len, 64);
    }

    #[test]
    fn skip_default_keeps_only_the_named_options() {
        let conf = parse(
            json!({"type": "dhcp", "request": [{"skipDefault": true}, {"option": "host-name"}, {"option": "42"}]}),
            "",
        )
        .unwrap();
        assert_eq!(conf.lease.request, vec![12, 42]);
    }

    #[test]
    fn provide_takes_values_from_the_config_and_from_cni_args() {
        let conf = parse(
            json!({"type": "dhcp", "provide": [
                {"option": "host-name", "fromArg": "K8S_POD_NAME"},
                {"option": "user-class", "value": "cni"}]}),
            "IgnoreUnknown=1;K8S_POD_NAME=web-0;junk",
        )
        .unwrap();
        assert_eq!(
            conf.lease.provide,
            vec![(12, b"web-0".to_vec()), (77, b"cni".to_vec())]
        );
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse(
            json!({"type": "dhcp", "request": [{"option": "no-such"}]}),
            "",
        )
        .unwrap_err();
        assert_eq!(e.code, 7);
        assert!(e.msg.contains("ipam.request[0].option"), "{}", e.msg);
        let e = parse(json!({"type": "dhcp", "families": ["ipv5"]}), "").unwrap_err();
        assert!(e.msg.contains("ipam.families[0]"), "{}", e.msg);
        let e = parse(json!({"type": "dhcp", "families": []}), "").unwrap_err();
        assert!(e.msg.contains("ipam.families"), "{}", e.msg);
        let e = parse(json!({"type": "dhcp", "ipv6PrefixLength": 129}), "").unwrap_err();
        assert!(e.msg.contains("ipam.ipv6PrefixLength"), "{}", e.msg);
        let e = parse(json!({"type": "dhcp", "priority": -1}), "").unwrap_err();
        assert!(e.msg.contains("ipam.priority"), "{}", e.msg);
        let long = "x".repeat(256);
        let e = parse(
            json!({"type": "dhcp", "provide": [{"option": "host-name", "value": long}]}),
            "",
        )
        .unwrap_err();
        assert!(e.msg.contains("ipam.provide[0].value"), "{}", e.msg);
    }

    #[test]
    fn the_socket_path_is_read_even_from_a_config_that_is_otherwise_wrong() {
        let conf = json!({"name": "lan", "ipam": {"type": "dhcp", "daemonSocketPath": "/tmp/x.sock", "families": 3}});
        assert_eq!(
            socket_path(conf.to_string().as_bytes()),
            PathBuf::from("/tmp/x.sock")
        );
        assert_eq!(socket_path(b"not json"), PathBuf::from(DEFAULT_SOCKET_PATH));
    }
}
