//! IFLA_INFO_DATA of kind "tun" (`tun_fill_info`): netlink-packet-route
//! keeps these attributes raw, so they are read here.

use cni_core::net::{LinkInfo, LinkKind, TapInfo};
use netlink_packet_core::Nla;
use netlink_packet_route::link::InfoTun;

const IFLA_TUN_OWNER: u16 = 1;
const IFLA_TUN_GROUP: u16 = 2;
const IFLA_TUN_TYPE: u16 = 3;
const IFLA_TUN_PI: u16 = 4;
const IFLA_TUN_VNET_HDR: u16 = 5;
const IFLA_TUN_PERSIST: u16 = 6;
const IFLA_TUN_MULTI_QUEUE: u16 = 7;
/// IFLA_TUN_TYPE of a tap.
const IFF_TAP: u8 = 2;

/// A tun in IFF_TAP mode becomes [`LinkKind::Tap`] with its [`TapInfo`];
/// a tun in IFF_TUN mode stays `Other("tun")`.
pub(super) fn read(data: &[InfoTun], info: &mut LinkInfo) {
    let mut tap = TapInfo::default();
    let mut is_tap = false;
    for nla in data {
        let mut value = vec![0u8; nla.value_len()];
        nla.emit_value(&mut value);
        let byte = value.first().copied().unwrap_or(0);
        let word = value
            .get(..4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_ne_bytes);
        match nla.kind() {
            IFLA_TUN_OWNER => tap.owner = word,
            IFLA_TUN_GROUP => tap.group = word,
            IFLA_TUN_TYPE => is_tap = byte == IFF_TAP,
            IFLA_TUN_PI => tap.pi = byte != 0,
            IFLA_TUN_VNET_HDR => tap.vnet_hdr = byte != 0,
            IFLA_TUN_PERSIST => tap.persist = byte != 0,
            IFLA_TUN_MULTI_QUEUE => tap.multi_queue = byte != 0,
            _ => {}
        }
    }
    if is_tap {
        info.kind = LinkKind::Tap;
        info.tap = Some(tap);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::DefaultNla;

    fn nla(kind: u16, value: &[u8]) -> InfoTun {
        InfoTun::Other(DefaultNla::new(kind, value.to_vec()))
    }

    #[test]
    fn a_tap_reads_its_flags_owner_and_group() {
        let mut info = crate::netlink::link::link_info_from(&Default::default());
        read(
            &[
                nla(IFLA_TUN_TYPE, &[2]),
                nla(IFLA_TUN_PI, &[0]),
                nla(IFLA_TUN_PERSIST, &[1]),
                nla(IFLA_TUN_MULTI_QUEUE, &[1]),
                nla(IFLA_TUN_OWNER, &1000u32.to_ne_bytes()),
            ],
            &mut info,
        );
        assert_eq!(info.kind, LinkKind::Tap);
        let tap = info.tap.unwrap();
        assert!(tap.persist && tap.multi_queue && !tap.pi && !tap.vnet_hdr);
        assert_eq!((tap.owner, tap.group), (Some(1000), None));
    }

    #[test]
    fn a_tun_stays_other() {
        let mut info = crate::netlink::link::link_info_from(&Default::default());
        info.kind = LinkKind::Other("tun".into());
        read(&[nla(IFLA_TUN_TYPE, &[1])], &mut info);
        assert_eq!(info.kind, LinkKind::Other("tun".into()));
        assert!(info.tap.is_none());
    }
}
