//! IPv4 and IPv6 addresses.

use super::Rtnl;
use cni_core::net::{AddressInfo, AddressSpec, NetError, NetResult, RouteScope};
use ipnet::IpNet;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use std::net::IpAddr;

fn family(ip: &IpAddr) -> AddressFamily {
    match ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

/// The message that names `addr` on link `index` (for add and delete).
fn address_message(index: u32, addr: IpNet) -> AddressMessage {
    let mut msg = AddressMessage::default();
    msg.header.family = family(&addr.addr());
    msg.header.prefix_len = addr.prefix_len();
    msg.header.index = index;
    msg.attributes.push(AddressAttribute::Local(addr.addr()));
    msg.attributes.push(AddressAttribute::Address(addr.addr()));
    msg
}

/// Our view of a kernel address message; `None` for families we do not model.
pub fn address_info_from(msg: &AddressMessage) -> Option<AddressInfo> {
    let mut local = None;
    let mut address = None;
    let mut nodad = msg.header.flags.contains(AddressHeaderFlags::Nodad);
    for attr in &msg.attributes {
        match attr {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            AddressAttribute::Flags(f) => nodad |= f.contains(AddressFlags::Nodad),
            _ => {}
        }
    }
    // On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours.
    let ip = local.or(address)?;
    let addr = IpNet::new(ip, msg.header.prefix_len).ok()?;
    Some(AddressInfo {
        index: msg.header.index,
        addr,
        scope: RouteScope::from_u8(msg.header.scope.into()),
        nodad,
    })
}

impl Rtnl {
    pub fn addresses(&self, index: Option<u32>) -> NetResult<Vec<AddressInfo>> {
        let mut req = AddressMessage::default();
        // With strict checking the kernel filters by index; we filter again for
        // kernels that ignore it.
        req.header.index = index.unwrap_or(0);
        let what = || match index {
            Some(i) => format!("list addresses of link #{i} in {}", self.ns),
            None => format!("list addresses in {}", self.ns),
        };
        let replies = self.sock.dump(RouteNetlinkMessage::GetAddress(req), what)?;
        Ok(replies
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) => address_info_from(a),
                _ => None,
            })
            .filter(|a| index.is_none_or(|i| a.index == i))
            .collect())
    }

    pub fn add_address(&self, index: u32, spec: &AddressSpec) -> NetResult<()> {
        let addr = spec.addr;
        let mut msg = address_message(index, addr);
        if let (IpNet::V4(net), true) = (addr, addr.prefix_len() < 31) {
            // As the reference (vishvananda/netlink) does: the subnet's broadcast.
            msg.attributes
                .push(AddressAttribute::Broadcast(net.broadcast()));
        }
        if spec.nodad {
            if addr.addr().is_ipv4() {
                return Err(NetError::invalid(format!(
                    "add address {addr} to link #{index}: nodad applies to IPv6 only"
                )));
            }
            msg.header.flags = AddressHeaderFlags::Nodad;
            msg.attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        self.sock.request(
            RouteNetlinkMessage::NewAddress(msg),
            NLM_F_CREATE | NLM_F_EXCL,
            || format!("add address {addr} to link #{index} in {}", self.ns),
        )
    }

    pub fn del_address(&self, index: u32, addr: IpNet) -> NetResult<()> {
        self.sock.request(
            RouteNetlinkMessage::DelAddress(address_message(index, addr)),
            0,
            || format!("delete address {addr} from link #{index} in {}", self.ns),
        )
    }
}
