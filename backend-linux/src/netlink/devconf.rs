//! The IPv4/IPv6 settings plugins touch on every ADD, over rtnetlink
//! instead of /proc/sys: forwarding switches (RTM_GETNETCONF) and a link's
//! settings (IFLA_AF_SPEC of RTM_GETLINK; IPv4's also written with
//! RTM_SETLINK).
//!
//! Why: the kernel caches one directory entry per network namespace for
//! `/proc/sys/net/ipv4` (and `net/ipv6`), all in one hash chain, and each
//! open below them compares the name against every one of them
//! (`proc_sys_compare`). On a node with 1,000 containers one open costs
//! 0.1–1 ms, and it grows with each namespace; a netlink request does not.
//!
//! Only what netlink reads and writes exactly as the sysctl file does is
//! here. Anything else, and every case netlink cannot answer (no such link,
//! no IPv6 on it, a value that is not a number), is left to /proc/sys by
//! the caller, so errors read as they always did.

use super::socket::frame;
use super::{Route, Rtnl};
use crate::transport::wire::{parse_attrs, Attrs, NlHeaderRepr, NlMsg};
use crate::transport::{Exchange, Family, Outcome};
use netlink_packet_core::{DefaultNla, NLM_F_ACK, NLM_F_REQUEST};
use netlink_packet_route::link::{
    AfSpecInet, AfSpecUnspec, LinkAttribute, LinkExtentMask, LinkMessage,
};
use netlink_packet_route::RouteNetlinkMessage;
use std::path::Path;

const AF_INET: u16 = libc::AF_INET as u16;
const AF_INET6: u16 = libc::AF_INET6 as u16;
const RTM_NEWLINK: u16 = 16;
const RTM_NEWNETCONF: u16 = 80;
const RTM_GETNETCONF: u16 = 82;
const IFLA_AF_SPEC: u16 = 26;
const IFLA_INET_CONF: u16 = 1;
const IFLA_INET6_CONF: u16 = 2;
const NETCONFA_IFINDEX: u16 = 1;
const NETCONFA_FORWARDING: u16 = 2;
const NETCONFA_IFINDEX_ALL: i32 = -1;
/// `struct ifinfomsg` and `struct netconfmsg` (one byte, padded), before the attributes.
const IFINFOMSG_LEN: usize = 16;
const NETCONFMSG_LEN: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ip {
    V4,
    V6,
}

/// A sysctl key netlink answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevconfKey {
    /// The namespace's forwarding switch: `net/ipv4/ip_forward` (one
    /// setting with `net/ipv4/conf/all/forwarding`), `net/ipv6/conf/all/forwarding`.
    Forwarding(Ip),
    /// A link's setting, at `index` in the kernel's devconf array.
    Link {
        ip: Ip,
        link: String,
        index: usize,
        /// Whether netlink may write it too (IPv4 leaves whose sysctl
        /// handler does nothing but store the value).
        writable: bool,
    },
}

/// IPv4 leaves: (name, IPV4_DEVCONF_<NAME> - 1, writable). `forwarding`
/// and `rp_filter` are read only: their sysctl handlers also notify or flush.
const IPV4_LEAVES: &[(&str, usize, bool)] = &[
    ("forwarding", 0, false),
    ("rp_filter", 7, false),
    ("arp_notify", 21, true),
];

/// IPv6 leaves: (name, DEVCONF_<NAME>). The kernel takes no IPv6 setting
/// over netlink, so these are only read.
const IPV6_LEAVES: &[(&str, usize)] = &[
    ("forwarding", 0),
    ("accept_ra", 3),
    ("autoconf", 5),
    ("disable_ipv6", 26),
    ("accept_dad", 27),
    ("ndisc_notify", 29),
    ("keep_addr_on_down", 42),
];

