//! sbr's configuration: `table`, `gateways` and `addSourceHints`, each
//! validated before anything changes (the reference reads `gateways` only
//! once it is already changing the namespace).

use crate::common::{conf, CommonConf};
use cni_core::spec::config::{ConfigError, Field, Fields};
use cni_core::CniError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone)]
pub struct SbrConf {
    pub common: CommonConf,
    /// A table the operator manages: only the rules are written, pointing at it.
    pub table: Option<u32>,
    pub gateways: StaticGateways,
    /// Keep the subnet routes in the main table (with the address as source
    /// hint) instead of moving every route of the interface out of it.
    pub add_source_hints: bool,
}

/// `gateways`: at most one per family; used instead of `prevResult`'s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StaticGateways {
    pub v4: Option<Ipv4Addr>,
    pub v6: Option<Ipv6Addr>,
}

impl StaticGateways {
    pub fn for_family_of(&self, addr: IpAddr) -> Option<IpAddr> {
        match addr {
            IpAddr::V4(_) => self.v4.map(IpAddr::V4),
            IpAddr::V6(_) => self.v6.map(IpAddr::V6),
        }
    }
}

pub fn parse(stdin: &[u8]) -> Result<SbrConf, CniError> {
    let common = conf::parse(stdin)?;
    let f = common.fields();
    let table = table(&f)?;
    let gateways = gateways(&f)?;
    let add_source_hints = f.flag("addSourceHints")?;
    Ok(SbrConf {
        table,
        gateways,
        add_source_hints,
        common,
    })
}

/// Table 0 means "unspecified" to the kernel, which refuses a lookup rule to it.
fn table(f: &Fields) -> Result<Option<u32>, ConfigError> {
    let Some(field) = f.field("table") else {
        return Ok(None);
    };
    let n: i64 = field.parse()?;
    match u32::try_from(n) {
        Ok(t) if t > 0 => Ok(Some(t)),
        _ => Err(field.invalid(format!("{n} is not a routing table (1-{})", u32::MAX))),
    }
}

fn gateways(f: &Fields) -> Result<StaticGateways, ConfigError> {
    let items = f.items("gateways")?;
    if items.len() > 2 {
        return Err(ConfigError::invalid(
            f.path_of("gateways"),
            "at most 2 entries (one IPv4, one IPv6)",
        ));
    }
    let mut found = StaticGateways::default();
    for item in &items {
        match gateway(item)? {
            IpAddr::V4(a) if found.v4.is_none() => found.v4 = Some(a),
            IpAddr::V6(a) if found.v6.is_none() => found.v6 = Some(a),
            other => {
                return Err(item.invalid(format!("{other}: a second gateway of the same IP family")))
            }
        }
    }
    Ok(found)
}

fn gateway(item: &Field) -> Result<IpAddr, ConfigError> {
    let text = item.str()?;
    text.parse()
        .map_err(|_| item.invalid(format!("{text:?} is not an IP address")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(extra: &str) -> Result<SbrConf, CniError> {
        let json = format!(r#"{{"cniVersion":"1.0.0","name":"n","type":"sbr"{extra}}}"#);
        parse(json.as_bytes())
    }

    fn refused(extra: &str) -> CniError {
        conf(extra).expect_err("should be refused")
    }

    #[test]
    fn defaults_are_a_free_table_no_static_gateways_and_no_hints() {
        let c = conf("").unwrap();
        assert_eq!(c.table, None);
        assert_eq!(c.gateways, StaticGateways::default());
        assert!(!c.add_source_hints);
    }

    #[test]
    fn keys_are_read_ignoring_case() {
        let c = conf(r#","Table":200,"GATEWAYS":["10.0.0.1","fd00::1"],"addsourcehints":true"#)
            .unwrap();
        assert_eq!(c.table, Some(200));
        assert_eq!(c.gateways.v4, Some("10.0.0.1".parse().unwrap()));
        assert_eq!(c.gateways.v6, Some("fd00::1".parse().unwrap()));
        assert!(c.add_source_hints);
    }

    #[test]
    fn table_zero_negative_and_too_large_are_refused_naming_the_field() {
        for bad in ["0", "-1", "4294967296"] {
            let e = refused(&format!(r#","table":{bad}"#));
            assert_eq!(e.code, 7, "{bad}");
            assert!(e.msg.starts_with("table"), "{}", e.msg);
        }
        assert_eq!(refused(r#","table":"100""#).code, 6);
    }

    #[test]
    fn bad_gateways_are_refused_naming_the_entry() {
        let e = refused(r#","gateways":["10.0.0.1","10.0.0.2"]"#);
        assert!(e.msg.starts_with("gateways[1]"), "{}", e.msg);
        let e = refused(r#","gateways":["nope"]"#);
        assert!(
            e.msg.starts_with("gateways[0]") && e.msg.contains("nope"),
            "{}",
            e.msg
        );
        let e = refused(r#","gateways":["10.0.0.1","fd00::1","10.0.0.3"]"#);
        assert!(e.msg.starts_with("gateways"), "{}", e.msg);
        assert_eq!(refused(r#","gateways":"10.0.0.1""#).code, 6);
        assert_eq!(refused(r#","addSourceHints":"yes""#).code, 6);
    }

    #[test]
    fn a_static_gateway_is_picked_by_family() {
        let g = StaticGateways {
            v4: Some("10.0.0.1".parse().unwrap()),
            v6: None,
        };
        assert_eq!(
            g.for_family_of("10.0.0.9".parse().unwrap()),
            Some("10.0.0.1".parse().unwrap())
        );
        assert_eq!(g.for_family_of("fd00::9".parse().unwrap()), None);
    }
}
