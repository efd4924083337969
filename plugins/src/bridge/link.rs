//! The bridge itself: found or created, up (and promiscuous when asked).
//!
//! The bridge is shared by every attachment on it, and many ADDs run at once
//! when a node boots. So it is made idempotently (a concurrent create is
//! "found") and never taken back by one attachment's failed ADD: another ADD
//! may already rely on it, and removing it "while it has no ports" is a
//! list-then-delete race. The reference leaves it in place too.

use super::config::BridgeConf;
use crate::common::{AbsentOk, NetContext};
use cni_core::net::{BridgeSpec, LinkInfo, LinkKind, MacAddr, Netns};
use cni_core::CniError;

/// Finds or creates the bridge; it is switched on ([`switch_on`]) once the
/// checks that may refuse this ADD have passed.
pub fn ensure_bridge(
    host: &dyn Netns,
    conf: &BridgeConf,
    mac: Option<MacAddr>,
) -> Result<LinkInfo, CniError> {
    let br = find_or_create(host, conf, mac)?;
    if br.kind != LinkKind::Bridge {
        return Err(CniError::invalid_config(format!(
            "bridge: {} already exists but is not a bridge ({:?})",
            br.name, br.kind
        )));
    }
    Ok(br)
}

fn find_or_create(
    host: &dyn Netns,
    conf: &BridgeConf,
    mac: Option<MacAddr>,
) -> Result<LinkInfo, CniError> {
    let name = conf.bridge_name();
    let lookup = format!("looking up bridge {name}");
    if let Some(existing) = host.link_by_name(name).absent_ok(&lookup)? {
        return Ok(existing);
    }
    let spec = BridgeSpec {
        name: name.to_string(),
        mtu: conf.mtu,
        mac,
        ..Default::default()
    };
    match host.create_bridge(&spec) {
        Ok(new) => Ok(new),
        // Another ADD created it between our look-up and our create.
        Err(e) if e.is_exists() => host.link_by_name(name).ctx(&lookup),
        Err(e) => Err(e).ctx(&format!("creating bridge {name}")),
    }
}

/// Promiscuous (when configured) and up, then the bridge as it is now.
pub fn switch_on(host: &dyn Netns, br: &LinkInfo, conf: &BridgeConf) -> Result<LinkInfo, CniError> {
    let (name, index) = (br.name.as_str(), br.index);
    if conf.promisc_mode && !br.promisc {
        host.set_promisc(index, true)
            .ctx(&format!("setting {name} promiscuous"))?;
    }
    // The plugin owns the bridge's routes (shared, so made sure of on every
    // ADD and never undone).
    crate::common::sysctl::keep_refusing_router_ads(host, name)?;
    if !br.up {
        host.set_up(index, true)
            .ctx(&format!("setting bridge {name} up"))?;
    }
    host.link_by_index(index)
        .ctx(&format!("looking up bridge {name}"))
}
