//! The vlan plugin: an 802.1Q VLAN on a host interface (or, with
//! `linkInContainer`, on one in the container), created directly in the
//! container namespace under its final name. It takes the master's MAC.

use crate::common::stacked::Stacked;
use crate::common::{iface, Attachment, DelConf, IpamDelegate};
use cni_core::net::{LinkKind, NetBackend, NsRef, VlanSpec};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::{CniError, CniResult};
pub mod config;

pub use config::VlanConf;

pub struct Vlan<'a> {
    pub backend: &'a dyn NetBackend,
    pub ipam: &'a dyn IpamDelegate,
}

impl Vlan<'_> {
    fn stacked<'c>(&'c self, conf: &'c VlanConf) -> Stacked<'c> {
        Stacked {
            backend: self.backend,
            ipam: self.ipam,
            conf: &conf.common,
            master: Some(&conf.master),
            link_in_container: conf.link_in_container,
            kind: "vlan",
            prev: None,
        }
    }
}

impl Plugin for Vlan<'_> {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = VlanConf::parse(&args.stdin)?;
        let target = NsRef::path(&args.netns);
        self.stacked(&conf).add(args, |parent_ns, parent| {
            let spec = VlanSpec {
                name: args.ifname.clone(),
                parent: parent.index,
                vlan_id: conf.vlan_id,
                mtu: conf.mtu,
                txqueuelen: None,
            };
            parent_ns.create_vlan(&spec, &target)
        })
    }

    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = DelConf::parse(&args.stdin, &[])?;
        Attachment::new(self.backend, self.ipam, &conf.common, false).del(args)
    }

    /// Besides the shared checks: still a vlan, with the configured id.
    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = VlanConf::parse(&args.stdin)?;
        let link = self.stacked(&conf).check(args, LinkKind::Vlan)?;
        if link.vlan_id.is_some_and(|id| id != conf.vlan_id) {
            return Err(iface::mismatch(format!(
                "{} has vlan id {:?}, config says {}",
                args.ifname, link.vlan_id, conf.vlan_id
            )));
        }
        Ok(())
    }

    fn status(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.stacked(&VlanConf::parse(&args.stdin)?).status(args)
    }

    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.stacked(&VlanConf::parse(&args.stdin)?).gc(args)
    }

    fn about(&self) -> String {
        cni_core::skel::about_text("vlan plugin")
    }
}
