//! DEL puts back what ADD saved and then drops the file; GC drops the files
//! of this network's attachments that are no longer valid.

use super::saved::{self, Saved};
use super::{config, Tuning};
use crate::common::attachment::FirstError;
use crate::common::{netns, AbsentOk, NetContext};
use cni_core::net::{LinkInfo, MacAddr, Netns};
use cni_core::skel::CmdArgs;
use cni_core::spec::config::NetConf;
use cni_core::CniError;

/// Reads only `dataDir`, so a config ADD would refuse still deletes. Gone
/// (file, namespace or interface) counts as restored. Every restore step
/// runs; the file stays when one failed, for the runtime's retry.
pub fn del(t: &Tuning<'_>, args: &CmdArgs) -> Result<(), CniError> {
    let conf = NetConf::parse(&args.stdin)?;
    let data_dir = config::data_dir(&conf.fields())?;
    let file = saved::path(&data_dir, &args.container_id, &args.ifname);
    let state = match saved::read(t.fs, &file) {
        Ok(Some(state)) => state,
        Ok(None) => return Ok(()),
        Err(why) => {
            tracing::warn!("dropping {}: {why}", file.display());
            return saved::remove(t.fs, &data_dir, &file);
        }
    };
    if let Some(container) = netns::container_if_present(t.backend, &args.netns)? {
        let step = format!("looking up {} in {}", args.ifname, args.netns);
        let link = container.link_by_name(&args.ifname).absent_ok(&step)?;
        restore(&*container, link.as_ref(), &state)?;
    }
    saved::remove(t.fs, &data_dir, &file)
}

/// In the reference's order (MTU, MAC, promiscuous, all-multicast, queue
/// length) when the interface is there, then the sysctls newest first
/// (they are the namespace's, so they go back without it too).
fn restore(ns: &dyn Netns, link: Option<&LinkInfo>, state: &Saved) -> Result<(), CniError> {
    let mut outcome = FirstError::default();
    if let Some(link) = link {
        restore_link(ns, link, state, &mut outcome);
    }
    for s in state.sysctl.iter().rev() {
        let step = format!("restoring sysctl {}={}", s.key, s.value);
        outcome.note(ns.sysctl_set(&s.key, &s.value).absent_ok(&step).map(drop));
    }
    outcome.into_result()
}

fn restore_link(ns: &dyn Netns, link: &LinkInfo, state: &Saved, outcome: &mut FirstError) {
    let (ix, name) = (link.index, &link.name);
    if let Some(mtu) = state.mtu {
        outcome.note(
            ns.set_mtu(ix, mtu)
                .ctx(&format!("restoring MTU {mtu} of {name}")),
        );
    }
    match state.mac.as_deref().map(str::parse::<MacAddr>) {
        Some(Ok(mac)) => {
            outcome.note(
                ns.set_mac(ix, mac)
                    .ctx(&format!("restoring MAC {mac} of {name}")),
            );
        }
        // A file edited by hand must not make DEL fail forever.
        Some(Err(e)) => tracing::warn!("not restoring the MAC of {name}: {e}"),
        None => {}
    }
    if let Some(on) = state.promisc {
        let step = format!("restoring promiscuous mode {on} of {name}");
        outcome.note(ns.set_promisc(ix, on).ctx(&step));
    }
    if let Some(on) = state.allmulti {
        let step = format!("restoring all-multicast mode {on} of {name}");
        outcome.note(ns.set_allmulti(ix, on).ctx(&step));
    }
    if let Some(qlen) = state.txqlen {
        let step = format!("restoring transmit queue length {qlen} of {name}");
        outcome.note(ns.set_txqueuelen(ix, qlen).ctx(&step));
    }
}

/// Drops the saved state of this network's attachments that are not in
/// `cni.dev/valid-attachments` (their containers are gone, so there is
/// nothing to restore). Files of other networks, and files the reference
/// wrote (they name no network), are left alone. Without the list, nothing
/// is dropped.
pub fn gc(t: &Tuning<'_>, args: &CmdArgs) -> Result<(), CniError> {
    let conf = NetConf::parse(&args.stdin)?;
    let data_dir = config::data_dir(&conf.fields())?;
    let Some(valid) = conf.valid_attachments()? else {
        return Ok(());
    };
    let network = Some(conf.name.as_str());
    saved::remove_stale(
        t.fs,
        &data_dir,
        &valid,
        |file| matches!(saved::read(t.fs, file), Ok(Some(s)) if s.network.as_deref() == network),
    )
}
