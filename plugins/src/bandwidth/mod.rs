//! The `bandwidth` chained plugin: token bucket filters on the host side of
//! a veth attachment. Traffic to the container is shaped by a tbf on the
//! host veth's egress; traffic from the container is redirected from the
//! host veth's ingress to an ifb whose egress carries the second tbf. ADD
//! hands `prevResult` on, with the ifb added as a host interface.

mod config;
mod host_side;
mod teardown;
mod verify;

pub use config::{parse as parse_config, BandwidthConf, Limit, Limits};
pub use host_side::ifb_name;

use crate::common::{iface, netns, NetContext, Undo};
use cni_core::net::{LinkInfo, NetBackend, Netns, TokenBucket};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::{CniError, CniResult};

pub struct Bandwidth<'a> {
    pub backend: &'a dyn NetBackend,
}

impl Limit {
    pub fn bucket(&self) -> TokenBucket {
        TokenBucket::from_bits(self.rate_bits, self.burst_bits)
    }
}

fn required_prev(conf: &BandwidthConf) -> Result<CniResult, CniError> {
    conf.common.previous_result()?.ok_or_else(|| {
        CniError::invalid_config(
            "prevResult: required; bandwidth must be called as a chained plugin",
        )
    })
}

impl Plugin for Bandwidth<'_> {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = config::parse(&args.stdin)?;
        let mut prev = required_prev(&conf)?;
        prev.cni_version = conf.common.cni_version.clone();
        if conf.limits.is_empty() {
            return Ok(prev);
        }
        let host = netns::host(self.backend)?;
        let host = &*host;
        let veth = host_side::host_veth(self.backend, host, &args.netns, &args.ifname, &prev)?;
        let mut undo = Undo::new();
        if let Some(limit) = conf.limits.ingress {
            shape_to_container(host, &veth, limit, &mut undo)?;
        }
        if let Some(limit) = conf.limits.egress {
            let name = ifb_name(&conf.common.name, &args.container_id);
            let ifb = shape_from_container(host, &veth, &name, limit, &mut undo)?;
            prev.interfaces.push(iface::host_interface(&ifb));
        }
        undo.commit();
        Ok(prev)
    }

    /// Reads only the common fields: nothing ADD validates can make DEL fail.
    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        teardown::del(self.backend, args)
    }

    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = config::parse(&args.stdin)?;
        let prev = required_prev(&conf)?;
        if conf.limits.is_empty() {
            return Ok(());
        }
        let host = netns::host(self.backend)?;
        let veth = host_side::host_veth(self.backend, &*host, &args.netns, &args.ifname, &prev)?;
        let ifb = ifb_name(&conf.common.name, &args.container_id);
        verify::check(&*host, &veth, &ifb, &conf.limits)
    }

    fn about(&self) -> String {
        cni_core::skel::about_text("bandwidth plugin")
    }
}

/// A tbf as the host veth's root qdisc: what leaves the host towards the
/// container waits there.
fn shape_to_container<'a>(
    host: &'a dyn Netns,
    veth: &LinkInfo,
    limit: Limit,
    undo: &mut Undo<'a>,
) -> Result<(), CniError> {
    let bucket = limit.bucket();
    host.tbf_add(veth.index, &bucket)
        .ctx(&format!("adding {bucket} to {}", veth.name))?;
    let index = veth.index;
    undo.push(format!("tbf on {}", veth.name), move || {
        host.root_qdisc_del(index)
    });
    Ok(())
}

/// The ifb, everything the host veth receives redirected to it, and a tbf
/// on its way out. Deleting the ifb takes its tbf with it.
fn shape_from_container<'a>(
    host: &'a dyn Netns,
    veth: &LinkInfo,
    name: &str,
    limit: Limit,
    undo: &mut Undo<'a>,
) -> Result<LinkInfo, CniError> {
    let ifb = host
        .create_ifb(name, veth.mtu)
        .ctx(&format!("creating ifb {name}"))?;
    let ifb_index = ifb.index;
    undo.push(format!("ifb {name}"), move || host.delete_link(ifb_index));
    host.ingress_redirect_add(veth.index, ifb.index)
        .ctx(&format!("redirecting {} to {name}", veth.name))?;
    let veth_index = veth.index;
    undo.push(format!("ingress qdisc on {}", veth.name), move || {
        host.ingress_qdisc_del(veth_index)
    });
    let bucket = limit.bucket();
    host.tbf_add(ifb.index, &bucket)
        .ctx(&format!("adding {bucket} to {name}"))?;
    Ok(ifb)
}
