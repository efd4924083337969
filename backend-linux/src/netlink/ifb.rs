//! `ifb` devices: where `bandwidth` sends a link's incoming traffic to be
//! shaped on the way out.

use super::link::validate_ifname;
use super::Rtnl;
use cni_core::net::{LinkInfo, NetResult};
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::link::{
    InfoKind, LinkAttribute, LinkFlags, LinkInfo as NlLinkInfo, LinkMessage,
};
use netlink_packet_route::RouteNetlinkMessage;

impl Rtnl {
    /// Created up, with the kernel's queue length for `ifb` (32): never 0.
    pub fn create_ifb(&self, name: &str, mtu: u32) -> NetResult<LinkInfo> {
        validate_ifname(name)?;
        let mut msg = LinkMessage::default();
        msg.header.flags = LinkFlags::Up;
        msg.header.change_mask = LinkFlags::Up;
        msg.attributes = vec![
            LinkAttribute::IfName(name.to_string()),
            LinkAttribute::Mtu(mtu),
            LinkAttribute::LinkInfo(vec![NlLinkInfo::Kind(InfoKind::Ifb)]),
        ];
        self.sock.request(
            RouteNetlinkMessage::NewLink(msg),
            NLM_F_CREATE | NLM_F_EXCL,
            || format!("create ifb {name} in {}", self.ns),
        )?;
        self.created(name)
    }
}
