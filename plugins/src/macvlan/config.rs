//! The macvlan plugin's configuration, as the reference accepts it.

use crate::common::{conf, names, CommonConf};
use cni_core::net::MacvlanMode;
use cni_core::CniError;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct MacvlanConf {
    #[serde(flatten)]
    pub common: CommonConf,
    #[serde(default)]
    pub master: Option<String>,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub mtu: Option<u32>,
    #[serde(default)]
    pub mac: Option<String>,
    #[serde(rename = "linkInContainer", default)]
    pub link_in_container: bool,
}

impl MacvlanConf {
    pub fn parse(stdin: &[u8]) -> Result<Self, CniError> {
        let c: MacvlanConf = conf::parse(stdin)?;
        if let Some(master) = &c.master {
            names::validate_link_name("master", master)?;
        }
        c.mode()?;
        if let Some(mtu) = c.mtu {
            if !(68..=65535).contains(&mtu) {
                return Err(CniError::invalid_config(format!(
                    "mtu: {mtu} is outside 68-65535"
                )));
            }
        }
        Ok(c)
    }

    pub fn mode(&self) -> Result<MacvlanMode, CniError> {
        self.mode
            .as_deref()
            .unwrap_or("bridge")
            .parse()
            .map_err(|e| {
                CniError::invalid_config(format!("mode: {e} (bridge, private, vepa, passthru)"))
            })
    }

    /// An explicit MAC: the runtime's (capability, args) first, then the config's `mac`.
    pub(super) fn explicit_mac(
        &self,
        cni_args: &str,
    ) -> Result<Option<cni_core::net::MacAddr>, CniError> {
        if let Some(m) = self.common.requested_mac(cni_args)? {
            return Ok(Some(m));
        }
        self.mac
            .as_deref()
            .map(|m| {
                m.parse()
                    .map_err(|e| CniError::invalid_config(format!("mac: {e}")))
            })
            .transpose()
    }
}
