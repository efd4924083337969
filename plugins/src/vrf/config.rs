//! The vrf plugin's configuration, as the reference reads it: `vrfname`
//! (required) and `table` (0 or absent: pick a free one).

use crate::common::{conf, CommonConf};
use cni_core::net::LinkInfo;
use cni_core::spec::validate::validate_link_name;
use cni_core::CniError;

/// Tables a VRF may not take: default (253), main (254), local (255) —
/// binding a VRF to them would mix its routes with the namespace's own.
pub const RESERVED_TABLES: std::ops::RangeInclusive<u32> = 253..=255;

#[derive(Debug, Clone)]
pub struct VrfConf {
    pub common: CommonConf,
    pub vrf_name: String,
    /// `None`: the lowest table no VRF of the namespace uses.
    pub table: Option<u32>,
}

impl VrfConf {
    pub fn parse(stdin: &[u8]) -> Result<Self, CniError> {
        let common = conf::parse(stdin)?;
        let vrf_name = vrf_name(&common)?;
        let f = common.fields();
        let table = f.get::<u32>("table")?.filter(|t| *t != 0);
        if let Some(t) = table.filter(|t| RESERVED_TABLES.contains(t)) {
            return Err(CniError::invalid_config(format!(
                "table: {t} is one of the kernel's own tables (253 default, 254 main, 255 local)"
            )));
        }
        Ok(VrfConf {
            vrf_name,
            table,
            common,
        })
    }
}

/// `vrfname`, required and a valid link name: all DEL reads besides the
/// common fields (a `table` only ADD would refuse must not fail DEL).
pub fn vrf_name(common: &CommonConf) -> Result<String, CniError> {
    let name: String = common
        .fields()
        .get::<String>("vrfname")?
        .unwrap_or_default();
    if name.is_empty() {
        return Err(CniError::invalid_config(
            "vrfname: required (the VRF to put the interface in)",
        ));
    }
    validate_link_name("vrfname", &name)?;
    Ok(name)
}

/// As the reference: the lowest table from 1 up that no VRF among `links`
/// is bound to (the kernel's own tables skipped).
pub fn free_table(links: &[LinkInfo]) -> Option<u32> {
    let taken: std::collections::BTreeSet<u32> = links.iter().filter_map(|l| l.vrf_table).collect();
    (1..=u32::MAX).find(|t| !taken.contains(t) && !RESERVED_TABLES.contains(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vrfname_is_required_and_checked_and_table_zero_is_unset() {
        for bad in [r#"{"name":"n"}"#, r#"{"name":"n","vrfname":""}"#] {
            let e = VrfConf::parse(bad.as_bytes()).unwrap_err();
            assert_eq!(e.code, 7);
            assert!(e.msg.starts_with("vrfname: required"), "{}", e.msg);
        }
        let e = VrfConf::parse(br#"{"name":"n","vrfname":"a/b"}"#).unwrap_err();
        assert!(e.msg.starts_with("vrfname"), "{}", e.msg);
        let e = VrfConf::parse(br#"{"name":"n","vrfname":"blue","table":"x"}"#).unwrap_err();
        assert_eq!(e.code, 6, "{}", e.msg);
        let e = VrfConf::parse(br#"{"name":"n","vrfname":"blue","table":-1}"#).unwrap_err();
        assert!(e.msg.contains("table"), "{}", e.msg);
        let e = VrfConf::parse(br#"{"name":"n","vrfname":"blue","table":254}"#).unwrap_err();
        assert_eq!(e.code, 7);
        assert!(e.msg.starts_with("table: 254"), "{}", e.msg);
        let c = VrfConf::parse(br#"{"name":"n","vrfname":"blue","table":0}"#).unwrap();
        assert_eq!((c.vrf_name.as_str(), c.table), ("blue", None));
        let c = VrfConf::parse(br#"{"name":"n","vrfname":"blue","table":100}"#).unwrap();
        assert_eq!(c.table, Some(100));
    }
}
