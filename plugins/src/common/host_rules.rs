//! What portmap and firewall share: one tagged set of rules per attachment
//! in the host (port mappings, forwarding rules), made by ADD, verified by
//! CHECK, removed by DEL and GC through the backend's `portmap_*` and
//! `firewall_*` methods.

use super::{iface, masq, netns, CommonConf, NetContext};
use cni_core::net::{FirewallSet, NetBackend, NetResult, Netns, PortMapSet};
use cni_core::skel::CmdArgs;
use cni_core::spec::config::NetConf;
use cni_core::CniError;

/// A kind of per-attachment rule set, as the backend keeps it.
pub trait HostRuleSet {
    /// For messages: "port mappings", "forwarding rules".
    const WHAT: &'static str;
    fn is_empty(&self) -> bool;
    fn add_to(&self, host: &dyn Netns) -> NetResult<()>;
    fn check_in(&self, host: &dyn Netns) -> NetResult<()>;
    fn del_from(host: &dyn Netns, network: &str, container_id: &str) -> NetResult<()>;
    fn gc_in(host: &dyn Netns, network: &str, live: &[String]) -> NetResult<()>;
}

impl HostRuleSet for PortMapSet {
    const WHAT: &'static str = "port mappings";
    fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
    fn add_to(&self, host: &dyn Netns) -> NetResult<()> {
        host.portmap_add(self)
    }
    fn check_in(&self, host: &dyn Netns) -> NetResult<()> {
        host.portmap_check(self)
    }
    fn del_from(host: &dyn Netns, network: &str, container_id: &str) -> NetResult<()> {
        host.portmap_del(network, container_id)
    }
    fn gc_in(host: &dyn Netns, network: &str, live: &[String]) -> NetResult<()> {
        host.portmap_gc(network, live)
    }
}

impl HostRuleSet for FirewallSet {
    const WHAT: &'static str = "forwarding rules";
    fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
    fn add_to(&self, host: &dyn Netns) -> NetResult<()> {
        host.firewall_add(self)
    }
    fn check_in(&self, host: &dyn Netns) -> NetResult<()> {
        host.firewall_check(self)
    }
    fn del_from(host: &dyn Netns, network: &str, container_id: &str) -> NetResult<()> {
        host.firewall_del(network, container_id)
    }
    fn gc_in(host: &dyn Netns, network: &str, live: &[String]) -> NetResult<()> {
        host.firewall_gc(network, live)
    }
}

/// ADD's step: the attachment's set, made whole in one transaction.
pub fn add<S: HostRuleSet>(host: &dyn Netns, set: &S) -> Result<(), CniError> {
    set.add_to(host).ctx(&format!("adding {}", S::WHAT))
}

/// DEL reads only the common fields: nothing ADD validates can make it fail.
pub fn del<S: HostRuleSet>(backend: &dyn NetBackend, args: &CmdArgs) -> Result<(), CniError> {
    let conf: CommonConf = super::conf::parse(&args.stdin)?;
    let host = netns::host(backend)?;
    S::del_from(&*host, &conf.name, &args.container_id).ctx(&format!("removing {}", S::WHAT))
}

/// CHECK: every rule of the set is in place; a set without rules has
/// nothing to check.
pub fn check<S: HostRuleSet>(backend: &dyn NetBackend, set: &S) -> Result<(), CniError> {
    if set.is_empty() {
        return Ok(());
    }
    let host = netns::host(backend)?;
    iface::checked(set.check_in(&*host), &format!("checking {}", S::WHAT))
}

/// GC: the sets of this network whose container is not among
/// `cni.dev/valid-attachments` are removed.
pub fn gc<S: HostRuleSet>(backend: &dyn NetBackend, args: &CmdArgs) -> Result<(), CniError> {
    let conf = NetConf::parse(&args.stdin)?;
    let live = masq::live_container_ids(&conf)?;
    let host = netns::host(backend)?;
    S::gc_in(&*host, &conf.name, &live).ctx(&format!("removing stale {}", S::WHAT))
}