impl DevconfKey {
    /// The key (slash or dotted form, as /proc/sys takes it), when netlink answers it.
    pub fn parse(key: &str) -> Option<DevconfKey> {
        let path = crate::sysctl::key_path(key).ok()?;
        let under_net = path.strip_prefix(Path::new("/proc/sys/net")).ok()?;
        let parts: Vec<&str> = under_net
            .iter()
            .map(|c| c.to_str())
            .collect::<Option<_>>()?;
        match parts.as_slice() {
            ["ipv4", "ip_forward"] | ["ipv4", "conf", "all", "forwarding"] => {
                Some(DevconfKey::Forwarding(Ip::V4))
            }
            ["ipv6", "conf", "all", "forwarding"] => Some(DevconfKey::Forwarding(Ip::V6)),
            [_, "conf", "all" | "default", _] => None,
            ["ipv4", "conf", link, leaf] => {
                let &(_, index, writable) = IPV4_LEAVES.iter().find(|(n, ..)| n == leaf)?;
                Some(DevconfKey::link(Ip::V4, link, index, writable))
            }
            ["ipv6", "conf", link, leaf] => {
                let &(_, index) = IPV6_LEAVES.iter().find(|(n, _)| n == leaf)?;
                Some(DevconfKey::link(Ip::V6, link, index, false))
            }
            _ => None,
        }
    }

    fn link(ip: Ip, link: &str, index: usize, writable: bool) -> DevconfKey {
        DevconfKey::Link {
            ip,
            link: link.to_string(),
            index,
            writable,
        }
    }
}

/// Replies kept as bytes: RTM_NEWNETCONF has no typed form, and a link's
/// devconf arrays are read by index.
pub(super) struct RawRoute;

pub(super) struct RawReply {
    kind: u16,
    payload: Vec<u8>,
}

impl Family for RawRoute {
    const PROTOCOL: isize = Route::PROTOCOL;
    const NAME: &'static str = Route::NAME;
    type Reply = RawReply;

    fn decode(msg: &NlMsg<&[u8]>) -> Result<Option<RawReply>, String> {
        Ok(Some(RawReply {
            kind: msg.kind(),
            payload: msg.payload().to_vec(),
        }))
    }
}

impl Rtnl {
    /// The value of `key` as netlink reads it; `None` when netlink cannot
    /// say (the caller reads /proc/sys).
    pub fn devconf_get(&self, key: &DevconfKey) -> Option<i32> {
        match key {
            DevconfKey::Forwarding(ip) => self.netconf_forwarding(*ip),
            DevconfKey::Link {
                ip, link, index, ..
            } => self.link_devconf(*ip, link)?.get(*index).copied(),
        }
    }

