//! Qdiscs as `bandwidth` uses them: a token bucket as a link's root qdisc,
//! and an ingress qdisc whose one filter redirects to another link. Like the
//! kernel, a link's qdiscs go with the link, and a redirect keeps pointing
//! at an index whose link was deleted.

use crate::links::{ensure_name_free, info, insert_link};
use crate::model::{Net, NsId};
use cni_core::net::{LinkInfo, LinkKind, NetError, NetResult, RootQdisc, Shaping, TokenBucket};

/// The kernel's `ifb` default (TX_Q_LIMIT).
const IFB_TXQUEUELEN: u32 = 32;

pub(crate) fn create_ifb(net: &mut Net, ns: &NsId, name: &str, mtu: u32) -> NetResult<LinkInfo> {
    ensure_name_free(net, ns, name)?;
    crate::model::validate_mtu(mtu)?;
    let kind = LinkKind::Other("ifb".to_string());
    let index = insert_link(net, ns, name, kind, mtu, None, Some(IFB_TXQUEUELEN))?;
    net.ns_mut(ns)?.link_mut(index)?.up = true;
    info(net, ns, index)
}

fn shaping_mut<'a>(net: &'a mut Net, ns: &NsId, index: u32) -> NetResult<&'a mut Shaping> {
    let space = net.ns_mut(ns)?;
    space.link(index)?;
    Ok(space.qdiscs.entry(index).or_default())
}

pub(crate) fn tbf_add(net: &mut Net, ns: &NsId, index: u32, bucket: &TokenBucket) -> NetResult<()> {
    // The kernel refuses a bucket that holds no byte (tbf's max_size 0).
    if bucket.rate == 0 || bucket.buffer_usec == 0 {
        return Err(NetError::invalid(format!("{bucket}: holds no byte")));
    }
    let shaping = shaping_mut(net, ns, index)?;
    if shaping.root != RootQdisc::Default {
        return Err(NetError::exists(format!(
            "link #{index} already has a root qdisc"
        )));
    }
    shaping.root = RootQdisc::Tbf(*bucket);
    Ok(())
}

pub(crate) fn ingress_redirect_add(net: &mut Net, ns: &NsId, index: u32, to: u32) -> NetResult<()> {
    net.ns(ns)?.link(to)?;
    let shaping = shaping_mut(net, ns, index)?;
    if shaping.ingress_redirects.is_some() {
        return Err(NetError::exists(format!(
            "link #{index} already has an ingress qdisc"
        )));
    }
    shaping.ingress_redirects = Some(vec![to]);
    Ok(())
}

pub(crate) fn root_qdisc_del(net: &mut Net, ns: &NsId, index: u32) -> NetResult<()> {
    let shaping = shaping_mut(net, ns, index)?;
    if shaping.root == RootQdisc::Default {
        return Err(NetError::not_found(format!(
            "link #{index} has no root qdisc of its own"
        )));
    }
    shaping.root = RootQdisc::Default;
    Ok(())
}

pub(crate) fn ingress_qdisc_del(net: &mut Net, ns: &NsId, index: u32) -> NetResult<()> {
    let shaping = shaping_mut(net, ns, index)?;
    if shaping.ingress_redirects.take().is_none() {
        return Err(NetError::not_found(format!(
            "link #{index} has no ingress qdisc"
        )));
    }
    Ok(())
}

pub(crate) fn shaping(net: &Net, ns: &NsId, index: u32) -> NetResult<Shaping> {
    let space = net.ns(ns)?;
    space.link(index)?;
    Ok(space.qdiscs.get(&index).cloned().unwrap_or_default())
}
