//! The vlan plugin's configuration, as the reference accepts it.

use crate::common::{conf, CommonConf};
use cni_core::net::VLAN_ID_MAX;
use cni_core::spec::validate::{configured_mtu_not_negative, validate_link_name, validate_mtu};
use cni_core::CniError;

#[derive(Debug, Clone)]
pub struct VlanConf {
    pub common: CommonConf,
    /// Required, as in the reference (no default-route fallback).
    pub master: String,
    /// `vlanId`: 0..=4094; absent is 0, as the reference reads it.
    pub vlan_id: u16,
    pub mtu: Option<u32>,
    pub link_in_container: bool,
}

impl VlanConf {
    pub fn parse(stdin: &[u8]) -> Result<Self, CniError> {
        let common = conf::parse(stdin)?;
        let f = common.fields();
        let master: String = f.get("master")?.ok_or_else(|| {
            CniError::invalid_config(
                "master: required; it names the interface to create the VLAN on",
            )
        })?;
        validate_link_name("master", &master)?;
        let vlan_id: i64 = f.get("vlanId")?.unwrap_or(0);
        let vlan_id = u16::try_from(vlan_id)
            .ok()
            .filter(|id| *id <= VLAN_ID_MAX)
            .ok_or_else(|| {
                CniError::invalid_config(format!(
                    "vlanId: {vlan_id} is not a VLAN id (0 to {VLAN_ID_MAX})"
                ))
            })?;
        let c = VlanConf {
            master,
            vlan_id,
            mtu: configured_mtu_not_negative("mtu", f.get("mtu")?)?,
            link_in_container: f.flag("linkInContainer")?,
            common,
        };
        if let Some(mtu) = c.mtu {
            validate_mtu("mtu", mtu)?;
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &str) -> Result<VlanConf, CniError> {
        VlanConf::parse(format!(r#"{{"name":"n","master":"eth0"{extra}}}"#).as_bytes())
    }

    #[test]
    fn vlan_id_is_0_to_4094_and_0_when_absent() {
        assert_eq!(parse("").unwrap().vlan_id, 0);
        assert_eq!(parse(r#","vlanId":42"#).unwrap().vlan_id, 42);
        assert_eq!(parse(r#","vlanId":4094"#).unwrap().vlan_id, 4094);
        for bad in ["4095", "-1", "70000"] {
            let e = parse(&format!(r#","vlanId":{bad}"#)).unwrap_err();
            assert_eq!(e.code, 7, "{bad}: {}", e.msg);
            assert!(e.msg.starts_with("vlanId"), "{}", e.msg);
        }
        let e = parse(r#","vlanId":"42""#).unwrap_err();
        assert_eq!(e.code, 6, "{}", e.msg);
    }

    #[test]
    fn a_negative_mtu_is_refused_as_the_reference_refuses_it() {
        assert_eq!(parse(r#","mtu":0"#).unwrap().mtu, None);
        let e = parse(r#","mtu":-1"#).unwrap_err();
        assert_eq!(e.code, 7);
        assert!(e.msg.starts_with("mtu: invalid MTU -1"), "{}", e.msg);
    }

    #[test]
    fn master_is_required_and_checked() {
        let e = VlanConf::parse(br#"{"name":"n","vlanId":1}"#).unwrap_err();
        assert_eq!(e.code, 7);
        assert!(e.msg.starts_with("master: required"), "{}", e.msg);
        let e = VlanConf::parse(br#"{"name":"n","master":"a b"}"#).unwrap_err();
        assert!(e.msg.starts_with("master"), "{}", e.msg);
    }
}
