//! ADD: read what is there, save it, then change it step by step, each step
//! pushing how to take itself back.

use super::config::TuningConf;
use super::saved::{self, Saved, SavedSysctl};
use super::{sysctl_keys, Tuning};
use crate::common::{chained, netns, NetContext, Undo};
use cni_core::fsio::remove_if_exists;
use cni_core::net::{LinkInfo, Netns};
use cni_core::skel::CmdArgs;
use cni_core::{CniError, CniResult};

pub fn add(t: &Tuning<'_>, args: &CmdArgs) -> Result<CniResult, CniError> {
    let conf = TuningConf::parse(&args.stdin, &args.args)?;
    if let Some(allowlist) = sysctl_keys::read_allowlist(t.allowlist)? {
        sysctl_keys::check_allowed(conf.sysctls.iter().map(|(k, _)| k.as_str()), &allowlist)?;
    }
    let sysctls = resolve_sysctls(&conf, &args.ifname)?;
    let mut prev = chained::required_prev_result(&conf.common)?;
    let container = netns::container(t.backend, &args.netns)?;
    // Only link changes need the link: sysctls alone work without it, as
    // in the reference.
    let link = if conf.changes_link() {
        let found = container.link_by_name(&args.ifname);
        Some(found.ctx(&format!("looking up {} in {}", args.ifname, args.netns))?)
    } else {
        None
    };
    let before = previous_values(&*container, &conf, link.as_ref(), &sysctls)?;
    let mut undo = Undo::new();
    if conf.changes_link() || !sysctls.is_empty() {
        let data_dir = conf.data_dir.clone();
        let file = saved::path(&data_dir, &args.container_id, &args.ifname);
        saved::write(t.fs, &data_dir, &file, &before)?;
        let fs = t.fs;
        undo.push(format!("saved state {}", file.display()), move || {
            remove_if_exists(fs, &file)
        });
    }
    apply(
        &*container,
        &conf,
        link.as_ref(),
        &sysctls,
        &before,
        &mut undo,
    )?;
    if let Some(mac) = conf.mac {
        if let Some(iface) = chained::container_interface(&mut prev, &args.ifname) {
            iface.mac = mac.to_string();
        }
    }
    undo.commit();
    Ok(chained::pass_on(&conf.common, prev))
}

/// Each configured sysctl as its path under /proc/sys, with its value.
pub fn resolve_sysctls(conf: &TuningConf, ifname: &str) -> Result<Vec<(String, String)>, CniError> {
    conf.sysctls
        .iter()
        .map(|(key, value)| Ok((sysctl_keys::sysctl_path(key, ifname)?, value.clone())))
        .collect()
}

/// What ADD is about to change, as it is now (`link`: when it changes the link).
fn previous_values(
    ns: &dyn Netns,
    conf: &TuningConf,
    link: Option<&LinkInfo>,
    sysctls: &[(String, String)],
) -> Result<Saved, CniError> {
    let sysctl = sysctls
        .iter()
        .map(|(key, _)| {
            let value = ns.sysctl_get(key).ctx(&format!("reading sysctl {key}"))?;
            Ok(SavedSysctl {
                key: key.clone(),
                value,
            })
        })
        .collect::<Result<_, CniError>>()?;
    Ok(Saved {
        mac: link
            .filter(|_| conf.mac.is_some())
            .map(|l| l.mac.to_string()),
        promisc: link.filter(|_| conf.promisc).map(|l| l.promisc),
        mtu: link.filter(|_| conf.mtu.is_some()).map(|l| l.mtu),
        allmulti: link.filter(|_| conf.allmulti.is_some()).map(|l| l.allmulti),
        txqlen: link.filter(|_| conf.txqlen.is_some()).map(|l| l.txqueuelen),
        sysctl,
        network: Some(conf.common.name.clone()),
    })
}

/// The changes, in the reference's order: sysctls, MAC, promiscuous mode,
/// MTU, all-multicast, queue length.
fn apply<'a>(
    ns: &'a dyn Netns,
    conf: &TuningConf,
    link: Option<&LinkInfo>,
    sysctls: &[(String, String)],
    before: &Saved,
    undo: &mut Undo<'a>,
) -> Result<(), CniError> {
    for ((key, value), old) in sysctls.iter().zip(&before.sysctl) {
        ns.sysctl_set(key, value)
            .ctx(&format!("setting sysctl {key}={value}"))?;
        let (key, old) = (key.clone(), old.value.clone());
        undo.push(format!("sysctl {key}"), move || ns.sysctl_set(&key, &old));
    }
    let Some(link) = link else {
        return Ok(());
    };
    let ix = link.index;
    let name = &link.name;
    if let Some(mac) = conf.mac {
        ns.set_mac(ix, mac)
            .ctx(&format!("setting MAC {mac} on {name}"))?;
        let old = link.mac;
        undo.push(format!("MAC of {name}"), move || ns.set_mac(ix, old));
    }
    if conf.promisc {
        ns.set_promisc(ix, true)
            .ctx(&format!("setting promiscuous mode on {name}"))?;
        let old = link.promisc;
        undo.push(format!("promiscuous mode of {name}"), move || {
            ns.set_promisc(ix, old)
        });
    }
    if let Some(mtu) = conf.mtu {
        ns.set_mtu(ix, mtu)
            .ctx(&format!("setting MTU {mtu} on {name}"))?;
        let old = link.mtu;
        undo.push(format!("MTU of {name}"), move || ns.set_mtu(ix, old));
    }
    if let Some(on) = conf.allmulti {
        ns.set_allmulti(ix, on)
            .ctx(&format!("setting all-multicast mode {on} on {name}"))?;
        let old = link.allmulti;
        undo.push(format!("all-multicast mode of {name}"), move || {
            ns.set_allmulti(ix, old)
        });
    }
    if let Some(qlen) = conf.txqlen {
        ns.set_txqueuelen(ix, qlen)
            .ctx(&format!("setting transmit queue length {qlen} on {name}"))?;
        let old = link.txqueuelen;
        undo.push(format!("transmit queue length of {name}"), move || {
            ns.set_txqueuelen(ix, old)
        });
    }
    Ok(())
}
