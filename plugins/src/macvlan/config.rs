//! The macvlan plugin's configuration, as the reference accepts it.

use crate::common::{conf, CommonConf};
use cni_core::net::{MacAddr, MacvlanMode};
use cni_core::spec::config::RequestedMac;
use cni_core::spec::validate::{configured_mtu_not_negative, validate_link_name, validate_mtu};
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
            mtu: configured_mtu_not_negative("mtu", f.get("mtu")?)?,
            mac: f.string("mac")?,
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

    /// An explicit MAC: the runtime's (`runtimeConfig.mac`, `args.cni.mac`,
    /// `MAC=`, winning in that order), then the config's `mac`. As the
    /// reference's macvlan, a `runtimeConfig.mac` wins without the others
    /// being read, and a bad `MAC=` or `mac` that would be used fails ADD.
    /// `args.cni.mac`, which the reference does not read, is honoured when it
    /// can be set and otherwise ignored with a warning.
    pub(crate) fn explicit_mac(&self, cni_args: &str) -> Result<Option<MacAddr>, CniError> {
        let mut chosen = None;
        for source in self.common.requested_macs_only_mac_args(cni_args)? {
            match source.parse() {
                Err(e) if source.field == RequestedMac::ARGS => {
                    tracing::warn!("{e}; ignored (the reference's macvlan does not read it)");
                }
                Err(e) => return Err(e),
                Ok(mac) => {
                    chosen.get_or_insert(mac);
                }
            }
            if source.field == RequestedMac::RUNTIME_CONFIG {
                break;
            }
        }
        if chosen.is_some() {
            return Ok(chosen);
        }
        crate::common::conf::config_mac(self.mac.as_deref())
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
    fn requested_macs_are_read_as_the_reference_reads_them_and_args_leniently() {
        let conf = |extra: &str| {
            MacvlanConf::parse(format!(r#"{{"name":"n"{extra}}}"#).as_bytes()).unwrap()
        };
        let mac =
            |c: &MacvlanConf, args: &str| c.explicit_mac(args).map(|m| m.map(|m| m.to_string()));
        let some = |m: &str| Ok(Some(m.to_string()));
        // An empty `mac` is not set; a bad `args.cni.mac` is ignored.
        let c = conf(r#","mac":"","args":{"cni":{"mac":"zz"}}"#);
        assert_eq!(mac(&c, ""), Ok(None));
        assert_eq!(mac(&c, "MAC=0a:00:00:00:00:03"), some("0a:00:00:00:00:03"));
        // A valid `args.cni.mac` wins over `MAC=` and `mac`, but a bad `MAC=` still fails.
        let c = conf(r#","mac":"0a:00:00:00:00:04","args":{"cni":{"mac":"0a:00:00:00:00:02"}}"#);
        assert_eq!(mac(&c, ""), some("0a:00:00:00:00:02"));
        assert!(mac(&c, "MAC=zz")
            .unwrap_err()
            .msg
            .starts_with("CNI_ARGS MAC:"));
        // `runtimeConfig.mac` wins and the rest is not read; a bad one fails.
        let c = conf(r#","runtimeConfig":{"mac":"0a:00:00:00:00:01"}"#);
        assert_eq!(mac(&c, "MAC=zz"), some("0a:00:00:00:00:01"));
        let c = conf(r#","runtimeConfig":{"mac":"zz"}"#);
        assert!(mac(&c, "")
            .unwrap_err()
            .msg
            .starts_with("runtimeConfig.mac:"));
        let c = conf(r#","mac":"zz""#);
        assert!(mac(&c, "").unwrap_err().msg.starts_with("mac:"));
    }

    #[test]
    fn a_negative_mtu_is_refused_as_the_reference_refuses_it() {
        let parse = |v: &str| MacvlanConf::parse(format!(r#"{{"name":"n","mtu":{v}}}"#).as_bytes());
        assert_eq!(parse("0").unwrap().mtu, None);
        assert_eq!(parse("1400").unwrap().mtu, Some(1400));
        let e = parse("-1").unwrap_err();
        assert_eq!(e.code, 7);
        assert!(e.msg.starts_with("mtu: invalid MTU -1"), "{}", e.msg);
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
