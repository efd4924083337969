//! CHECK: every tuned value is still in place, as the reference checks them
//! (promiscuous mode must be off when the config does not ask for it).

use super::add::resolve_sysctls;
use super::config::TuningConf;
use super::Tuning;
use crate::common::iface::mismatch;
use crate::common::{chained, netns, AbsentOk, NetContext};
use cni_core::net::{LinkInfo, Netns};
use cni_core::skel::CmdArgs;
use cni_core::CniError;

pub fn check(t: &Tuning<'_>, args: &CmdArgs) -> Result<(), CniError> {
    let conf = TuningConf::parse(&args.stdin, &args.args)?;
    let sysctls = resolve_sysctls(&conf, &args.ifname)?;
    chained::required_prev_result(&conf.common)?;
    let container = netns::container(t.backend, &args.netns)?;
    check_sysctls(&*container, &sysctls)?;
    let step = format!("looking up {} in {}", args.ifname, args.netns);
    let Some(link) = container.link_by_name(&args.ifname).absent_ok(&step)? else {
        return Err(mismatch(format!(
            "container interface {} not found in {}",
            args.ifname, args.netns
        )));
    };
    check_link(&conf, &link)
}

/// Values compare with runs of whitespace as one space: the kernel shows
/// multi-valued sysctls with tabs.
fn check_sysctls(ns: &dyn Netns, sysctls: &[(String, String)]) -> Result<(), CniError> {
    let words = |v: &str| v.split_whitespace().collect::<Vec<_>>().join(" ");
    for (key, want) in sysctls {
        let now = ns.sysctl_get(key).ctx(&format!("reading sysctl {key}"))?;
        if words(&now) != words(want) {
            return Err(mismatch(format!(
                "sysctl {key} is {now:?}, tuning configured {want:?}"
            )));
        }
    }
    Ok(())
}

fn check_link(conf: &TuningConf, link: &LinkInfo) -> Result<(), CniError> {
    let name = &link.name;
    let differs = |what: &str, want: String, now: String| {
        Err(mismatch(format!(
            "{what} of {name} is {now}, tuning configured {want}"
        )))
    };
    if let Some(mac) = conf.mac.filter(|m| *m != link.mac) {
        return differs("MAC", mac.to_string(), link.mac.to_string());
    }
    if conf.promisc != link.promisc {
        return differs(
            "promiscuous mode",
            conf.promisc.to_string(),
            link.promisc.to_string(),
        );
    }
    if let Some(mtu) = conf.mtu.filter(|m| *m != link.mtu) {
        return differs("MTU", mtu.to_string(), link.mtu.to_string());
    }
    if let Some(on) = conf.allmulti.filter(|a| *a != link.allmulti) {
        return differs(
            "all-multicast mode",
            on.to_string(),
            link.allmulti.to_string(),
        );
    }
    if let Some(qlen) = conf.txqlen.filter(|q| *q != link.txqueuelen) {
        return differs(
            "transmit queue length",
            qlen.to_string(),
            link.txqueuelen.to_string(),
        );
    }
    Ok(())
}
