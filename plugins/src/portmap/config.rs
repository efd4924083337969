//! portmap's configuration: the `portMappings` capability and the options
//! that shape the rules, every one validated before anything changes.

use crate::common::{conf, CommonConf};
use cni_core::net::PortProtocol;
use cni_core::spec::config::{ConfigError, Field, Fields};
use cni_core::CniError;
use std::net::IpAddr;

/// One entry of `runtimeConfig.portMappings`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    pub protocol: PortProtocol,
    /// `None` for absent or unspecified (`0.0.0.0`, `::`): any local address.
    pub host_ip: Option<IpAddr>,
    pub host_port: u16,
    pub container_port: u16,
    /// Where the entry sits, for errors about it.
    pub path: String,
}

#[derive(Debug, Clone)]
pub struct PortMapConf {
    pub common: CommonConf,
    pub mappings: Vec<PortMapping>,
    /// Masquerade hairpin and localhost connections (default true).
    pub snat: bool,
    /// Masquerade every mapped connection, whatever its source.
    pub masq_all: bool,
}

pub fn parse(stdin: &[u8]) -> Result<PortMapConf, CniError> {
    let common = conf::parse(stdin)?;
    let f = common.fields();
    // The reference picks iptables or nftables.
    conf::nftables_only(&f, "backend", "maps ports")?;
    validate_iptables_options(&f)?;
    for key in ["conditionsV4", "conditionsV6"] {
        validate_conditions(&f, key)?;
    }
    let mappings = match f.object("runtimeConfig")? {
        Some(rc) => rc
            .items("portMappings")?
            .iter()
            .map(mapping)
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    Ok(PortMapConf {
        snat: f.get("snat")?.unwrap_or(true),
        masq_all: f.flag("masqAll")?,
        mappings,
        common,
    })
}

/// `markMasqBit` (0-31, iptables only, so otherwise unused) and
/// `externalSetMarkChain` (an iptables chain: refused).
fn validate_iptables_options(f: &Fields) -> Result<(), ConfigError> {
    if let Some(field) = f.field("markMasqBit") {
        let bit: i64 = field.parse()?;
        if !(0..=31).contains(&bit) {
            return Err(field.invalid(format!("{bit} is not a bit of the mark (0-31)")));
        }
    }
    if f.field("externalSetMarkChain").is_some() {
        let path = f.path_of("externalSetMarkChain");
        return Err(ConfigError::invalid(
            path,
            "names an iptables chain; cni-rs maps ports with nftables only",
        ));
    }
    Ok(())
}

/// `conditionsV4`/`conditionsV6`: nft rule text in the reference. We build
/// rules as netlink messages, not from text, so any condition is refused
/// rather than silently dropped.
fn validate_conditions(f: &Fields, key: &str) -> Result<(), ConfigError> {
    let items = f.items(key)?;
    let texts: Vec<String> = items.iter().map(Field::parse).collect::<Result<_, _>>()?;
    match texts.iter().find(|t| !t.trim().is_empty()) {
        None => Ok(()),
        Some(t) if t.starts_with('-') || t.starts_with('!') => Err(ConfigError::invalid(
            f.path_of(key),
            format!("{t:?} is an iptables condition; cni-rs maps ports with nftables only"),
        )),
        Some(t) => Err(ConfigError::invalid(
            f.path_of(key),
            format!("conditions ({t:?}) are not supported by cni-rs portmap"),
        )),
    }
}

fn port(f: &Fields, key: &str) -> Result<u16, ConfigError> {
    let field = f.field(key).ok_or_else(|| ConfigError::Missing {
        field: f.path_of(key),
    })?;
    let n: i64 = field.parse()?;
    u16::try_from(n)
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| field.invalid(format!("{n} is not a port (1-65535)")))
}

