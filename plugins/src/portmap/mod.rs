//! The `portmap` chained plugin: host ports forwarded to the container's
//! addresses from `prevResult` (the `portMappings` capability), with nftables
//! rules tagged per attachment in a table of our own (see
//! `common::host_rules` and the backend's `portmap_*`). ADD hands
//! `prevResult` on unchanged.

mod config;
mod rules;

pub use config::{parse as parse_config, PortMapConf, PortMapping};
pub use rules::{container_addrs, rules_for};

use crate::common::host_rules::{self, HostRule};
use crate::common::{netns, NetContext, Undo};
use cni_core::net::{NetBackend, Netns, PortMapRule, PortMapSet, TaggedRule};
use cni_core::skel::{CmdArgs, Plugin};
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
        host_rules::add(host, &set)?;
        undo.push(PortMapRule::SET, || {
            PortMapRule::del_from(host, &set.network, &set.container_id)
        });
        if conf.snat {
            for addr in addrs.iter().filter(|a| a.addr().is_ipv4()) {
                route_localnet_towards(host, addr.addr())?;
            }
        }
        undo.commit();
        Ok(prev)
    }

    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        host_rules::del::<PortMapRule>(self.backend, args)
    }

    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = config::parse(&args.stdin)?;
        let Planned { set, .. } = plan(&conf, args)?;
        host_rules::check(self.backend, &set)
    }

    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        host_rules::gc::<PortMapRule>(self.backend, args)
    }

    fn about(&self) -> String {
        cni_core::skel::about_text("portmap plugin")
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
