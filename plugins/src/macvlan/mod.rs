//! The macvlan plugin: a macvlan on a host interface, created directly in the
//! container namespace under its final name.

use crate::common::netns;
use crate::common::{delegate, iface, teardown, IpamDelegate, NetContext, Undo, Verb};
use cni_core::mac;
use cni_core::net::{LinkKind, MacvlanSpec, NetBackend, Netns, NsRef};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::{CniError, CniResult};
pub mod config;

pub use config::MacvlanConf;

pub struct Macvlan<'a> {
    pub backend: &'a dyn NetBackend,
    pub ipam: &'a dyn IpamDelegate,
}

impl Plugin for Macvlan<'_> {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = MacvlanConf::parse(&args.stdin)?;
        let mode = conf.mode()?;
        let explicit_mac = conf.explicit_mac(&args.args)?;
        let host = netns::host(self.backend)?;
        let container = netns::container(self.backend, &args.netns)?;
        crate::common::veth::ensure_ifname_free(&*container, args)?;
        let parent_ns: &dyn Netns = if conf.link_in_container {
            &*container
        } else {
            &*host
        };
        let parent = find_master(parent_ns, conf.master.as_deref())?;
        let mut undo = Undo::new();

        // Addresses first (the MAC derives from them), unless the IPAM plugin
        // works on the interface itself (DHCP): then the macvlan comes first.
        let ipam_type = conf.common.ipam_type();
        let link_first = ipam_type.is_some_and(delegate::needs_interface_first);
        let mut result = if link_first {
            CniResult::default()
        } else {
            allocate(self.ipam, ipam_type, args, &mut undo)?
        };

        let addrs: Vec<_> = result.ips.iter().map(|ip| ip.address.addr()).collect();
        let spec = MacvlanSpec {
            name: args.ifname.clone(),
            parent: parent.index,
            mode,
            mtu: conf.mtu,
            mac: explicit_mac.or_else(|| mac::for_addresses(&addrs)),
            txqueuelen: None,
        };
        let link = parent_ns
            .create_macvlan(&spec, &NsRef::path(&args.netns))
            .ctx(&format!(
                "creating macvlan {} on {} in {}",
                spec.name, parent.name, args.netns
            ))?;
        let container_ref = &*container;
        let index = link.index;
        undo.push(format!("macvlan {}", link.name), move || {
            container_ref.delete_link(index).map_err(|e| e.to_string())
        });

        // Announce the new address at once, so neighbours' ARP caches follow a
        // restarted container (as the reference does).
        let arp_notify = format!("net/ipv4/conf/{}/arp_notify", link.name);
        container
            .sysctl_set(&arp_notify, "1")
            .ctx(&format!("setting sysctl {arp_notify}"))?;
        if link_first {
            container
                .set_up(link.index, true)
                .ctx(&format!("setting {} up for IPAM", link.name))?;
            result = allocate(self.ipam, ipam_type, args, &mut undo)?;
        }
        iface::configure(&*container, &link, &result, 0)?;

        // Report the link as configured; a failed read fails ADD (and undoes it).
        let link = container
            .link_by_index(link.index)
            .ctx(&format!("looking up {}", link.name))?;
        undo.commit();
        result.interfaces = vec![iface::container_interface(&link, &args.netns)];
        Ok(conf.common.finish(result))
    }

    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = MacvlanConf::parse(&args.stdin)?;
        teardown::del_attachment(
            self.backend,
            self.ipam,
            args,
            &conf.common.name,
            false,
            conf.common.ipam_type(),
        )
    }

    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = MacvlanConf::parse(&args.stdin)?;
        let prev = conf.common.prev_result()?;
        self.ipam
            .run_if_any(Verb::Check, conf.common.ipam_type(), &args.stdin, args)?;
        let container = netns::container(self.backend, &args.netns)?;
        let link = iface::check(&*container, &args.ifname, &prev, 0)?;
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
        let conf = MacvlanConf::parse(&args.stdin)?;
        self.ipam
            .run_if_any(Verb::Status, conf.common.ipam_type(), &args.stdin, args)
    }

    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = MacvlanConf::parse(&args.stdin)?;
        self.ipam
            .run_if_any(Verb::Gc, conf.common.ipam_type(), &args.stdin, args)
    }

    fn about(&self) -> String {
        "CNI macvlan plugin (cni-rs)".to_string()
    }
}

/// IPAM ADD (undone if ADD fails later), every address on interface 0; no
/// IPAM, no addresses.
fn allocate<'a>(
    ipam: &'a dyn IpamDelegate,
    ipam_type: Option<&'a str>,
    args: &'a CmdArgs,
    undo: &mut Undo<'a>,
) -> Result<CniResult, CniError> {
    let Some(t) = ipam_type else {
        return Ok(CniResult::default());
    };
    let mut result = delegate::allocate(ipam, t, args, undo)?;
    for ip in &mut result.ips {
        ip.interface = Some(0);
    }
    Ok(result)
}

/// The parent link: `master` if given, else the interface of the default route.
fn find_master(ns: &dyn Netns, master: Option<&str>) -> Result<cni_core::net::LinkInfo, CniError> {
    let name = match master {
        Some(m) => m.to_string(),
        None => {
            let routes = ns
                .routes()
                .ctx("listing routes to find the default interface")?;
            let default = routes
                .iter()
                .filter(|r| r.dst.prefix_len() == 0 && r.table == cni_core::net::TABLE_MAIN)
                .min_by_key(|r| (r.dst.addr().is_ipv6(), r.metric.unwrap_or(0)))
                .and_then(|r| r.oif)
                .ok_or_else(|| {
                    CniError::invalid_config(
                        "master: not set, and the host has no default route to take it from",
                    )
                })?;
            ns.link_by_index(default)
                .ctx("looking up the default route's interface")?
                .name
        }
    };
    ns.link_by_name(&name).map_err(|e| {
        if e.is_not_found() {
            CniError::invalid_config(format!("master: link {name} not found"))
        } else {
            crate::common::net_err(&format!("looking up master {name}"), e)
        }
    })
}
