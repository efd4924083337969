//! The loopback plugin: brings `lo` up in the container and reports it as the
//! reference does (its addresses, MAC all zero). `CNI_IFNAME` is ignored: this
//! only ever works on `lo`. It has no IPAM and creates no interface, so the
//! verbs the other main plugins share (`common::attachment`) are not its.

use crate::common::netns;
use crate::common::{add_result, conf, iface, AbsentOk, CommonConf, NetContext, Undo};
use cni_core::net::{AddressInfo, NetBackend, NetResult, Netns};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::spec::{Interface, IpConfig};
use cni_core::{CniError, CniResult};

pub struct Loopback<'a> {
    pub backend: &'a dyn NetBackend,
}

const LO: &str = "lo";

impl Plugin for Loopback<'_> {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf: CommonConf = conf::parse(&args.stdin)?;
        let ns = netns::container(self.backend, &args.netns)?;
        let lo = ns.link_by_name(LO).ctx("looking up lo")?;
        let mut undo = Undo::new();
        if !lo.up {
            let before = ns
                .addresses(Some(lo.index))
                .ctx("listing addresses of lo")?;
            ns.set_up(lo.index, true).ctx("setting lo up")?;
            let ns_ref = &*ns;
            undo.push("lo up", move || put_back_down(ns_ref, lo.index, &before));
        }
        // In a chain, loopback hands the previous result on untouched (as the reference).
        if let Some(mut prev) = conf.previous_result()? {
            prev.cni_version = conf.cni_version;
            let prev = add_result::deliverable(prev)?;
            undo.commit();
            return Ok(prev);
        }
        let ips = ns
            .addresses(Some(lo.index))
            .ctx("listing addresses of lo")?
            .into_iter()
            .map(|a| IpConfig {
                address: a.addr,
                gateway: None,
                interface: Some(0),
            })
            .collect();
        let result = add_result::deliverable(CniResult {
            cni_version: conf.cni_version,
            interfaces: vec![Interface {
                name: LO.to_string(),
                mac: "00:00:00:00:00:00".to_string(),
                sandbox: args.netns.clone(),
                ..Default::default()
            }],
            ips,
            ..Default::default()
        })?;
        undo.commit();
        Ok(result)
    }

    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let _: CommonConf = conf::parse(&args.stdin)?;
        let Some(ns) = netns::container_if_present(self.backend, &args.netns)? else {
            return Ok(());
        };
        match ns.link_by_name(LO).absent_ok("looking up lo")? {
            Some(lo) => ns.set_up(lo.index, false).ctx("setting lo down"),
            None => Ok(()),
        }
    }

    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let _: CommonConf = conf::parse(&args.stdin)?;
        let ns = netns::container(self.backend, &args.netns)?;
        let lo = ns.link_by_name(LO).ctx("looking up lo")?;
        if !lo.up {
            return Err(iface::mismatch("lo is down".to_string()));
        }
        Ok(())
    }

    fn about(&self) -> String {
        cni_core::skel::about_text("loopback plugin")
    }
}

/// Takes back a failed ADD's `lo` up. Bringing `lo` up made the kernel add
/// 127.0.0.1/8 and ::1, and the IPv4 one outlives the down, so addresses that
/// were not there before go too.
fn put_back_down(ns: &dyn Netns, index: u32, before: &[AddressInfo]) -> NetResult<()> {
    ns.set_up(index, false)?;
    let now = ns.addresses(Some(index))?;
    for added in now
        .iter()
        .filter(|a| before.iter().all(|b| b.addr != a.addr))
    {
        ns.del_address(index, added.addr)?;
    }
    Ok(())
}
