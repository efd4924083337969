//! DEL of an attachment, shared by bridge, ptp and macvlan.

use super::{masq, netns, IpamDelegate, Verb};
use cni_core::net::NetBackend;
use cni_core::skel::CmdArgs;
use cni_core::CniError;

/// What DEL takes away, in an order that leaves nothing behind when a step
/// fails and the runtime retries: the masquerade rules, the container
/// interface (a veth's host end goes with it), then the IPAM release, whose error the
/// runtime sees unchanged. An IPAM plugin that works on the interface (DHCP)
/// is released first, while the interface can still carry its DHCPRELEASE.
/// Everything already gone counts as done.
pub fn del_attachment(
    backend: &dyn NetBackend,
    ipam: &dyn IpamDelegate,
    args: &CmdArgs,
    network: &str,
    ip_masq: bool,
    ipam_type: Option<&str>,
) -> Result<(), CniError> {
    let release_first = ipam_type.is_some_and(super::delegate::needs_interface_first);
    if release_first {
        ipam.run_if_any(Verb::Del, ipam_type, &args.stdin, args)?;
    }
    // Masquerade first, on a host handle kept open to the end: the kernel
    // frees deleted rules after an RCU grace period, and closing the nftables
    // socket waits for it; the link deletion meanwhile hides that wait.
    let _host = match ip_masq {
        true => {
            let host = netns::host(backend)?;
            masq::del(&*host, network, &args.container_id)?;
            Some(host)
        }
        false => None,
    };
    netns::delete_container_link(backend, &args.netns, &args.ifname)?;
    if release_first {
        return Ok(());
    }
    ipam.run_if_any(Verb::Del, ipam_type, &args.stdin, args)
}
