//! The ptp plugin's configuration, as the reference accepts it.

use crate::common::{conf, CommonConf};
use cni_core::spec::validate::validate_mtu;
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
        let c = PtpConf {
            ip_masq: f.flag("ipMasq")?,
            mtu: f.get("mtu")?,
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
