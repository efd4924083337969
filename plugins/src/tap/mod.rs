//! The tap plugin: a persistent tap device made directly in the container
//! as `CNI_IFNAME` (for a VM or a user-space switch to attach to), with
//! `multiQueue`, `owner`, `group`, `selinuxContext`, `mtu` and a MAC, and
//! with `bridge` a port of that bridge — which lives in the container, as
//! the reference looks it up there. Addresses and routes from IPAM as the
//! other main plugins.
//!
//! As macvlan, IPAM runs first (the MAC derives from the addresses) unless
//! the IPAM plugin works on the interface itself (DHCP); the reference
//! creates the tap first and leaves the MAC to the kernel.

use crate::common::errors::AbsentOk;
use crate::common::{add_result, container_link, delegate, iface, netns, sysctl};
use crate::common::{Attachment, DelConf, IpamDelegate, NetContext, Undo};
use cni_core::mac;
use cni_core::net::{LinkInfo, LinkKind, NetBackend, Netns};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::{CniError, CniResult};
pub mod config;

pub use config::TapConf;

/// The tap is the result's only interface.
const CONTAINER_IFACE: usize = 0;

pub struct Tap<'a> {
    pub backend: &'a dyn NetBackend,
    pub ipam: &'a dyn IpamDelegate,
}

impl Tap<'_> {
    fn attachment<'c>(&'c self, conf: &'c TapConf) -> Attachment<'c> {
        Attachment::new(self.backend, self.ipam, &conf.common, false)
    }
}

/// `bridge` in the container: it must be there and be a bridge. Looked up
/// before anything changes.
fn find_bridge(container: &dyn Netns, name: &str, netns: &str) -> Result<LinkInfo, CniError> {
    let link = container
        .link_by_name(name)
        .absent_ok(&format!("looking up bridge {name} in {netns}"))?
        .ok_or_else(|| {
            CniError::invalid_config(format!(
                "bridge: link {name} not found in the container namespace {netns}"
            ))
        })?;
    if link.kind != LinkKind::Bridge {
        return Err(CniError::invalid_config(format!(
            "bridge: {name} in {netns} is a {:?}, not a bridge",
            link.kind
        )));
    }
    Ok(link)
}

/// IPAM's result, which must hold an address (as the reference requires).
fn addresses<'u>(
    ipam: &'u dyn IpamDelegate,
    ipam_type: &'u str,
    args: &'u CmdArgs,
    undo: &mut Undo<'u>,
) -> Result<CniResult, CniError> {
    let result = delegate::allocate(ipam, ipam_type, args, CONTAINER_IFACE, undo)?;
    if result.ips.is_empty() {
        return Err(CniError::decode(format!(
            "IPAM plugin {ipam_type} returned no IP configuration"
        )));
    }
    Ok(result)
}

