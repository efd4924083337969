//! What portmap and firewall share: one tagged set of rules per attachment
//! in the host (port mappings, forwarding rules), made by ADD, verified by
//! CHECK, removed by DEL and GC through the backend's `portmap_*` and
//! `firewall_*` methods.

use super::{iface, masq, netns, CommonConf, NetContext};
use cni_core::net::{FirewallRule, NetBackend, NetResult, Netns, PortMapRule, RuleSet, TaggedRule};
use cni_core::skel::CmdArgs;
use cni_core::spec::config::NetConf;
use cni_core::CniError;

/// The backend's methods for the sets of a kind of rule.
pub trait HostRule: TaggedRule {
    fn add_to(host: &dyn Netns, set: &RuleSet<Self>) -> NetResult<()>;
    fn check_in(host: &dyn Netns, set: &RuleSet<Self>) -> NetResult<()>;
    fn del_from(host: &dyn Netns, network: &str, container_id: &str) -> NetResult<()>;
    fn gc_in(host: &dyn Netns, network: &str, live: &[String]) -> NetResult<()>;
}

impl HostRule for PortMapRule {
    fn add_to(host: &dyn Netns, set: &RuleSet<Self>) -> NetResult<()> {
        host.portmap_add(set)
    }
    fn check_in(host: &dyn Netns, set: &RuleSet<Self>) -> NetResult<()> {
        host.portmap_check(set)
    }
    fn del_from(host: &dyn Netns, network: &str, container_id: &str) -> NetResult<()> {
        host.portmap_del(network, container_id)
    }
    fn gc_in(host: &dyn Netns, network: &str, live: &[String]) -> NetResult<()> {
        host.portmap_gc(network, live)
    }
}

impl HostRule for FirewallRule {
    fn add_to(host: &dyn Netns, set: &RuleSet<Self>) -> NetResult<()> {
        host.firewall_add(set)
    }
    fn check_in(host: &dyn Netns, set: &RuleSet<Self>) -> NetResult<()> {
        host.firewall_check(set)
    }
    fn del_from(host: &dyn Netns, network: &str, container_id: &str) -> NetResult<()> {
        host.firewall_del(network, container_id)
    }
    fn gc_in(host: &dyn Netns, network: &str, live: &[String]) -> NetResult<()> {
        host.firewall_gc(network, live)
    }
}

/// ADD's step: the attachment's set, made whole in one transaction.
pub fn add<R: HostRule>(host: &dyn Netns, set: &RuleSet<R>) -> Result<(), CniError> {
    R::add_to(host, set).ctx(&format!("adding {}", R::SET))
}

/// DEL reads only the common fields: nothing ADD validates can make it fail.
pub fn del<R: HostRule>(backend: &dyn NetBackend, args: &CmdArgs) -> Result<(), CniError> {
    let conf: CommonConf = super::conf::parse(&args.stdin)?;
    let host = netns::host(backend)?;
    R::del_from(&*host, &conf.name, &args.container_id).ctx(&format!("removing {}", R::SET))
}

/// CHECK: every rule of the set is in place; a set without rules has
/// nothing to check.
pub fn check<R: HostRule>(backend: &dyn NetBackend, set: &RuleSet<R>) -> Result<(), CniError> {
    if set.rules.is_empty() {
        return Ok(());
    }
    let host = netns::host(backend)?;
    iface::checked(R::check_in(&*host, set), &format!("checking {}", R::SET))
}

/// GC: the sets of this network whose container is not among
/// `cni.dev/valid-attachments` are removed.
pub fn gc<R: HostRule>(backend: &dyn NetBackend, args: &CmdArgs) -> Result<(), CniError> {
    let conf = NetConf::parse(&args.stdin)?;
    let live = masq::live_container_ids(&conf)?;
    let host = netns::host(backend)?;
    R::gc_in(&*host, &conf.name, &live).ctx(&format!("removing stale {}", R::SET))
}
