//! The bridge itself: found or created, up (and promiscuous when asked).
//! It is shared by every attachment, so only a bridge this ADD created is
//! removed again, and only while it has no ports.

use super::config::BridgeConf;
use crate::common::{AbsentOk, NetContext, Undo};
use cni_core::net::{BridgeSpec, LinkInfo, LinkKind, MacAddr, NetResult, Netns};
use cni_core::CniError;

enum Found {
    /// Made by this ADD: removing it takes back everything done to it.
    Created(LinkInfo),
    /// Already there: each change is taken back one by one.
    Existing(LinkInfo),
}

/// Finds or creates the bridge and brings it up. A bridge we create is removed
/// again if ADD fails while it has no ports; an existing bridge we change is
/// changed back.
pub fn ensure_bridge<'a>(
    host: &'a dyn Netns,
    conf: &BridgeConf,
    mac: Option<MacAddr>,
    undo: &mut Undo<'a>,
) -> Result<LinkInfo, CniError> {
    let name = conf.bridge_name();
    match find_or_create(host, conf, mac)? {
        Found::Created(br) => {
            let index = br.index;
            undo.push(format!("bridge {name}"), move || {
                delete_if_portless(host, index)
            });
            switch_on(host, &br, conf, None)
        }
        Found::Existing(br) if br.kind != LinkKind::Bridge => {
            Err(CniError::invalid_config(format!(
                "bridge: {name} already exists but is not a bridge ({:?})",
                br.kind
            )))
        }
        Found::Existing(br) => switch_on(host, &br, conf, Some(undo)),
    }
}

fn find_or_create(
    host: &dyn Netns,
    conf: &BridgeConf,
    mac: Option<MacAddr>,
) -> Result<Found, CniError> {
    let name = conf.bridge_name();
    let lookup = format!("looking up bridge {name}");
    if let Some(existing) = host.link_by_name(name).absent_ok(&lookup)? {
        return Ok(Found::Existing(existing));
    }
    let spec = BridgeSpec {
        name: name.to_string(),
        mtu: conf.mtu,
        mac,
        ..Default::default()
    };
    match host.create_bridge(&spec) {
        Ok(new) => Ok(Found::Created(new)),
        // Another ADD created it between our look-up and our create.
        Err(e) if e.is_exists() => host.link_by_name(name).ctx(&lookup).map(Found::Existing),
        Err(e) => Err(e).ctx(&format!("creating bridge {name}")),
    }
}

/// Promiscuous (when configured) and up, then the bridge as it is now. With
/// `undo`, each change registers its reversal.
fn switch_on<'a>(
    host: &'a dyn Netns,
    br: &LinkInfo,
    conf: &BridgeConf,
    mut undo: Option<&mut Undo<'a>>,
) -> Result<LinkInfo, CniError> {
    let (name, index) = (br.name.as_str(), br.index);
    if conf.promisc_mode && !br.promisc {
        host.set_promisc(index, true)
            .ctx(&format!("setting {name} promiscuous"))?;
        if let Some(undo) = undo.as_deref_mut() {
            undo.push(format!("promisc on {name}"), move || {
                host.set_promisc(index, false)
            });
        }
    }
    if !br.up {
        host.set_up(index, true)
            .ctx(&format!("setting bridge {name} up"))?;
        if let Some(undo) = undo {
            undo.push(format!("bridge {name} up"), move || {
                host.set_up(index, false)
            });
        }
    }
    host.link_by_index(index)
        .ctx(&format!("looking up bridge {name}"))
}

fn delete_if_portless(host: &dyn Netns, index: u32) -> NetResult<()> {
    if host.links()?.iter().any(|l| l.master == Some(index)) {
        return Ok(());
    }
    host.delete_link(index)
}