impl Plugin for Tap<'_> {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = TapConf::parse(&args.stdin)?;
        let explicit_mac = conf.explicit_mac(&args.args)?;
        let container = netns::container(self.backend, &args.netns)?;
        container_link::ensure_free(&*container, args)?;
        let bridge = conf
            .bridge
            .as_deref()
            .map(|b| find_bridge(&*container, b, &args.netns))
            .transpose()?;
        let mut undo = Undo::new();

        let ipam_type = conf.common.ipam_type();
        let link_first = ipam_type.is_some_and(delegate::needs_interface_first);
        let mut result = match ipam_type {
            Some(t) if !link_first => addresses(self.ipam, t, args, &mut undo)?,
            _ => CniResult::default(),
        };
        let addrs: Vec<_> = result.ips.iter().map(|ip| ip.address.addr()).collect();
        let spec = conf.spec(
            &args.ifname,
            explicit_mac.or_else(|| mac::for_addresses(&addrs)),
        );
        let ns: &dyn Netns = &*container;
        let link = ns
            .create_tap(&spec)
            .ctx(&format!("creating tap {} in {}", args.ifname, args.netns))?;
        let index = link.index;
        undo.push(format!("tap {}", link.name), move || ns.delete_link(index));

        if let Some(bridge) = &bridge {
            ns.set_master(index, Some(bridge.index)).ctx(&format!(
                "adding tap {} to bridge {}",
                link.name, bridge.name
            ))?;
        }
        if ipam_type.is_some() {
            sysctl::set_link(ns, "ipv4", &link.name, "arp_notify", "1")?;
        }
        if let (true, Some(t)) = (link_first, ipam_type) {
            ns.set_up(index, true)
                .ctx(&format!("setting {} up for IPAM", link.name))?;
            result = addresses(self.ipam, t, args, &mut undo)?;
        }
        let result =
            add_result::single_container_interface(&conf.common, ns, &link, result, &args.netns)?;
        undo.commit();
        Ok(result)
    }

    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = DelConf::parse(&args.stdin, &[])?;
        Attachment::new(self.backend, self.ipam, &conf.common, false).del(args)
    }

    /// Besides the shared checks: still a tap, with the configured
    /// multi-queue flag, owner and group, on the configured bridge.
    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = TapConf::parse(&args.stdin)?;
        let link = self.attachment(&conf).check(args, CONTAINER_IFACE)?;
        let tap = match (&link.kind, link.tap) {
            (LinkKind::Tap, Some(tap)) => tap,
            _ => {
                return Err(iface::mismatch(format!(
                    "{} is a {:?}, not a tap",
                    args.ifname, link.kind
                )))
            }
        };
        let want = (conf.multi_queue, conf.owner, conf.group);
        let have = (tap.multi_queue, tap.owner, tap.group);
        if want != have {
            return Err(iface::mismatch(format!(
                "tap {} has (multiQueue, owner, group) {have:?}, config says {want:?}",
                args.ifname
            )));
        }
        if let Some(name) = &conf.bridge {
            let container = netns::container(self.backend, &args.netns)?;
            let bridge = find_bridge(&*container, name, &args.netns)?;
            if link.master != Some(bridge.index) {
                return Err(iface::mismatch(format!(
                    "tap {} is not a port of bridge {name}",
                    args.ifname
                )));
            }
        }
        Ok(())
    }

    fn status(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.attachment(&TapConf::parse(&args.stdin)?).status(args)
    }

    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.attachment(&TapConf::parse(&args.stdin)?).gc(args)
    }

    fn about(&self) -> String {
        cni_core::skel::about_text("tap plugin")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::Verb;
    use cni_backend_sim::SimKernel;
    use std::cell::RefCell;

    /// An IPAM plugin that hands out nothing, and records the verbs it ran.
    #[derive(Default)]
    struct NoAddresses(RefCell<Vec<Verb>>);

    impl IpamDelegate for NoAddresses {
        fn run(
            &self,
            verb: Verb,
            _ipam_type: &str,
            _netconf: &[u8],
            _args: &CmdArgs,
        ) -> Result<Option<CniResult>, CniError> {
            self.0.borrow_mut().push(verb);
            Ok((verb == Verb::Add).then(CniResult::default))
        }
    }

    #[test]
    fn an_ipam_result_without_addresses_fails_add_and_is_released() {
        let kernel = SimKernel::new();
        kernel.add_netns("/var/run/netns/c").unwrap();
        let before = kernel.snapshot();
        let ipam = NoAddresses::default();
        let tap = Tap {
            backend: &kernel,
            ipam: &ipam,
        };
        let args = CmdArgs {
            container_id: "c".into(),
            netns: "/var/run/netns/c".into(),
            ifname: "eth0".into(),
            args: String::new(),
            path: Vec::new(),
            stdin: br#"{"cniVersion":"1.0.0","name":"n","type":"tap","ipam":{"type":"x"}}"#
                .to_vec(),
        };
        let e = tap.add(&args).unwrap_err();
        assert!(e.msg.contains("returned no IP configuration"), "{e}");
        assert_eq!(kernel.snapshot(), before);
        assert_eq!(*ipam.0.borrow(), [Verb::Add, Verb::Del]);
    }
}
