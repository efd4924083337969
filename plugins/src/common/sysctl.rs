//! Kernel switches a plugin turns on for the whole host.

use super::{AbsentOk, NetContext};
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

/// Sets a per-link sysctl (`net/<family>/conf/<link>/<leaf>`). An IPv6 key
/// on a kernel without IPv6 (no `net/ipv6` at all), or on a link the kernel
/// keeps no IPv6 state for (an MTU below 1280), is skipped, as the reference
/// ignores it: there is nothing for it to guard. Any other failure fails the
/// step, so a setting is never silently missing.
pub fn set_link(
    ns: &dyn Netns,
    family: &str,
    link: &str,
    leaf: &str,
    value: &str,
) -> Result<(), CniError> {
    let key = format!("net/{family}/conf/{link}/{leaf}");
    match ns.sysctl_set(&key, value) {
        Err(e) if e.is_not_found() && family == "ipv6" && !has_ipv6(ns)? => Ok(()),
        Err(e) if e.is_not_found() && family == "ipv6" && !link_has_ipv6(ns, link)? => {
            tracing::warn!("not setting {key}={value}: {link} has no IPv6 (an MTU below 1280)");
            Ok(())
        }
        set => set.ctx(&format!("setting sysctl {key}={value}")),
    }
}

/// Whether the kernel keeps IPv6 state for `link` (`net/ipv6/conf/<link>`).
fn link_has_ipv6(ns: &dyn Netns, link: &str) -> Result<bool, CniError> {
    let key = format!("net/ipv6/conf/{link}/disable_ipv6");
    let found = ns
        .sysctl_get(&key)
        .absent_ok(&format!("reading sysctl {key}"))?;
    Ok(found.is_some())
}

fn has_ipv6(ns: &dyn Netns) -> Result<bool, CniError> {
    const KEY: &str = "net/ipv6/conf/all/disable_ipv6";
    let found = ns
        .sysctl_get(KEY)
        .absent_ok(&format!("reading sysctl {KEY}"))?;
    Ok(found.is_some())
}

/// A host-side link whose routes the plugin owns: router advertisements
/// must not add their own (`accept_ra=0`, as the reference sets on the
/// bridge and on every host veth).
pub fn refuse_router_ads(ns: &dyn Netns, link: &str) -> Result<(), CniError> {
    set_link(ns, "ipv6", link, "accept_ra", "0")
}

/// As [`refuse_router_ads`], for a link every attachment shares (the
/// bridge): after the first ADD it is off already, so it is read first,
/// and a read is the cheaper call (the Linux backend answers it over
/// netlink, where a write goes through /proc/sys).
pub fn keep_refusing_router_ads(ns: &dyn Netns, link: &str) -> Result<(), CniError> {
    let key = format!("net/ipv6/conf/{link}/accept_ra");
    let now = ns
        .sysctl_get(&key)
        .absent_ok(&format!("reading sysctl {key}"))?;
    if now.is_some_and(|v| v.trim() == "0") {
        return Ok(());
    }
    // Absent (no IPv6 here): the write decides, as it always did.
    refuse_router_ads(ns, link)
}

/// Before the first IPv6 address goes on `link`, as the reference's
/// `ConfigureIface`: IPv6 on for `lo` and the link (written only when off,
/// since turning it on again is not free), and the addresses kept when the
/// link goes down.
pub fn prepare_ipv6(ns: &dyn Netns, link: &str) -> Result<(), CniError> {
    for name in ["lo", link] {
        let key = format!("net/ipv6/conf/{name}/disable_ipv6");
        let now = ns
            .sysctl_get(&key)
            .absent_ok(&format!("reading sysctl {key}"))?;
        if now.is_some_and(|v| v.trim() != "0") {
            set_link(ns, "ipv6", name, "disable_ipv6", "0")?;
        }
    }
    set_link(ns, "ipv6", link, "keep_addr_on_down", "1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use cni_core::net::{MockNetns, NetError};
    use std::collections::HashMap;

    /// A namespace whose sysctls are `present` (key to value); any other
    /// key is not found, on read and on write.
    fn ns_with(present: &[&str]) -> MockNetns {
        let keys: HashMap<String, String> = present
            .iter()
            .map(|k| (k.to_string(), "0".to_string()))
            .collect();
        let mut ns = MockNetns::new();
        let read = keys.clone();
        ns.expect_sysctl_get().returning(move |k| {
            read.get(k)
                .cloned()
                .ok_or_else(|| NetError::not_found(format!("no {k}")))
        });
        ns.expect_sysctl_set().returning(move |k, _| {
            keys.get(k)
                .map(|_| ())
                .ok_or_else(|| NetError::not_found(format!("no {k}")))
        });
        ns
    }

    #[test]
    fn a_shared_link_already_refusing_router_ads_is_not_written_again() {
        let mut ns = MockNetns::new();
        ns.expect_sysctl_get()
            .withf(|k| k == "net/ipv6/conf/br0/accept_ra")
            .returning(|_| Ok("0".into()));
        ns.expect_sysctl_set().never();
        keep_refusing_router_ads(&ns, "br0").unwrap();

        let mut ns = MockNetns::new();
        ns.expect_sysctl_get().returning(|_| Ok("1".into()));
        ns.expect_sysctl_set()
            .withf(|k, v| k == "net/ipv6/conf/br0/accept_ra" && v == "0")
            .times(1)
            .returning(|_, _| Ok(()));
        keep_refusing_router_ads(&ns, "br0").unwrap();

        // A read that fails for another reason than absence fails the step.
        let mut ns = MockNetns::new();
        ns.expect_sysctl_get()
            .returning(|_| Err(NetError::other("read failed")));
        ns.expect_sysctl_set().never();
        let e = keep_refusing_router_ads(&ns, "br0").unwrap_err();
        assert!(e.msg.contains("net/ipv6/conf/br0/accept_ra"), "{e}");
    }

    #[test]
    fn an_ipv6_key_is_skipped_only_where_there_is_no_ipv6_to_guard() {
        let all = "net/ipv6/conf/all/disable_ipv6";
        // A link whose MTU is below 1280 has no net/ipv6/conf/<link>.
        let ns = ns_with(&[all]);
        set_link(&ns, "ipv6", "veth1", "accept_ra", "0").unwrap();
        // No IPv6 in the kernel at all.
        set_link(&ns_with(&[]), "ipv6", "veth1", "accept_ra", "0").unwrap();
        // The link has IPv6 but the write fails: an error naming the key.
        let ns = ns_with(&[all, "net/ipv6/conf/veth1/disable_ipv6"]);
        let e = set_link(&ns, "ipv6", "veth1", "accept_ra", "0").unwrap_err();
        assert!(e.msg.contains("net/ipv6/conf/veth1/accept_ra"), "{e}");
        // IPv4 keys are never skipped.
        assert!(set_link(&ns_with(&[all]), "ipv4", "veth1", "arp_notify", "1").is_err());
    }
}
