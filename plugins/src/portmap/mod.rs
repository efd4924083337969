//! The `portmap` chained plugin: host ports forwarded to the container's
//! addresses from `prevResult` (the `portMappings` capability), with nftables
//! rules tagged per attachment in a table of our own (see the backend's
//! `portmap_*`). ADD hands `prevResult` on unchanged.

mod config;
mod rules;

pub use config::{parse as parse_config, PortMapConf, PortMapping};
pub use rules::{container_addrs, rules_for};

use crate::common::{iface, masq, netns, CommonConf, NetContext, Undo};
use cni_core::net::{NetBackend, Netns, PortMapSet};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::spec::config::NetConf;
use cni_core::{CniError, CniResult};
use ipnet::IpNet;
use std::net::IpAddr;

pub struct Portmap<'a> {
    pub backend: &'a dyn NetBackend,
}

/// What ADD and CHECK work from: `prevResult` and the rules it calls for.
struct Planned {
    prev: CniResult,
    addrs: Vec<IpNet>,
    set: PortMapSet,
}

fn plan(conf: &PortMapConf, args: &CmdArgs) -> Result<Planned, CniError> {
    let prev = conf.common.previous_result()?.ok_or_else(|| {
        CniError::invalid_config("prevResult: required; portmap must be called as a chained plugin")
    })?;
    let addrs = container_addrs(&prev, &args.ifname);
    let rules = if conf.mappings.is_empty() {
        Vec::new()
    } else {
        rules_for(conf, &addrs)?
    };
    let set = PortMapSet {
        network: conf.common.name.clone(),
        container_id: args.container_id.clone(),
        rules,
    };
    Ok(Planned { prev, addrs, set })
}

impl Plugin for Portmap<'_> {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = config::parse(&args.stdin)?;
        let Planned {
            mut prev,
            addrs,
            set,
        } = plan(&conf, args)?;
        prev.cni_version = conf.common.cni_version.clone();
        if set.rules.is_empty() {
            return Ok(prev);
        }
        let host = netns::host(self.backend)?;
        let host = &*host;
        let mut undo = Undo::new();
        host.portmap_add(&set).ctx("adding port mappings")?;
        undo.push("port mappings", || {
            host.portmap_del(&set.network, &set.container_id)
        });
        if conf.snat {
            for addr in addrs.iter().filter(|a| a.addr().is_ipv4()) {
                route_localnet_towards(host, addr.addr())?;
            }
        }
        undo.commit();
        Ok(prev)
    }

    /// Reads only the common fields: nothing ADD validates can make DEL fail.
    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf: CommonConf = crate::common::conf::parse(&args.stdin)?;
        let host = netns::host(self.backend)?;
        host.portmap_del(&conf.name, &args.container_id)
            .ctx("removing port mappings")
    }

    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = config::parse(&args.stdin)?;
        let Planned { set, .. } = plan(&conf, args)?;
        if set.rules.is_empty() {
            return Ok(());
        }
        let host = netns::host(self.backend)?;
        iface::checked(host.portmap_check(&set), "checking port mappings")
    }

    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = NetConf::parse(&args.stdin)?;
        let live = masq::live_container_ids(&conf)?;
        netns::host(self.backend)?
            .portmap_gc(&conf.name, &live)
            .ctx("removing stale port mappings")
    }

    fn about(&self) -> String {
        "CNI portmap plugin (cni-rs)".to_string()
    }
}

/// Lets 127/8 cross into the container's network: a localhost connection,
/// once DNATed, is routed out of the interface that reaches `addr` (the
/// bridge) with its loopback source, which the kernel drops there unless
/// `route_localnet` is on. A shared host setting, never undone (as the
/// reference). No route means no localhost path to fix.
fn route_localnet_towards(host: &dyn Netns, addr: IpAddr) -> Result<(), CniError> {
    let routes = host.routes().ctx("listing host routes")?;
    let best = routes
        .iter()
        .filter(|r| r.table == cni_core::net::TABLE_MAIN && r.dst.contains(&addr))
        .filter_map(|r| Some((r.dst.prefix_len(), r.oif?)))
        .max();
    let Some((_, oif)) = best else {
        return Ok(());
    };
    let link = host
        .link_by_index(oif)
        .ctx("looking up the host interface towards the container")?;
    let key = format!("net/ipv4/conf/{}/route_localnet", link.name);
    host.sysctl_set(&key, "1").ctx(&format!("setting {key}"))
}
