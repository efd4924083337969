//! What ipvlan and vlan share: the container interface is a link stacked on
//! a master, created directly in the container as `CNI_IFNAME` and taking
//! the master's MAC (there is no MAC of ours to choose). The link comes
//! before IPAM, as the reference does it, so an IPAM plugin that works on
//! the interface (DHCP) finds it; addresses, routes and the result follow.

use super::{add_result, container_link, delegate, iface, master, netns};
use super::{Attachment, CommonConf, IpamDelegate, NetContext, Undo};
use cni_core::net::{LinkInfo, LinkKind, NetBackend, NetResult, Netns};
use cni_core::skel::CmdArgs;
use cni_core::{CniError, CniResult};

/// The stacked link is the result's only interface.
pub const CONTAINER_IFACE: usize = 0;

/// Where the link goes and on what.
pub struct Stacked<'c> {
    pub backend: &'c dyn NetBackend,
    pub ipam: &'c dyn IpamDelegate,
    pub conf: &'c CommonConf,
    /// `master`; `None`: the default route's interface.
    pub master: Option<&'c str>,
    /// `linkInContainer`: the master is in the container, not the host.
    pub link_in_container: bool,
    /// "ipvlan", "vlan": for messages.
    pub kind: &'static str,
    /// Chained ipvlan without IPAM: the previous result, whose addresses
    /// and routes go on the link as the reference's ipvlan puts them.
    pub prev: Option<CniResult>,
}

impl Stacked<'_> {
    /// ADD: `create` makes the link on the master (found in the namespace
    /// it lives in, which `create` is called on) directly in the container.
    pub fn add(
        &self,
        args: &CmdArgs,
        create: impl FnOnce(&dyn Netns, &LinkInfo) -> NetResult<LinkInfo>,
    ) -> Result<CniResult, CniError> {
        let host = netns::host(self.backend)?;
        let container = netns::container(self.backend, &args.netns)?;
        container_link::ensure_free(&*container, args)?;
        let parent_ns: &dyn Netns = if self.link_in_container {
            &*container
        } else {
            &*host
        };
        let parent = master::find(parent_ns, self.master)?;
        let mut undo = Undo::new();

        let link = create(parent_ns, &parent).ctx(&format!(
            "creating {} {} on {} in {}",
            self.kind, args.ifname, parent.name, args.netns
        ))?;
        let (index, container_ns) = (link.index, &*container);
        undo.push(format!("{} {}", self.kind, link.name), move || {
            container_ns.delete_link(index)
        });

        let result = match (self.conf.ipam_type(), &self.prev) {
            (Some(t), _) => delegate::allocate(self.ipam, t, args, CONTAINER_IFACE, &mut undo)?,
            (None, Some(prev)) if !prev.ips.is_empty() => on_this_link(prev),
            (None, _) => CniResult::default(),
        };
        let result = add_result::single_container_interface(
            self.conf,
            &*container,
            &link,
            result,
            &args.netns,
        )?;
        undo.commit();
        Ok(result)
    }

    fn attachment(&self) -> Attachment<'_> {
        Attachment::new(self.backend, self.ipam, self.conf, false)
    }

    /// CHECK: the shared checks, then still a link of `kind`.
    pub fn check(&self, args: &CmdArgs, kind: LinkKind) -> Result<LinkInfo, CniError> {
        let link = self.attachment().check(args, CONTAINER_IFACE)?;
        if link.kind != kind {
            return Err(iface::mismatch(format!(
                "{} is a {:?}, not a {}",
                args.ifname, link.kind, self.kind
            )));
        }
        Ok(link)
    }

    pub fn status(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.attachment().status(args)
    }

    pub fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.attachment().gc(args)
    }
}

/// The previous result's addresses and routes, all on the stacked link.
fn on_this_link(prev: &CniResult) -> CniResult {
    let mut result = prev.clone();
    for ip in &mut result.ips {
        ip.interface = Some(CONTAINER_IFACE);
    }
    result.interfaces.clear();
    result
}
