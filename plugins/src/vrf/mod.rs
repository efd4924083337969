//! The `vrf` chained plugin: in the container, the interface of
//! `CNI_IFNAME` goes into the VRF `vrfname`, which is made (bound to
//! `table`, or to the lowest table no VRF uses) and set up if missing; the
//! interface keeps its addresses and its routes move into the VRF's table
//! (`enslave`). DEL takes the interface out and deletes the VRF once no
//! interface is left in it. ADD hands `prevResult` on unchanged.

mod config;
mod enslave;

pub use config::{free_table, VrfConf, RESERVED_TABLES};

use crate::common::{chained, iface, netns, AbsentOk, NetContext, Undo};
use cni_core::net::{LinkInfo, LinkKind, NetBackend, Netns, VrfSpec};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::{CniError, CniResult};

pub struct Vrf<'a> {
    pub backend: &'a dyn NetBackend,
}

/// The link named `name`, if any; a link of another kind is refused.
fn find_vrf(ns: &dyn Netns, name: &str) -> Result<Option<LinkInfo>, CniError> {
    let found = ns
        .link_by_name(name)
        .absent_ok(&format!("looking up VRF {name}"))?;
    match found {
        Some(l) if l.kind != LinkKind::Vrf => Err(CniError::invalid_config(format!(
            "vrfname: {name} exists in the container and is a {:?}, not a VRF",
            l.kind
        ))),
        other => Ok(other),
    }
}

fn container_link(ns: &dyn Netns, args: &CmdArgs) -> Result<Option<LinkInfo>, CniError> {
    ns.link_by_name(&args.ifname)
        .absent_ok(&format!("looking up {} in {}", args.ifname, args.netns))
}

/// The VRF of the config: the existing one (its table as configured), or a
/// new one, up, undone by deleting it.
fn ensure_vrf<'a>(
    ns: &'a dyn Netns,
    conf: &VrfConf,
    undo: &mut Undo<'a>,
) -> Result<(LinkInfo, u32), CniError> {
    if let Some(vrf) = find_vrf(ns, &conf.vrf_name)? {
        let table = vrf.vrf_table.unwrap_or(0);
        if conf.table.is_some_and(|t| t != table) {
            return Err(CniError::invalid_config(format!(
                "table: VRF {} already exists with table {table}",
                conf.vrf_name
            )));
        }
        return Ok((vrf, table));
    }
    let table = match conf.table {
        Some(t) => t,
        None => free_table(&ns.links().ctx("listing links")?)
            .ok_or_else(|| CniError::invalid_config("table: no free routing table left"))?,
    };
    let spec = VrfSpec {
        name: conf.vrf_name.clone(),
        table,
    };
    let vrf = ns
        .create_vrf(&spec)
        .ctx(&format!("creating VRF {} (table {table})", spec.name))?;
    let index = vrf.index;
    undo.push(format!("VRF {}", vrf.name), move || ns.delete_link(index));
    ns.set_up(vrf.index, true)
        .ctx(&format!("setting VRF {} up", vrf.name))?;
    Ok((vrf, table))
}

impl Plugin for Vrf<'_> {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = VrfConf::parse(&args.stdin)?;
        let prev = chained::required_prev_result(&conf.common)?;
        let container = netns::container(self.backend, &args.netns)?;
        let ns = &*container;
        let Some(port) = container_link(ns, args)? else {
            return Err(CniError::invalid_config(format!(
                "prevResult: no interface {} in {} to put into a VRF",
                args.ifname, args.netns
            )));
        };
        if let Some(m) = port.master {
            if find_vrf(ns, &conf.vrf_name)?.is_some_and(|v| v.index == m) {
                // A retried ADD: the interface is in the VRF already.
                return Ok(chained::pass_on(&conf.common, prev));
            }
            let name = ns.link_by_index(m).map_or(format!("#{m}"), |l| l.name);
            return Err(CniError::invalid_config(format!(
                "vrfname: {} already has a master ({name})",
                port.name
            )));
        }
        let mut undo = Undo::new();
        let (vrf, table) = ensure_vrf(ns, &conf, &mut undo)?;
        enslave::add(ns, &vrf, table, &port, &mut undo)?;
        undo.commit();
        Ok(chained::pass_on(&conf.common, prev))
    }

    /// Takes the interface out of the VRF (when it is in it) and deletes the
    /// VRF when no interface is left in it. Whatever is gone counts as done;
    /// `vrfname` is all DEL reads besides the common fields.
    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let vrf_name = config::vrf_name(&crate::common::conf::parse(&args.stdin)?)?;
        let Some(container) = netns::container_if_present(self.backend, &args.netns)? else {
            return Ok(());
        };
        let ns = &*container;
        let found = ns
            .link_by_name(&vrf_name)
            .absent_ok(&format!("looking up VRF {vrf_name}"))?;
        // Gone, or never ours: not a VRF, which ADD would have refused.
        let Some(vrf) = found.filter(|l| l.kind == LinkKind::Vrf) else {
            return Ok(());
        };
        if let Some(port) = container_link(ns, args)?.filter(|l| l.master == Some(vrf.index)) {
            ns.set_master(port.index, None)
                .absent_ok(&format!("taking {} out of VRF {}", port.name, vrf.name))?;
        }
        let links = ns.links().ctx("listing links")?;
        if !links.iter().any(|l| l.master == Some(vrf.index)) {
            ns.delete_link(vrf.index)
                .absent_ok(&format!("deleting VRF {}", vrf.name))?;
        }
        Ok(())
    }

    /// The VRF exists (with the configured table) and the interface is in it.
    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = VrfConf::parse(&args.stdin)?;
        chained::required_prev_result(&conf.common)?;
        let container = netns::container(self.backend, &args.netns)?;
        let ns = &*container;
        let Some(vrf) = find_vrf(ns, &conf.vrf_name)? else {
            return Err(iface::mismatch(format!(
                "VRF {} not found in {}",
                conf.vrf_name, args.netns
            )));
        };
        if let Some(t) = conf.table.filter(|t| vrf.vrf_table != Some(*t)) {
            return Err(iface::mismatch(format!(
                "VRF {} has table {:?}, config says {t}",
                vrf.name, vrf.vrf_table
            )));
        }
        match container_link(ns, args)? {
            Some(l) if l.master == Some(vrf.index) => Ok(()),
            Some(_) => Err(iface::mismatch(format!(
                "{} is not in VRF {}",
                args.ifname, vrf.name
            ))),
            None => Err(iface::mismatch(format!(
                "container interface {} not found in {}",
                args.ifname, args.netns
            ))),
        }
    }

    fn about(&self) -> String {
        cni_core::skel::about_text("vrf plugin")
    }
}
