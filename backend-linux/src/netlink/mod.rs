//! rtnetlink operations of one namespace, synchronous, on netlink-packet-route.

mod addr;
mod devconf;
mod ifb;
mod l3mdev;
mod link;
mod qdisc;
mod redirect;
mod route;
mod rule;
mod socket;
mod tun_info;

pub use devconf::{DevconfKey, Ip};
pub use socket::{Route, RtSocket};

use crate::netns::{InNetns, NetnsFile};
use cni_core::net::NetResult;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Links, addresses and routes of the namespace the socket was opened in.
pub struct Rtnl {
    sock: RtSocket,
    /// "netns /var/run/netns/x" or "current netns", for error messages.
    ns: String,
}

/// rtnetlink sockets this process opened (tests look at it: each one
/// opened in another namespace costs a thread).
static OPENED: AtomicUsize = AtomicUsize::new(0);

impl Rtnl {
    pub fn open_in(ns: &NetnsFile, description: String) -> NetResult<Self> {
        OPENED.fetch_add(1, Ordering::Relaxed);
        Ok(Rtnl {
            sock: RtSocket::open_in(ns)?,
            ns: description,
        })
    }

    /// As [`Rtnl::open_in`], through a handle's [`InNetns`].
    pub fn open_on(ns: &InNetns, description: String) -> NetResult<Self> {
        OPENED.fetch_add(1, Ordering::Relaxed);
        Ok(Rtnl {
            sock: RtSocket::open_on(ns)?,
            ns: description,
        })
    }
}

pub use l3mdev::{dummy_request, vrf_request};
pub use link::{create_frame, ipvlan_request, txqlen, validate_ifname, vlan_request};

/// How many rtnetlink sockets this process has opened so far.
pub fn sockets_opened() -> usize {
    OPENED.load(Ordering::Relaxed)
}
