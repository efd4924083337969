//! The macvlan plugin: a macvlan on a host interface, created directly in the
//! container namespace under its final name.

use crate::common::{add_result, container_link, delegate, iface, master, netns, sysctl};
use crate::common::{Attachment, DelConf, IpamDelegate, NetContext, Undo};
use cni_core::mac;
use cni_core::net::{LinkInfo, LinkKind, MacvlanSpec, NetBackend, Netns, NsRef};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::{CniError, CniResult};
pub mod config;

pub use config::MacvlanConf;

/// The macvlan is the result's only interface.
const CONTAINER_IFACE: usize = 0;

pub struct Macvlan<'a> {
    pub backend: &'a dyn NetBackend,
    pub ipam: &'a dyn IpamDelegate,
}

impl Macvlan<'_> {
    /// macvlan has no `ipMasq`.
    fn attachment<'c>(&'c self, conf: &'c MacvlanConf) -> Attachment<'c> {
        Attachment::new(self.backend, self.ipam, &conf.common, false)
    }
}

impl Plugin for Macvlan<'_> {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = MacvlanConf::parse(&args.stdin)?;
        let mode = conf.mode()?;
        let explicit_mac = conf.explicit_mac(&args.args)?;
        let host = netns::host(self.backend)?;
        let container = netns::container(self.backend, &args.netns)?;
        container_link::ensure_free(&*container, args)?;
        let parent_ns: &dyn Netns = if conf.link_in_container {
            &*container
        } else {
            &*host
        };
        let parent = master::find(parent_ns, conf.master.as_deref())?;
        let mut undo = Undo::new();

        // Addresses first (the MAC derives from them), unless the IPAM plugin
        // works on the interface itself (DHCP): then the macvlan comes first.
        let ipam_type = conf.common.ipam_type();
        let link_first = ipam_type.is_some_and(delegate::needs_interface_first);
        let mut result = match ipam_type {
            Some(t) if !link_first => {
                delegate::allocate(self.ipam, t, args, CONTAINER_IFACE, &mut undo)?
            }
            _ => CniResult::default(),
        };

        let addrs: Vec<_> = result.ips.iter().map(|ip| ip.address.addr()).collect();
        let spec = MacvlanSpec {
            name: args.ifname.clone(),
            parent: parent.index,
            mode,
            mtu: conf.mtu,
            mac: explicit_mac.or_else(|| mac::for_addresses(&addrs)),
            txqueuelen: None,
            bc_queue_len: conf.bc_queue_len,
        };
        let link = create(
            parent_ns,
            &*container,
            &parent,
            &spec,
            &args.netns,
            &mut undo,
        )?;
        if let (true, Some(t)) = (link_first, ipam_type) {
            container
                .set_up(link.index, true)
                .ctx(&format!("setting {} up for IPAM", link.name))?;
            result = delegate::allocate(self.ipam, t, args, CONTAINER_IFACE, &mut undo)?;
        }
        let result = add_result::single_container_interface(
            &conf.common,
            &*container,
            &link,
            result,
            &args.netns,
        )?;
        undo.commit();
        Ok(result)
    }

    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = DelConf::parse(&args.stdin, &[])?;
        Attachment::new(self.backend, self.ipam, &conf.common, false).del(args)
    }

    /// Besides the shared checks: still a macvlan, in the configured mode.
    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = MacvlanConf::parse(&args.stdin)?;
        let link = self.attachment(&conf).check(args, CONTAINER_IFACE)?;
        if link.kind != LinkKind::Macvlan {
            return Err(iface::mismatch(format!(
                "{} is a {:?}, not a macvlan",
                args.ifname, link.kind
            )));
        }
        let mode = conf.mode()?;
        if link.macvlan_mode.is_some_and(|m| m != mode) {
            return Err(iface::mismatch(format!(
                "{} has macvlan mode {:?}, config says {mode}",
                args.ifname, link.macvlan_mode
            )));
        }
        Ok(())
    }

    fn status(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.attachment(&MacvlanConf::parse(&args.stdin)?)
            .status(args)
    }

    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.attachment(&MacvlanConf::parse(&args.stdin)?).gc(args)
    }

    fn about(&self) -> String {
        cni_core::skel::about_text("macvlan plugin")
    }
}

/// The macvlan on `parent`, created directly in the container as
/// `CNI_IFNAME`, announcing its address at once so neighbours' ARP caches
/// follow a restarted container (as the reference does).
fn create<'a>(
    parent_ns: &dyn Netns,
    container: &'a dyn Netns,
    parent: &LinkInfo,
    spec: &MacvlanSpec,
    netns_path: &str,
    undo: &mut Undo<'a>,
) -> Result<LinkInfo, CniError> {
    let link = parent_ns
        .create_macvlan(spec, &NsRef::path(netns_path))
        .ctx(&format!(
            "creating macvlan {} on {} in {netns_path}",
            spec.name, parent.name
        ))?;
    let index = link.index;
    undo.push(format!("macvlan {}", link.name), move || {
        container.delete_link(index)
    });
    sysctl::set_link(container, "ipv4", &link.name, "arp_notify", "1")?;
    sysctl::set_link(container, "ipv6", &link.name, "ndisc_notify", "1")?;
    Ok(link)
}
