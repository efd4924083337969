//! The bridge plugin: a veth pair per container, its host end on a bridge,
//! the container end created directly in the container namespace.

mod add;
pub mod config;
mod gateway;
mod guards;
mod link;
mod vlan;

use crate::common::{container_link, delegate, iface, netns, veth};
use crate::common::{Attachment, DelConf, IpamDelegate, NetContext, Undo};
use add::Add;
use cni_core::net::NetBackend;
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::{CniError, CniResult};
use config::BridgeConf;

/// Index of the container interface in the result (bridge, host veth, container).
const CONTAINER_IFACE: usize = 2;

pub struct Bridge<'a> {
    pub backend: &'a dyn NetBackend,
    pub ipam: &'a dyn IpamDelegate,
}

impl Bridge<'_> {
    fn attachment<'c>(&'c self, conf: &'c BridgeConf) -> Attachment<'c> {
        Attachment::new(self.backend, self.ipam, &conf.common, conf.ip_masq)
            .with_spoof_check(conf.mac_spoof_check)
    }
}

impl Plugin for Bridge<'_> {
    /// The two orders of an ADD differ only in when IPAM runs (see
    /// `delegate::needs_interface_first`).
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = BridgeConf::parse(&args.stdin)?;
        let host = netns::host(self.backend)?;
        let container = netns::container(self.backend, &args.netns)?;
        container_link::ensure_free(&*container, args)?;
        let add = Add {
            ipam: self.ipam,
            conf: &conf,
            args,
            host: &*host,
            container: &*container,
            requested_mac: conf.common.requested_mac_only_mac_args(&args.args)?,
        };
        let mut undo = Undo::new();
        let attached = match conf.common.ipam_type() {
            Some(t) if delegate::needs_interface_first(t) => add.link_first(t, &mut undo)?,
            ipam_type => add.addresses_first(ipam_type, &mut undo)?,
        };
        add.finish(attached, undo)
    }

    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = DelConf::parse(&args.stdin, &["ipMasq", "macspoofchk"])?;
        Attachment::new(self.backend, self.ipam, &conf.common, conf.flag("ipMasq"))
            .with_spoof_check(conf.flag("macspoofchk"))
            .del(args)
    }

    /// Besides the shared checks: the host end is a port of the bridge.
    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = BridgeConf::parse(&args.stdin)?;
        let link = self.attachment(&conf).check(args, CONTAINER_IFACE)?;
        let host = netns::host(self.backend)?;
        let br = host
            .link_by_name(conf.bridge_name())
            .ctx(&format!("bridge {}", conf.bridge_name()))?;
        let peer = veth::host_peer(&*host, &link)?;
        if peer.master != Some(br.index) {
            return Err(iface::mismatch(format!(
                "host veth {} is not attached to bridge {}",
                peer.name, br.name
            )));
        }
        Ok(())
    }

    fn status(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.attachment(&BridgeConf::parse(&args.stdin)?)
            .status(args)
    }

    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.attachment(&BridgeConf::parse(&args.stdin)?).gc(args)
    }

    fn about(&self) -> String {
        cni_core::skel::about_text("bridge plugin")
    }
}
