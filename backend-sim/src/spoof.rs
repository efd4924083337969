//! The per-namespace MAC spoof checks, modelled on the Linux backend's
//! bridge-family table: keyed by the full names here, listed with the names
//! as the kernel's rule tag shows them.

use crate::model::{validate_name, Net, NsId};
use cni_core::net::{masq_tag_shown_names, validate_tag_names, NetResult, SpoofCheck};

fn validate(check: &SpoofCheck) -> NetResult<()> {
    validate_tag_names("MAC spoof check", &check.network, &check.container_id)?;
    validate_name(&check.iface)
}

fn owned_by(check: &SpoofCheck, network: &str, id: &str) -> bool {
    check.network == network && check.container_id == id
}

/// Replaces the attachment's check on the same interface, as the kernel's
/// transaction does.
pub(crate) fn add(net: &mut Net, ns: &NsId, check: &SpoofCheck) -> NetResult<()> {
    validate(check)?;
    let table = &mut net.ns_mut(ns)?.spoof;
    table.retain(|c| !(owned_by(c, &check.network, &check.container_id) && c.iface == check.iface));
    table.push(check.clone());
    Ok(())
}

pub(crate) fn del(net: &mut Net, ns: &NsId, network: &str, container_id: &str) -> NetResult<()> {
    net.ns_mut(ns)?
        .spoof
        .retain(|c| !owned_by(c, network, container_id));
    Ok(())
}

pub(crate) fn gc(net: &mut Net, ns: &NsId, network: &str, live: &[String]) -> NetResult<()> {
    net.ns_mut(ns)?
        .spoof
        .retain(|c| c.network != network || live.contains(&c.container_id));
    Ok(())
}

pub(crate) fn list(net: &Net, ns: &NsId) -> NetResult<Vec<SpoofCheck>> {
    let mut checks: Vec<SpoofCheck> = net
        .ns(ns)?
        .spoof
        .iter()
        .map(|c| {
            let (network, container_id) = masq_tag_shown_names(&c.network, &c.container_id);
            SpoofCheck {
                network,
                container_id,
                ..c.clone()
            }
        })
        .collect();
    checks.sort();
    Ok(checks)
}