fn mapping(item: &Field) -> Result<PortMapping, ConfigError> {
    let m = item.object()?;
    let protocol_field = m.field("protocol").ok_or_else(|| ConfigError::Missing {
        field: m.path_of("protocol"),
    })?;
    let text = protocol_field.str()?;
    let protocol = PortProtocol::parse(text)
        .ok_or_else(|| protocol_field.invalid(format!("{text:?} is not tcp, udp or sctp")))?;
    let host_ip = match m.field("hostIP") {
        None => None,
        Some(field) => match field.str()? {
            "" => None,
            text => {
                let ip: IpAddr = text
                    .parse()
                    .map_err(|_| field.invalid(format!("{text:?} is not an IP address")))?;
                Some(ip).filter(|ip| !ip.is_unspecified())
            }
        },
    };
    Ok(PortMapping {
        protocol,
        host_ip,
        host_port: port(&m, "hostPort")?,
        container_port: port(&m, "containerPort")?,
        path: item.path.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn conf(extra: Value) -> Value {
        let mut c = json!({"cniVersion": "1.0.0", "name": "n", "type": "portmap"});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    }

    fn parsed(extra: Value) -> Result<PortMapConf, CniError> {
        parse(&serde_json::to_vec(&conf(extra)).unwrap())
    }

    fn refused(extra: Value) -> CniError {
        parsed(extra).unwrap_err()
    }

    fn maps(entries: Value) -> Value {
        json!({"runtimeConfig": {"portMappings": entries}})
    }

    #[test]
    fn mappings_are_read_with_defaults() {
        let c = parsed(maps(json!([
            {"hostPort": 8080, "containerPort": 80, "protocol": "TCP"},
            {"hostPort": 53, "containerPort": 53, "protocol": "udp", "hostIP": "0.0.0.0"},
            {"hostPort": 9, "containerPort": 9, "protocol": "sctp", "hostIP": "fd00::1"},
        ])))
        .unwrap();
        assert!(c.snat && !c.masq_all);
        let got: Vec<_> = c
            .mappings
            .iter()
            .map(|m| (m.protocol, m.host_ip, m.host_port, m.container_port))
            .collect();
        assert_eq!(
            got,
            [
                (PortProtocol::Tcp, None, 8080, 80),
                (PortProtocol::Udp, None, 53, 53),
                (PortProtocol::Sctp, Some("fd00::1".parse().unwrap()), 9, 9),
            ]
        );
        assert!(parsed(json!({})).unwrap().mappings.is_empty());
        let c = parsed(json!({"snat": false, "masqAll": true, "markMasqBit": 31})).unwrap();
        assert!(!c.snat && c.masq_all);
    }

    #[test]
    fn each_bad_mapping_field_is_named() {
        for (entry, field) in [
            (
                json!({"hostPort": 0, "containerPort": 80, "protocol": "tcp"}),
                "hostPort",
            ),
            (
                json!({"hostPort": 65536, "containerPort": 80, "protocol": "tcp"}),
                "hostPort",
            ),
            (
                json!({"hostPort": 80, "containerPort": -1, "protocol": "tcp"}),
                "containerPort",
            ),
            (json!({"hostPort": 80, "protocol": "tcp"}), "containerPort"),
            (
                json!({"hostPort": 80, "containerPort": 80, "protocol": "icmp"}),
                "protocol",
            ),
            (json!({"hostPort": 80, "containerPort": 80}), "protocol"),
            (
                json!({"hostPort": 80, "containerPort": 80, "protocol": "tcp", "hostIP": "x"}),
                "hostIP",
            ),
        ] {
            let e = refused(maps(json!([entry])));
            let path = format!("runtimeConfig.portMappings[0].{field}");
            assert!(e.msg.starts_with(&path), "{path}: {}", e.msg);
            assert!(e.code == 7 || e.code == 6, "{}", e.code);
        }
        let e = refused(maps(
            json!([{"hostPort": "80", "containerPort": 80, "protocol": "tcp"}]),
        ));
        assert_eq!(e.code, 6, "{}", e.msg);
    }

    #[test]
    fn iptables_and_its_options_are_refused_naming_nftables() {
        let e = refused(json!({"backend": "iptables"}));
        assert_eq!(e.code, 7);
        assert!(
            e.msg.starts_with("backend") && e.msg.contains("nftables"),
            "{}",
            e.msg
        );
        parsed(json!({"backend": "nftables"})).unwrap();
        let e = refused(json!({"externalSetMarkChain": "KUBE-MARK-MASQ"}));
        assert!(e.msg.starts_with("externalSetMarkChain"), "{}", e.msg);
        let e = refused(json!({"markMasqBit": 32}));
        assert!(e.msg.starts_with("markMasqBit"), "{}", e.msg);
        let e = refused(json!({"conditionsV4": ["-s", "1.2.3.4"]}));
        assert!(
            e.msg.starts_with("conditionsV4") && e.msg.contains("iptables"),
            "{}",
            e.msg
        );
        let e = refused(json!({"conditionsV6": ["ip6 saddr ::1"]}));
        assert!(e.msg.starts_with("conditionsV6"), "{}", e.msg);
        parsed(json!({"conditionsV4": [], "conditionsV6": [""]})).unwrap();
    }
}
