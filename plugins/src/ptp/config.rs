//! The ptp plugin's configuration, as the reference accepts it.

use crate::common::{conf, CommonConf};
use cni_core::CniError;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct PtpConf {
    #[serde(flatten)]
    pub common: CommonConf,
    #[serde(rename = "ipMasq", default)]
    pub ip_masq: bool,
    #[serde(default)]
    pub mtu: Option<u32>,
}

impl PtpConf {
    pub fn parse(stdin: &[u8]) -> Result<Self, CniError> {
        let c: PtpConf = conf::parse(stdin)?;
        if c.common.ipam_type().is_none() {
            return Err(CniError::invalid_config(
                "ipam: ptp needs an IPAM plugin (ipam.type)",
            ));
        }
        if let Some(mtu) = c.mtu {
            if !(68..=65535).contains(&mtu) {
                return Err(CniError::invalid_config(format!(
                    "mtu: {mtu} is outside 68-65535"
                )));
            }
        }
        Ok(c)
    }

    pub(super) fn ipam_type(&self) -> &str {
        self.common.ipam_type().unwrap_or_default()
    }
}
