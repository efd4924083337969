//! The verbs bridge, ptp and macvlan share besides ADD: DEL, STATUS, GC and
//! the part of CHECK every attachment has. Each plugin describes its
//! attachment with an [`Attachment`] and adds to CHECK what only it has.
//!
//! IPAM runs whenever the config names a plugin. ptp's config always does
//! (`PtpConf::parse` refuses one without), bridge and macvlan may be layer 2
//! only (`ipam: {}`), with nothing to hand over.

use super::{container_link, delegate, iface, masq, netns, CommonConf, IpamDelegate, Verb};
use cni_core::net::{LinkInfo, NetBackend};
use cni_core::skel::CmdArgs;
use cni_core::{CniError, CniResult};

pub struct Attachment<'a> {
    pub backend: &'a dyn NetBackend,
    pub ipam: &'a dyn IpamDelegate,
    pub conf: &'a CommonConf,
    /// `ipMasq`; macvlan has none.
    pub ip_masq: bool,
}

impl<'a> Attachment<'a> {
    pub fn new(
        backend: &'a dyn NetBackend,
        ipam: &'a dyn IpamDelegate,
        conf: &'a CommonConf,
        ip_masq: bool,
    ) -> Self {
        Attachment {
            backend,
            ipam,
            conf,
            ip_masq,
        }
    }

    fn ipam_if_any(&self, verb: Verb, args: &CmdArgs) -> Result<(), CniError> {
        self.ipam
            .run_if_any(verb, self.conf.ipam_type(), &args.stdin, args)
    }

    /// Takes the attachment away in an order that leaves nothing behind when
    /// a step fails and the runtime retries: the container interface (a
    /// veth's host end goes with it), the masquerade rules, then the IPAM
    /// release, whose error the runtime sees unchanged. An IPAM plugin that
    /// works on the interface (DHCP) is released first, while the interface
    /// can still carry its DHCPRELEASE. Everything already gone counts as done.
    pub fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let release_first = self
            .conf
            .ipam_type()
            .is_some_and(delegate::needs_interface_first);
        if release_first {
            self.ipam_if_any(Verb::Del, args)?;
        }
        container_link::delete(self.backend, &args.netns, &args.ifname)?;
        if self.ip_masq {
            masq::del(
                &*netns::host(self.backend)?,
                &self.conf.name,
                &args.container_id,
            )?;
        }
        if release_first {
            return Ok(());
        }
        self.ipam_if_any(Verb::Del, args)
    }

    /// Ready for ADD when IPAM is.
    pub fn status(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.ipam_if_any(Verb::Status, args)
    }

    /// Masquerade rules of attachments no longer valid, then IPAM's GC.
    pub fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        if self.ip_masq {
            masq::gc(&*netns::host(self.backend)?, &self.conf.name, &args.stdin)?;
        }
        self.ipam_if_any(Verb::Gc, args)
    }

    /// CHECK's shared part: IPAM's CHECK, the container interface against
    /// `prevResult` (found there by name, else at `default_index`), and with
    /// `ipMasq` the masquerade of every address. Returns the container
    /// interface for the plugin's own checks.
    pub fn check(&self, args: &CmdArgs, default_index: usize) -> Result<LinkInfo, CniError> {
        let prev = self.conf.prev_result()?;
        self.ipam_if_any(Verb::Check, args)?;
        let container = netns::container(self.backend, &args.netns)?;
        let index = container_index(&prev, &args.ifname).unwrap_or(default_index);
        let link = iface::check(&*container, &args.ifname, &prev, index)?;
        if self.ip_masq {
            let host = netns::host(self.backend)?;
            masq::check(&*host, &self.conf.name, &args.container_id, &prev.ips)?;
        }
        Ok(link)
    }
}

/// Where `prevResult` lists the container interface: the one in a sandbox
/// with this name.
fn container_index(prev: &CniResult, ifname: &str) -> Option<usize> {
    prev.interfaces
        .iter()
        .position(|i| !i.sandbox.is_empty() && i.name == ifname)
}
