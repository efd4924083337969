//! The ipvlan plugin's configuration, as the reference accepts it.

use crate::common::{conf, CommonConf};
use cni_core::net::IpvlanMode;
use cni_core::spec::validate::{configured_mtu, validate_link_name, validate_mtu};
use cni_core::{CniError, CniResult};

#[derive(Debug, Clone)]
pub struct IpvlanConf {
    pub common: CommonConf,
    pub master: Option<String>,
    pub mode: IpvlanMode,
    pub mtu: Option<u32>,
    pub link_in_container: bool,
}

impl IpvlanConf {
    pub fn parse(stdin: &[u8]) -> Result<Self, CniError> {
        let common = conf::parse(stdin)?;
        let f = common.fields();
        let mode: Option<String> = f.get("mode")?;
        let mode = mode.as_deref().unwrap_or("l2");
        let c = IpvlanConf {
            master: f.get("master")?,
            mode: mode.parse().map_err(|_| {
                CniError::invalid_config(format!(
                    "mode: unknown ipvlan mode {mode:?} (l2, l3, l3s)"
                ))
            })?,
            mtu: configured_mtu("mtu", f.get("mtu")?),
            link_in_container: f.flag("linkInContainer")?,
            common,
        };
        if let Some(master) = &c.master {
            validate_link_name("master", master)?;
        }
        if let Some(mtu) = c.mtu {
            validate_mtu("mtu", mtu)?;
        }
        Ok(c)
    }
}

/// The master of a chained ipvlan without `master`, as the reference takes
/// it: the name of the previous result's interface when it lists exactly
/// one, named; anything else is refused.
pub fn chained_master(prev: &CniResult) -> Result<String, CniError> {
    match prev.interfaces.as_slice() {
        [only] if !only.name.is_empty() => {
            validate_link_name("prevResult.interfaces[0].name", &only.name)?;
            Ok(only.name.clone())
        }
        other => Err(CniError::invalid_config(format!(
            "master: not set, and prevResult lists {} interfaces, not exactly one named one to take it from",
            other.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_the_references_three_l2_by_default() {
        let parse = |mode: &str| {
            let conf = format!(r#"{{"name":"n","master":"eth0","mode":"{mode}"}}"#);
            IpvlanConf::parse(conf.as_bytes()).map(|c| c.mode)
        };
        assert_eq!(parse("l2").unwrap(), IpvlanMode::L2);
        assert_eq!(parse("").unwrap(), IpvlanMode::L2);
        assert_eq!(parse("l3").unwrap(), IpvlanMode::L3);
        assert_eq!(parse("l3s").unwrap(), IpvlanMode::L3s);
        let unset = IpvlanConf::parse(br#"{"name":"n"}"#).unwrap();
        assert_eq!(unset.mode, IpvlanMode::L2);
        for bad in ["L3", "bridge", "l4"] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.code, 7);
            assert!(e.msg.starts_with("mode: unknown ipvlan mode"), "{}", e.msg);
        }
    }

    #[test]
    fn mtu_and_master_are_checked_naming_the_field() {
        let e = IpvlanConf::parse(br#"{"name":"n","mtu":20}"#).unwrap_err();
        assert!(e.msg.starts_with("mtu"), "{}", e.msg);
        // Negative is no MTU, as the reference's ipvlan passes it to netlink.
        let c = IpvlanConf::parse(br#"{"name":"n","mtu":-1}"#).unwrap();
        assert_eq!(c.mtu, None);
        let e = IpvlanConf::parse(br#"{"name":"n","master":"a/b"}"#).unwrap_err();
        assert!(e.msg.starts_with("master"), "{}", e.msg);
        let e = IpvlanConf::parse(br#"{"name":"n","linkInContainer":"yes"}"#).unwrap_err();
        assert_eq!(e.code, 6, "{}", e.msg);
    }
}
