//! What every chained plugin (tuning, portmap, ...) needs: the previous
//! result, which it requires, handed on at the config's version, and the
//! container interface found in it by `CNI_IFNAME`.

use cni_core::spec::config::NetConf;
use cni_core::spec::Interface;
use cni_core::{CniError, CniResult};

/// `prevResult`, which a chained plugin cannot work without.
pub fn required_prev_result(conf: &NetConf) -> Result<CniResult, CniError> {
    conf.previous_result()?.ok_or_else(|| {
        CniError::invalid_config(format!(
            "prevResult: required ({} is a chained plugin: it runs after one that made the interface)",
            conf.plugin_type
        ))
    })
}

/// The result ADD answers with: the previous one, at the config's version
/// (skel renders it there).
pub fn pass_on(conf: &NetConf, mut prev: CniResult) -> CniResult {
    prev.cni_version = conf.cni_version.clone();
    prev
}

/// Where the result lists the container interface: the one in a sandbox
/// with this name.
pub fn container_index(result: &CniResult, ifname: &str) -> Option<usize> {
    result
        .interfaces
        .iter()
        .position(|i| !i.sandbox.is_empty() && i.name == ifname)
}

/// The container interface of the result, to update what the plugin changed.
pub fn container_interface<'r>(
    result: &'r mut CniResult,
    ifname: &str,
) -> Option<&'r mut Interface> {
    let index = container_index(result, ifname)?;
    result.interfaces.get_mut(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(json: &str) -> NetConf {
        NetConf::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn a_missing_prev_result_is_an_invalid_config_naming_the_field() {
        let e = required_prev_result(&conf(
            r#"{"cniVersion":"1.0.0","name":"n","type":"tuning"}"#,
        ))
        .unwrap_err();
        assert_eq!(e.code, 7);
        assert!(e.msg.starts_with("prevResult: required (tuning"), "{e}");
    }

    #[test]
    fn the_result_passes_on_at_the_configs_version_and_finds_the_sandboxed_interface() {
        let c = conf(
            r#"{"cniVersion":"0.4.0","name":"n","type":"tuning","prevResult":{"cniVersion":"0.4.0",
            "interfaces":[{"name":"eth0","mac":"0a:00:00:00:00:01"},{"name":"eth0","mac":"0a:00:00:00:00:02","sandbox":"/ns"}],
            "ips":[{"version":"4","address":"10.0.0.2/24","interface":1}]}}"#,
        );
        let mut prev = required_prev_result(&c).unwrap();
        assert_eq!(container_index(&prev, "eth0"), Some(1));
        assert_eq!(container_index(&prev, "eth1"), None);
        container_interface(&mut prev, "eth0").unwrap().mac = "0a:00:00:00:00:03".into();
        let out = pass_on(&c, prev);
        assert_eq!(out.cni_version, "0.4.0");
        assert_eq!(
            out.interfaces[0].mac, "0a:00:00:00:00:01",
            "host interface untouched"
        );
        assert_eq!(out.interfaces[1].mac, "0a:00:00:00:00:03");
        assert_eq!(out.ips.len(), 1);
    }
}
