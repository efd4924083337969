//! CHECK: the qdiscs ADD made are there with the configured parameters.

use super::config::{Limit, Limits};
use crate::common::{iface, NetContext};
use cni_core::net::{LinkInfo, Netns, RootQdisc};
use cni_core::CniError;

pub fn check(
    host: &dyn Netns,
    veth: &LinkInfo,
    ifb: &str,
    limits: &Limits,
) -> Result<(), CniError> {
    let veth_qdiscs = host
        .shaping(veth.index)
        .ctx(&format!("reading the qdiscs of {}", veth.name))?;
    if let Some(limit) = limits.ingress {
        expect_tbf(&veth.name, &veth_qdiscs.root, limit)?;
    }
    let Some(limit) = limits.egress else {
        return Ok(());
    };
    let ifb_link = match host.link_by_name(ifb) {
        Err(e) if e.is_not_found() => return Err(iface::mismatch(format!("ifb {ifb} not found"))),
        found => found.ctx(&format!("looking up ifb {ifb}"))?,
    };
    let redirects = veth_qdiscs.ingress_redirects.unwrap_or_default();
    if !redirects.contains(&ifb_link.index) {
        return Err(iface::mismatch(format!(
            "{}: no ingress filter redirects to {ifb}",
            veth.name
        )));
    }
    let ifb_qdiscs = host
        .shaping(ifb_link.index)
        .ctx(&format!("reading the qdiscs of {ifb}"))?;
    expect_tbf(ifb, &ifb_qdiscs.root, limit)
}

fn expect_tbf(link: &str, root: &RootQdisc, limit: Limit) -> Result<(), CniError> {
    let want = limit.bucket();
    match root {
        RootQdisc::Tbf(have) => match want.difference(have) {
            None => Ok(()),
            Some(diff) => Err(iface::mismatch(format!("{link}: tbf {diff}"))),
        },
        RootQdisc::Default => Err(iface::mismatch(format!("{link}: no tbf qdisc"))),
        RootQdisc::Other(kind) => Err(iface::mismatch(format!(
            "{link}: root qdisc is {kind:?}, expected tbf"
        ))),
    }
}
