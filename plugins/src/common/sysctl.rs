//! Kernel switches a plugin flips, remembered so a failed ADD flips them back.

use super::{NetContext, Undo};
use cni_core::net::Netns;
use cni_core::CniError;

/// Turns on IP forwarding for each family present (`ip_forward`,
/// `conf/all/forwarding`), registering an undo that restores what was there.
pub fn enable_forwarding<'a>(
    ns: &'a dyn Netns,
    ipv4: bool,
    ipv6: bool,
    undo: &mut Undo<'a>,
) -> Result<(), CniError> {
    let keys = [
        (ipv4, "net/ipv4/ip_forward"),
        (ipv6, "net/ipv6/conf/all/forwarding"),
    ];
    for (wanted, key) in keys {
        if wanted {
            set_remembering(ns, key, "1", undo)?;
        }
    }
    Ok(())
}

/// Sets a sysctl; if it changed, registers an undo that restores the old value.
pub fn set_remembering<'a>(
    ns: &'a dyn Netns,
    key: &'static str,
    value: &str,
    undo: &mut Undo<'a>,
) -> Result<(), CniError> {
    let old = ns.sysctl_get(key).ctx(&format!("reading sysctl {key}"))?;
    if old.trim() == value {
        return Ok(());
    }
    ns.sysctl_set(key, value)
        .ctx(&format!("setting sysctl {key}={value}"))?;
    undo.push(format!("sysctl {key}"), move || {
        ns.sysctl_set(key, old.trim())
    });
    Ok(())
}
