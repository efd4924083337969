//! The macvlan plugin's configuration, as the reference accepts it.

use crate::common::{conf, CommonConf};
use cni_core::net::MacvlanMode;
use cni_core::spec::validate::{configured_mtu, validate_link_name, validate_mtu};
use cni_core::CniError;

/// The kernel drops broadcasts beyond this queue; a bigger one only holds
/// memory, and a number this large is a mistake rather than a wish.
const MAX_BC_QUEUE_LEN: u32 = 1 << 20;

/// `bcqueuelen`: an unsigned integer as the reference reads it (a wrong JSON
/// type is code 6); 0 means "not set", as there; at most 2^20.
fn bc_queue_len(f: &cni_core::spec::config::Fields) -> Result<Option<u32>, CniError> {
    match f.get::<u32>("bcqueuelen")? {
        None | Some(0) => Ok(None),
        Some(q) if q > MAX_BC_QUEUE_LEN => Err(CniError::invalid_config(format!(
            "bcqueuelen: {q} is more than {MAX_BC_QUEUE_LEN} broadcast frames"
        ))),
        Some(q) => Ok(Some(q)),
    }
}

#[derive(Debug, Clone)]
pub struct MacvlanConf {
    pub common: CommonConf,
    pub master: Option<String>,
    pub mode: Option<String>,
    pub mtu: Option<u32>,
    pub mac: Option<String>,
    pub link_in_container: bool,
    /// IFLA_MACVLAN_BC_QUEUE_LEN; absent or 0: the kernel's default.
    pub bc_queue_len: Option<u32>,
}

impl MacvlanConf {
    pub fn parse(stdin: &[u8]) -> Result<Self, CniError> {
        let common = conf::parse(stdin)?;
        let f = common.fields();
        let c = MacvlanConf {
            master: f.get("master")?,
            mode: f.get("mode")?,
            mtu: configured_mtu(f.get("mtu")?),
            mac: f.get("mac")?,
            link_in_container: f.flag("linkInContainer")?,
            bc_queue_len: bc_queue_len(&f)?,
            common,
        };
        if let Some(master) = &c.master {
            validate_link_name("master", master)?;
        }
        c.mode()?;
        if let Some(mtu) = c.mtu {
            validate_mtu("mtu", mtu)?;
        }
        Ok(c)
    }

    pub fn mode(&self) -> Result<MacvlanMode, CniError> {
        let mode = self.mode.as_deref().unwrap_or("bridge");
        match mode.parse() {
            // The kernel's `source` mode needs a MAC list the plugin has no
            // key for; the reference refuses it too.
            Ok(MacvlanMode::Source) | Err(_) => Err(CniError::invalid_config(format!(
                "mode: unknown macvlan mode {mode:?} (bridge, private, vepa, passthru)"
            ))),
            Ok(m) => Ok(m),
        }
    }

    /// An explicit MAC: the runtime's (capability, args) first, then the config's `mac`.
    pub(crate) fn explicit_mac(
        &self,
        cni_args: &str,
    ) -> Result<Option<cni_core::net::MacAddr>, CniError> {
        if let Some(m) = self.common.requested_mac_only_mac_args(cni_args)? {
            return Ok(Some(m));
        }
        self.mac
            .as_deref()
            .map(|m| {
                cni_core::net::MacAddr::parse_for_interface(m)
                    .map_err(|e| CniError::invalid_config(format!("mac: {e}")))
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcqueuelen_is_an_unsigned_count_zero_meaning_unset() {
        let parse =
            |v: &str| MacvlanConf::parse(format!(r#"{{"name":"n","bcqueuelen":{v}}}"#).as_bytes());
        assert_eq!(parse("100").unwrap().bc_queue_len, Some(100));
        assert_eq!(parse("0").unwrap().bc_queue_len, None);
        assert_eq!(parse("null").unwrap().bc_queue_len, None);
        for (bad, code) in [("-1", 6), ("\"100\"", 6), ("1.5", 6), ("2000000", 7)] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.code, code, "{bad}: {}", e.msg);
            assert!(e.msg.starts_with("bcqueuelen"), "{}", e.msg);
        }
    }

    #[test]
    fn modes_are_the_references_four_and_source_is_refused() {
        let parse = |mode: &str| {
            let conf = format!(r#"{{"name":"n","master":"eth0","mode":"{mode}"}}"#);
            MacvlanConf::parse(conf.as_bytes())
        };
        for ok in ["bridge", "private", "vepa", "passthru", ""] {
            parse(ok).unwrap();
        }
        for bad in ["source", "BRIDGE", "bogus"] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.code, 7);
            assert!(e.msg.starts_with("mode: unknown macvlan mode"), "{}", e.msg);
        }
    }
}