    /// Writes `value` to `key` over netlink; `None` when netlink cannot
    /// (the caller writes /proc/sys).
    pub fn devconf_set(&self, key: &DevconfKey, value: &str) -> Option<()> {
        let DevconfKey::Link {
            ip: Ip::V4,
            link,
            index,
            writable: true,
        } = key
        else {
            return None;
        };
        let value: i32 = value.parse().ok()?;
        let attr_type = u16::try_from(index + 1).ok()?;
        let mut setting = Attrs::default();
        setting.put(attr_type, &value.to_ne_bytes());
        let mut msg = LinkMessage::default();
        msg.attributes = vec![
            LinkAttribute::IfName(link.clone()),
            LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet(vec![AfSpecInet::Other(
                DefaultNla::new(IFLA_INET_CONF, setting.0),
            )])]),
        ];
        let what = || format!("set IPv4 setting #{attr_type} of {link} in {}", self.ns);
        self.sock
            .request(RouteNetlinkMessage::SetLink(msg), 0, what)
            .ok()
    }

    fn netconf_forwarding(&self, ip: Ip) -> Option<i32> {
        let family = match ip {
            Ip::V4 => AF_INET,
            Ip::V6 => AF_INET6,
        };
        let mut payload = vec![0u8; NETCONFMSG_LEN];
        payload[0] = family as u8;
        let mut attrs = Attrs::default();
        attrs.put(NETCONFA_IFINDEX, &NETCONFA_IFINDEX_ALL.to_ne_bytes());
        payload.extend_from_slice(&attrs.0);
        let seq = self.sock.reserve_seqs(1);
        let header = NlHeaderRepr {
            kind: RTM_GETNETCONF,
            flags: NLM_F_REQUEST | NLM_F_ACK,
            seq,
        };
        let mut request = Vec::new();
        header
            .emit(&mut request, payload.len())
            .copy_from_slice(&payload);
        let reply = self.raw_get(&request, seq, RTM_NEWNETCONF)?;
        let attrs = parse_attrs(reply.get(NETCONFMSG_LEN..)?);
        let (_, value) = attrs.iter().find(|(t, _)| *t == NETCONFA_FORWARDING)?;
        Some(i32::from_ne_bytes(value.get(..4)?.try_into().ok()?))
    }

    /// The link's devconf array of `ip` (IFLA_INET_CONF, IFLA_INET6_CONF).
    fn link_devconf(&self, ip: Ip, link: &str) -> Option<Vec<i32>> {
        let mut msg = LinkMessage::default();
        msg.attributes = vec![
            LinkAttribute::IfName(link.to_string()),
            LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]),
        ];
        let seq = self.sock.reserve_seqs(1);
        let request = frame(
            &RouteNetlinkMessage::GetLink(msg),
            NLM_F_REQUEST | NLM_F_ACK,
            seq,
        );
        let reply = self.raw_get(&request, seq, RTM_NEWLINK)?;
        let (family, conf) = match ip {
            Ip::V4 => (AF_INET, IFLA_INET_CONF),
            Ip::V6 => (AF_INET6, IFLA_INET6_CONF),
        };
        let attrs = parse_attrs(reply.get(IFINFOMSG_LEN..)?);
        let (_, af_spec) = attrs.iter().find(|(t, _)| *t == IFLA_AF_SPEC)?;
        let (_, of_family) = parse_attrs(af_spec)
            .into_iter()
            .find(|(t, _)| *t == family)?;
        let (_, array) = parse_attrs(of_family)
            .into_iter()
            .find(|(t, _)| *t == conf)?;
        Some(
            array
                .chunks_exact(4)
                .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        )
    }

    /// Sends `request` (numbered `seq`) and returns the payload of its one
    /// reply of type `answer`.
    fn raw_get(&self, request: &[u8], seq: u32, answer: u16) -> Option<Vec<u8>> {
        let what = || format!("rtnetlink get in {}", self.ns);
        let outcome = self
            .sock
            .exchange_as(request, Exchange::<RawRoute>::acked(seq), &what)
            .ok()?;
        let Outcome::Complete(replies) = outcome else {
            return None;
        };
        let mut answers = replies.into_iter().filter(|r| r.kind == answer);
        match (answers.next(), answers.next()) {
            (Some(one), None) => Some(one.payload),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_netlink_answers() {
        use DevconfKey::*;
        assert_eq!(
            DevconfKey::parse("net/ipv4/ip_forward"),
            Some(Forwarding(Ip::V4))
        );
        assert_eq!(
            DevconfKey::parse("net.ipv4.ip_forward"),
            Some(Forwarding(Ip::V4))
        );
        assert_eq!(
            DevconfKey::parse("net/ipv4/conf/all/forwarding"),
            Some(Forwarding(Ip::V4))
        );
        assert_eq!(
            DevconfKey::parse("net/ipv6/conf/all/forwarding"),
            Some(Forwarding(Ip::V6))
        );
        assert_eq!(
            DevconfKey::parse("net/ipv4/conf/eth0.100/arp_notify"),
            Some(DevconfKey::link(Ip::V4, "eth0.100", 21, true))
        );
        assert_eq!(
            DevconfKey::parse("net/ipv6/conf/veth1/accept_ra"),
            Some(DevconfKey::link(Ip::V6, "veth1", 3, false))
        );
    }

    #[test]
    fn other_keys_stay_with_proc_sys() {
        for key in [
            "net/ipv4/conf/all/arp_notify",
            "net/ipv4/conf/default/arp_notify",
            "net/ipv6/conf/default/accept_ra",
            "net/ipv4/conf/eth0/route_localnet",
            "net/ipv6/conf/eth0/enhanced_dad",
            "net/core/somaxconn",
            "kernel/hostname",
            "net/ipv4/conf/../ip_forward",
            "net/ipv4/conf/eth0/arp_notify/extra",
        ] {
            assert_eq!(DevconfKey::parse(key), None, "{key}");
        }
    }
}
