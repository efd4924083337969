//! Kernel switches a plugin turns on for the whole host.

use super::NetContext;
use cni_core::net::Netns;
use cni_core::CniError;

/// Turns on IP forwarding for each family present (`ip_forward`,
/// `conf/all/forwarding`). Forwarding is host state that every attachment
/// relies on, so a failed ADD leaves it on rather than cut off the others
/// (as the reference does).
pub fn enable_forwarding(ns: &dyn Netns, ipv4: bool, ipv6: bool) -> Result<(), CniError> {
    let keys = [
        (ipv4, "net/ipv4/ip_forward"),
        (ipv6, "net/ipv6/conf/all/forwarding"),
    ];
    for (_, key) in keys.iter().filter(|(wanted, _)| *wanted) {
        let now = ns.sysctl_get(key).ctx(&format!("reading sysctl {key}"))?;
        if now.trim() != "1" {
            ns.sysctl_set(key, "1")
                .ctx(&format!("setting sysctl {key}=1"))?;
        }
    }
    Ok(())
}
