//! `ipMasq`: masquerade for a container's addresses, tagged with the network
//! name and container ID.

use super::{conf, iface, NetContext, Undo};
use cni_core::net::{MasqRule, Netns};
use cni_core::spec::config::{ConfigError, Fields, NetConf};
use cni_core::spec::IpConfig;
use cni_core::CniError;

pub fn add<'a>(
    host: &'a dyn Netns,
    network: &str,
    container_id: &str,
    ips: &[IpConfig],
    undo: &mut Undo<'a>,
) -> Result<(), CniError> {
    if ips.is_empty() {
        return Ok(());
    }
    let rule = rule_for(network, container_id, ips);
    host.masquerade_add(&rule).ctx("adding masquerade rules")?;
    undo.push("masquerade rules", move || {
        host.masquerade_del(&rule.network, &rule.container_id)
    });
    Ok(())
}

/// CHECK: every address of the attachment is still masqueraded. A missing
/// rule is a mismatch naming it; a failed look-up is a kernel failure.
pub fn check(
    host: &dyn Netns,
    network: &str,
    container_id: &str,
    ips: &[IpConfig],
) -> Result<(), CniError> {
    if ips.is_empty() {
        return Ok(());
    }
    let rule = rule_for(network, container_id, ips);
    iface::checked(host.masquerade_check(&rule), "checking masquerade rules")
}

fn rule_for(network: &str, container_id: &str, ips: &[IpConfig]) -> MasqRule {
    MasqRule {
        network: network.to_string(),
        container_id: container_id.to_string(),
        addrs: ips.iter().map(|ip| ip.address).collect(),
    }
}

pub fn del(host: &dyn Netns, network: &str, container_id: &str) -> Result<(), CniError> {
    host.masquerade_del(network, container_id)
        .ctx("removing masquerade rules")
}

/// GC: removes this network's rules of containers not in `live`.
pub fn gc(host: &dyn Netns, network: &str, live: &[String]) -> Result<(), CniError> {
    host.masquerade_gc(network, live)
        .ctx("removing stale masquerade rules")
}

/// GC: the container IDs of `cni.dev/valid-attachments`.
pub fn live_container_ids(conf: &NetConf) -> Result<Vec<String>, CniError> {
    Ok(conf
        .valid_attachments()?
        .unwrap_or_default()
        .into_iter()
        .map(|a| a.container_id)
        .collect())
}

/// `ipMasqBackend`: the reference picks iptables or nftables; we masquerade
/// with nftables only (see [`conf::nftables_only`]).
pub fn validate_backend(f: &Fields) -> Result<(), ConfigError> {
    conf::nftables_only(f, "ipMasqBackend", "masquerades")
}
