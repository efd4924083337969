//! The ptp plugin's configuration, as the reference accepts it.

use crate::common::{conf, masq, CommonConf};
use cni_core::net::MacAddr;
use cni_core::spec::validate::{configured_mtu, validate_mtu};
use cni_core::CniError;

#[derive(Debug, Clone)]
pub struct PtpConf {
    pub common: CommonConf,
    pub ip_masq: bool,
    pub mtu: Option<u32>,
}

impl PtpConf {
    pub fn parse(stdin: &[u8]) -> Result<Self, CniError> {
        let common = conf::parse(stdin)?;
        let f = common.fields();
        masq::validate_backend(&f)?;
        let c = PtpConf {
            ip_masq: f.flag("ipMasq")?,
            mtu: configured_mtu("mtu", f.get("mtu")?),
            common,
        };
        if c.common.ipam_type().is_none() {
            return Err(CniError::invalid_config(
                "ipam: ptp needs an IPAM plugin (ipam.type)",
            ));
        }
        if let Some(mtu) = c.mtu {
            validate_mtu("mtu", mtu)?;
        }
        Ok(c)
    }

    /// The MAC the runtime asked for, when it can be set. The reference's
    /// ptp reads none of `runtimeConfig.mac`, `args.cni.mac` and `MAC=`, so
    /// one that cannot be set (or unreadable `CNI_ARGS`) is ignored with a
    /// warning rather than failing an ADD the reference makes; the next
    /// source, or the derived MAC, is used instead.
    pub(super) fn requested_mac(&self, cni_args: &str) -> Option<MacAddr> {
        let sources = self
            .common
            .requested_macs(cni_args)
            .map_err(|e| tracing::warn!("not reading a requested MAC: {e}"))
            .unwrap_or_default();
        sources.iter().find_map(|source| {
            source
                .parse()
                .map_err(|e| tracing::warn!("{e}; ignored (the reference's ptp reads no MAC)"))
                .ok()
        })
    }

    pub(super) fn ipam_type(&self) -> &str {
        self.common.ipam_type().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_requested_mac_that_cannot_be_set_is_ignored_and_the_next_one_used() {
        let conf = |extra: &str| {
            let text = format!(r#"{{"name":"n",{extra}"ipam":{{"type":"host-local"}}}}"#);
            PtpConf::parse(text.as_bytes()).unwrap()
        };
        let c = conf(
            r#""runtimeConfig":{"mac":"zz:00:00:00:00:01"},"args":{"cni":{"mac":"01:00:5e:00:00:01"}},"#,
        );
        assert_eq!(
            c.requested_mac("IgnoreUnknown=1;MAC=0a:00:00:00:00:03")
                .map(|m| m.to_string()),
            Some("0a:00:00:00:00:03".to_string())
        );
        assert_eq!(c.requested_mac("MAC=00:00:00:00:00:00"), None);
        assert_eq!(c.requested_mac("not-a-pair"), None);
        let c = conf(r#""runtimeConfig":{"mac":"0a:00:00:00:00:01"},"#);
        assert_eq!(
            c.requested_mac("MAC=zz").map(|m| m.to_string()),
            Some("0a:00:00:00:00:01".to_string()),
            "a valid MAC is honoured"
        );
    }

    #[test]
    fn a_negative_mtu_is_no_mtu_as_the_reference_reads_it() {
        let parse = |v: &str| {
            let conf = format!(r#"{{"name":"n","mtu":{v},"ipam":{{"type":"host-local"}}}}"#);
            PtpConf::parse(conf.as_bytes())
        };
        assert_eq!(parse("-1").unwrap().mtu, None);
        assert_eq!(parse("0").unwrap().mtu, None);
        assert_eq!(parse("9000").unwrap().mtu, Some(9000));
        assert_eq!(parse("67").unwrap_err().code, 7);
    }

    #[test]
    fn ip_masq_backend_accepts_nftables_or_nothing_and_refuses_iptables() {
        let conf = |backend: &str| {
            format!(r#"{{"name":"n","ipMasq":true,{backend}"ipam":{{"type":"host-local"}}}}"#)
        };
        PtpConf::parse(conf("").as_bytes()).unwrap();
        PtpConf::parse(conf(r#""ipMasqBackend":"nftables","#).as_bytes()).unwrap();
        let e = PtpConf::parse(conf(r#""ipMasqBackend":"iptables","#).as_bytes()).unwrap_err();
        assert_eq!(e.code, 7);
        assert!(
            e.msg.starts_with("ipMasqBackend:") && e.msg.contains("nftables only"),
            "{}",
            e.msg
        );
    }
}
