//! The bridge plugin's configuration, as the reference accepts it.

use crate::common::conf::{self, CommonConf};
use crate::common::names::validate_link_name;
use cni_core::CniError;
use serde::Deserialize;

pub const DEFAULT_BRIDGE: &str = "cni0";

#[derive(Debug, Clone, Deserialize)]
pub struct BridgeConf {
    #[serde(flatten)]
    pub common: CommonConf,
    #[serde(default)]
    pub bridge: Option<String>,
    #[serde(rename = "isGateway", default)]
    pub is_gateway: bool,
    #[serde(rename = "isDefaultGateway", default)]
    pub is_default_gateway: bool,
    #[serde(rename = "forceAddress", default)]
    pub force_address: bool,
    #[serde(rename = "ipMasq", default)]
    pub ip_masq: bool,
    #[serde(default)]
    pub mtu: Option<u32>,
    #[serde(rename = "hairpinMode", default)]
    pub hairpin_mode: bool,
    #[serde(rename = "promiscMode", default)]
    pub promisc_mode: bool,
    #[serde(rename = "disableContainerInterface", default)]
    pub disable_container_interface: bool,
}

impl BridgeConf {
    pub fn parse(stdin: &[u8]) -> Result<Self, CniError> {
        let mut c: BridgeConf = conf::parse(stdin)?;
        if c.is_default_gateway {
            // The default route goes via the bridge's address, so it must have one.
            c.is_gateway = true;
        }
        validate_link_name("bridge", c.bridge_name())?;
        if let Some(mtu) = c.mtu {
            if !(68..=65535).contains(&mtu) {
                return Err(CniError::invalid_config(format!(
                    "mtu: {mtu} is outside 68-65535"
                )));
            }
        }
        if c.hairpin_mode && c.promisc_mode {
            // A promiscuous bridge already delivers a port's frames back to
            // it; hairpin on top would duplicate them (the reference refuses too).
            return Err(CniError::invalid_config(
                "hairpinMode: cannot be combined with promiscMode (frames would be delivered twice)",
            ));
        }
        if c.disable_container_interface && c.common.ipam_type().is_some() {
            return Err(CniError::invalid_config(
                "disableContainerInterface: cannot be used with IPAM (the interface stays down)",
            ));
        }
        Ok(c)
    }

    pub fn bridge_name(&self) -> &str {
        self.bridge.as_deref().unwrap_or(DEFAULT_BRIDGE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_implications() {
        let c = BridgeConf::parse(
            br#"{"cniVersion":"1.0.0","name":"n","type":"bridge","isDefaultGateway":true}"#,
        )
        .unwrap();
        assert_eq!(c.bridge_name(), "cni0");
        assert!(c.is_gateway, "isDefaultGateway implies isGateway");
    }

    #[test]
    fn bad_fields_are_named() {
        let cases: [(&[u8], &str); 4] = [
            (
                br#"{"name":"n","bridge":"this-name-is-too-long"}"#,
                "bridge:",
            ),
            (br#"{"name":"n","mtu":10}"#, "mtu:"),
            (
                br#"{"name":"n","hairpinMode":true,"promiscMode":true}"#,
                "hairpinMode:",
            ),
            (
                br#"{"name":"n","disableContainerInterface":true,"ipam":{"type":"host-local"}}"#,
                "disableContainerInterface:",
            ),
        ];
        for (input, field) in cases {
            let e = BridgeConf::parse(input).unwrap_err();
            assert_eq!(e.code, 7);
            assert!(e.msg.starts_with(field), "{}", e.msg);
        }
    }
}
