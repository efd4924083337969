//! The ptp plugin's configuration, as the reference accepts it.

use crate::common::{conf, masq, CommonConf};
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
            mtu: configured_mtu(f.get("mtu")?),
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

    pub(super) fn ipam_type(&self) -> &str {
        self.common.ipam_type().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
