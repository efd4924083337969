//! What guards the container's port: the MAC spoof check (`macspoofchk`)
//! and the container end's sysctls the reference sets before its addresses
//! (duplicate address detection as `enabledad` asks, `arp_notify`).

use super::config::BridgeConf;
use crate::common::{iface::Dad, sysctl, NetContext, Undo};
use cni_core::net::{Netns, SpoofCheck, VethPair};
use cni_core::skel::CmdArgs;
use cni_core::CniError;

/// Frames entering the bridge from the host end must carry the container
/// end's MAC as their source. Undone if ADD fails later; DEL and GC remove
/// it by its tag (see `Attachment`).
pub fn add_spoof_check<'a>(
    host: &'a dyn Netns,
    conf: &BridgeConf,
    args: &CmdArgs,
    pair: &VethPair,
    undo: &mut Undo<'a>,
) -> Result<(), CniError> {
    let check = SpoofCheck {
        network: conf.common.name.clone(),
        container_id: args.container_id.clone(),
        iface: pair.local.name.clone(),
        mac: pair.peer.mac,
    };
    host.spoofcheck_add(&check).ctx(&format!(
        "adding MAC spoof check for {} on {}",
        check.mac, check.iface
    ))?;
    undo.push("MAC spoof check", move || {
        host.spoofcheck_del(&check.network, &check.container_id)
    });
    Ok(())
}

/// With IPAM (as the reference, which sets them only then): DAD on
/// (`accept_dad=1`, `enhanced_dad=1`) with `enabledad`, else off
/// (`accept_dad=0`), and `arp_notify=1` so neighbours learn a restarted
/// container's MAC at once. They go with the interface: nothing to undo.
pub fn container_sysctls(
    container: &dyn Netns,
    ifname: &str,
    conf: &BridgeConf,
) -> Result<Dad, CniError> {
    if conf.common.ipam_type().is_none() {
        return Ok(Dad::Skip);
    }
    let dad = if conf.enable_dad {
        sysctl::set_link(container, "ipv6", ifname, "enhanced_dad", "1")?;
        sysctl::set_link(container, "ipv6", ifname, "accept_dad", "1")?;
        Dad::Run
    } else {
        sysctl::set_link(container, "ipv6", ifname, "accept_dad", "0")?;
        Dad::Skip
    };
    sysctl::set_link(container, "ipv4", ifname, "arp_notify", "1")?;
    Ok(dad)
}
