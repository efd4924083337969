//! The ipvlan plugin: an ipvlan on a host interface (or, with
//! `linkInContainer`, on one in the container), created directly in the
//! container namespace under its final name. It shares the master's MAC.

use crate::common::stacked::Stacked;
use crate::common::{iface, Attachment, DelConf, IpamDelegate};
use cni_core::net::{IpvlanSpec, LinkKind, NetBackend, NsRef};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::{CniError, CniResult};
pub mod config;

pub use config::IpvlanConf;

pub struct Ipvlan<'a> {
    pub backend: &'a dyn NetBackend,
    pub ipam: &'a dyn IpamDelegate,
}

impl Ipvlan<'_> {
    fn stacked<'c>(&'c self, conf: &'c IpvlanConf) -> Stacked<'c> {
        Stacked {
            backend: self.backend,
            ipam: self.ipam,
            conf: &conf.common,
            master: conf.master.as_deref(),
            link_in_container: conf.link_in_container,
            kind: "ipvlan",
            prev: None,
        }
    }
}

impl Plugin for Ipvlan<'_> {
    /// Chained (with `prevResult`), as the reference: without `master`, the
    /// master is the previous result's one interface; without IPAM, the
    /// previous result's addresses and routes go on the ipvlan.
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let mut conf = IpvlanConf::parse(&args.stdin)?;
        let prev = conf.common.previous_result()?;
        if let (None, Some(prev)) = (&conf.master, &prev) {
            conf.master = Some(config::chained_master(prev)?);
        }
        let target = NsRef::path(&args.netns);
        let mut stacked = self.stacked(&conf);
        stacked.prev = prev;
        stacked.add(args, |parent_ns, parent| {
            let spec = IpvlanSpec {
                name: args.ifname.clone(),
                parent: parent.index,
                mode: conf.mode,
                mtu: conf.mtu,
                txqueuelen: None,
            };
            parent_ns.create_ipvlan(&spec, &target)
        })
    }

    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = DelConf::parse(&args.stdin, &[])?;
        Attachment::new(self.backend, self.ipam, &conf.common, false).del(args)
    }

    /// Besides the shared checks: still an ipvlan, in the configured mode.
    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = IpvlanConf::parse(&args.stdin)?;
        let link = self.stacked(&conf).check(args, LinkKind::Ipvlan)?;
        if link.ipvlan_mode.is_some_and(|m| m != conf.mode) {
            return Err(iface::mismatch(format!(
                "{} has ipvlan mode {:?}, config says {}",
                args.ifname, link.ipvlan_mode, conf.mode
            )));
        }
        Ok(())
    }

    fn status(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.stacked(&IpvlanConf::parse(&args.stdin)?).status(args)
    }

    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.stacked(&IpvlanConf::parse(&args.stdin)?).gc(args)
    }

    fn about(&self) -> String {
        cni_core::skel::about_text("ipvlan plugin")
    }
}
