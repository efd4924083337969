//! The bridge plugin's configuration, as the reference accepts it.

use super::vlan;
use crate::common::conf::{self, CommonConf};
use crate::common::masq;
use cni_core::spec::validate::{configured_mtu, validate_link_name, validate_mtu};
use cni_core::CniError;

pub const DEFAULT_BRIDGE: &str = "cni0";

#[derive(Debug, Clone)]
pub struct BridgeConf {
    pub common: CommonConf,
    pub bridge: Option<String>,
    pub is_gateway: bool,
    pub is_default_gateway: bool,
    pub force_address: bool,
    pub ip_masq: bool,
    pub mtu: Option<u32>,
    pub hairpin_mode: bool,
    pub promisc_mode: bool,
    pub disable_container_interface: bool,
    /// Drop frames from the container whose source MAC is not its own.
    pub mac_spoof_check: bool,
    /// Leave duplicate address detection on for the container's IPv6 addresses.
    pub enable_dad: bool,
    /// The host veth an isolated bridge port: it reaches only ports that are not.
    pub port_isolation: bool,
}

impl BridgeConf {
    pub fn parse(stdin: &[u8]) -> Result<Self, CniError> {
        let common = conf::parse(stdin)?;
        let f = common.fields();
        masq::validate_backend(&f)?;
        vlan::refuse_vlans(&f)?;
        let is_default_gateway = f.flag("isDefaultGateway")?;
        let c = BridgeConf {
            bridge: f.get("bridge")?,
            // The default route goes via the bridge's address, so it must have one.
            is_gateway: f.flag("isGateway")? || is_default_gateway,
            is_default_gateway,
            force_address: f.flag("forceAddress")?,
            ip_masq: f.flag("ipMasq")?,
            mtu: configured_mtu("mtu", f.get("mtu")?),
            hairpin_mode: f.flag("hairpinMode")?,
            promisc_mode: f.flag("promiscMode")?,
            disable_container_interface: f.flag("disableContainerInterface")?,
            mac_spoof_check: f.flag("macspoofchk")?,
            enable_dad: f.flag("enabledad")?,
            port_isolation: f.flag("portIsolation")?,
            common,
        };
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> Result<(), CniError> {
        validate_link_name("bridge", self.bridge_name())?;
        if let Some(mtu) = self.mtu {
            validate_mtu("mtu", mtu)?;
        }
        if self.hairpin_mode && self.promisc_mode {
            // A promiscuous bridge already delivers a port's frames back to
            // it; hairpin on top would duplicate them (the reference refuses too).
            return Err(CniError::invalid_config(
                "hairpinMode: cannot be combined with promiscMode (frames would be delivered twice)",
            ));
        }
        if self.disable_container_interface && self.common.ipam_type().is_some() {
            return Err(CniError::invalid_config(
                "disableContainerInterface: cannot be used with IPAM (the interface stays down)",
            ));
        }
        Ok(())
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

    #[test]
    fn ip_masq_backend_accepts_nftables_or_nothing_and_refuses_iptables() {
        for ok in [
            &br#"{"name":"n","ipMasq":true}"#[..],
            br#"{"name":"n","ipMasq":true,"ipMasqBackend":"nftables"}"#,
        ] {
            BridgeConf::parse(ok).unwrap();
        }
        for bad in ["iptables", "nft"] {
            let conf = format!(r#"{{"name":"n","ipMasq":true,"ipMasqBackend":"{bad}"}}"#);
            let e = BridgeConf::parse(conf.as_bytes()).unwrap_err();
            assert_eq!(e.code, 7);
            assert!(
                e.msg.starts_with("ipMasqBackend:") && e.msg.contains("nftables only"),
                "{}",
                e.msg
            );
        }
    }

    #[test]
    fn vlan_keys_are_refused_unless_they_ask_for_nothing() {
        for ok in [
            &br#"{"name":"n","vlan":0}"#[..],
            br#"{"name":"n","vlanTrunk":null}"#,
            br#"{"name":"n","preserveDefaultVlan":true}"#,
            br#"{"name":"n","vlan":0,"preserveDefaultVlan":false}"#,
        ] {
            BridgeConf::parse(ok).unwrap();
        }
        let cases: [(&[u8], &str, &str); 5] = [
            (br#"{"name":"n","vlan":100}"#, "vlan:", "VLAN filtering"),
            (
                br#"{"name":"n","vlan":4095}"#,
                "vlan:",
                "between 0 and 4094",
            ),
            (br#"{"name":"n","vlan":-1}"#, "vlan:", "between 0 and 4094"),
            (
                br#"{"name":"n","vlanTrunk":[{"id":5}]}"#,
                "vlanTrunk:",
                "VLAN filtering",
            ),
            (
                br#"{"name":"n","vlanTrunk":[]}"#,
                "vlanTrunk:",
                "VLAN filtering",
            ),
        ];
        for (input, field, why) in cases {
            let e = BridgeConf::parse(input).unwrap_err();
            assert_eq!(e.code, 7, "{}", e.msg);
            assert!(e.msg.starts_with(field) && e.msg.contains(why), "{}", e.msg);
        }
        let e = BridgeConf::parse(br#"{"name":"n","preserveDefaultVlan":"yes"}"#).unwrap_err();
        assert_eq!(e.code, 6, "a wrong JSON type: {}", e.msg);
    }

    #[test]
    fn a_zero_or_negative_mtu_is_no_mtu_as_the_reference_reads_it() {
        for none in ["0", "-1", "-9000"] {
            let conf = format!(r#"{{"name":"n","mtu":{none}}}"#);
            assert_eq!(
                BridgeConf::parse(conf.as_bytes()).unwrap().mtu,
                None,
                "{none}"
            );
        }
        let c = BridgeConf::parse(br#"{"name":"n","mtu":1400}"#).unwrap();
        assert_eq!(c.mtu, Some(1400));
        for (bad, code) in [("4294967296", 7), ("1400.5", 6), ("\"1400\"", 6)] {
            let conf = format!(r#"{{"name":"n","mtu":{bad}}}"#);
            let e = BridgeConf::parse(conf.as_bytes()).unwrap_err();
            assert_eq!(e.code, code, "{bad}: {}", e.msg);
            assert!(e.msg.starts_with("mtu:"), "{}", e.msg);
        }
    }

    #[test]
    fn guard_keys_are_read() {
        let c = BridgeConf::parse(
            br#"{"name":"n","macspoofchk":true,"enabledad":true,"portIsolation":true}"#,
        )
        .unwrap();
        assert!(c.mac_spoof_check && c.enable_dad && c.port_isolation);
        let c = BridgeConf::parse(br#"{"name":"n"}"#).unwrap();
        assert!(!c.mac_spoof_check && !c.enable_dad && !c.port_isolation);
    }
}
