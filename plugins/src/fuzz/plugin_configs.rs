//! The main plugins' and portmap's configurations. An input is CNI_ARGS, a
//! NUL byte, then the configuration (no NUL: all configuration).

use crate::bridge::config::BridgeConf;
use crate::common::CommonConf;
use crate::macvlan::MacvlanConf;
use crate::portmap::{container_addrs, parse_config, rules_for};
use crate::ptp::PtpConf;
use crate::tap::TapConf;
use cni_core::fuzz::split_at_nul;
use cni_core::net::{MacAddr, PortProtocol, TaggedRule};
use cni_core::spec::validate::validate_link_name;
use cni_core::CniResult;

/// An accepted bridge config names a valid bridge and never both hairpin
/// and promiscuous mode.
pub fn bridge(data: &[u8]) -> bool {
    let (cni_args, stdin) = split_at_nul(data);
    let Ok(conf) = BridgeConf::parse(stdin) else {
        return false;
    };
    assert!(validate_link_name("bridge", conf.bridge_name()).is_ok());
    assert!(!(conf.hairpin_mode && conf.promisc_mode));
    common_fields_hold(&conf.common, cni_args);
    true
}

/// An accepted ptp config has an IPAM type.
pub fn ptp(data: &[u8]) -> bool {
    let (cni_args, stdin) = split_at_nul(data);
    let Ok(conf) = PtpConf::parse(stdin) else {
        return false;
    };
    assert!(conf.common.ipam_type().is_some_and(|t| !t.is_empty()));
    common_fields_hold(&conf.common, cni_args);
    true
}

/// An accepted macvlan config has a mode, and any MAC it sets is one an
/// interface can carry.
pub fn macvlan(data: &[u8]) -> bool {
    let (cni_args, stdin) = split_at_nul(data);
    let Ok(conf) = MacvlanConf::parse(stdin) else {
        return false;
    };
    assert!(conf.mode().is_ok());
    if let Ok(Some(mac)) = conf.explicit_mac(&String::from_utf8_lossy(cni_args)) {
        assert_settable_mac(mac);
    }
    common_fields_hold(&conf.common, cni_args);
    true
}

/// An accepted tap config has an MTU a tap takes, valid ids (never the
/// kernel's "none") and bridge name; the device it asks for is a tap with
/// the reference's flags, and any MAC it sets is one an interface can carry.
pub fn tap(data: &[u8]) -> bool {
    let (cni_args, stdin) = split_at_nul(data);
    let Ok(conf) = TapConf::parse(stdin) else {
        return false;
    };
    if let Some(mtu) = conf.mtu {
        assert!(cni_core::spec::validate::check_mtu(mtu).is_ok(), "{mtu}");
    }
    for id in [conf.owner, conf.group].into_iter().flatten() {
        assert_ne!(id, cni_core::net::TAP_NO_ID);
    }
    if let Some(bridge) = &conf.bridge {
        assert!(validate_link_name("bridge", bridge).is_ok());
    }
    if let Some(ctx) = &conf.selinux_context {
        assert!(!ctx.is_empty() && !ctx.contains(['\0', '\n']), "{ctx:?}");
    }
    let mac = conf
        .explicit_mac(&String::from_utf8_lossy(cni_args))
        .ok()
        .flatten();
    if let Some(mac) = mac {
        assert_settable_mac(mac);
    }
    let spec = conf.spec("eth0", mac);
    assert_eq!(spec.multi_queue, conf.multi_queue);
    assert!(
        spec.no_pi || spec.vnet_hdr,
        "one of the reference's two paths"
    );
    assert_eq!(spec.txqueuelen, Some(crate::tap::config::TAP_TXQUEUELEN));
    common_fields_hold(&conf.common, cni_args);
    true
}

/// An accepted portmap config has one mapping per entry, each with ports
/// and a protocol that reads back; the rules ADD would make for the
/// `prevResult` addresses all pass the backends' validation.
pub fn portmap(data: &[u8]) -> bool {
    let (cni_args, stdin) = split_at_nul(data);
    let Ok(conf) = parse_config(stdin) else {
        return false;
    };
    for m in &conf.mappings {
        assert!(m.host_port != 0 && m.container_port != 0, "{m:?}");
        assert_eq!(PortProtocol::parse(m.protocol.as_str()), Some(m.protocol));
        assert!(!m.host_ip.is_some_and(|ip| ip.is_unspecified()), "{m:?}");
    }
    if let Ok(Some(prev)) = conf.common.previous_result() {
        if let Ok(rules) = rules_for(&conf, &container_addrs(&prev, "eth0")) {
            for rule in rules {
                assert_eq!(rule.validate(), Ok(()), "{rule}");
            }
        }
    }
    common_fields_hold(&conf.common, cni_args);
    true
}

/// What every plugin reads from the common fields: a `prevResult` renders
/// at the config's version and reads back with its addresses; a requested
/// MAC is one an interface can carry.
fn common_fields_hold(conf: &CommonConf, cni_args: &[u8]) {
    if let Ok(Some(prev)) = conf.previous_result() {
        if let Ok(json) = prev.to_json_at(conf.version()) {
            let back = CniResult::parse(json.as_bytes())
                .unwrap_or_else(|e| panic!("prevResult rendered unreadably: {e}\n{json}"));
            assert_eq!(back.ips.len(), prev.ips.len(), "{json}");
        }
    }
    if let Ok(Some(mac)) = conf.requested_mac(&String::from_utf8_lossy(cni_args)) {
        assert_settable_mac(mac);
    }
}

fn assert_settable_mac(mac: MacAddr) {
    assert!(!mac.is_zero() && !mac.is_multicast(), "{mac}");
    assert_eq!(mac.to_string().parse::<MacAddr>(), Ok(mac));
}
