//! The `firewall` chained plugin: forwarded traffic from the container's
//! addresses (from `prevResult`) and replies to them are accepted, and the
//! ingress policy drops new connections to them, with nftables rules tagged
//! per attachment in a table of our own (see the backend's `firewall_*`).
//! ADD hands `prevResult` on unchanged.

mod config;
mod rules;

pub use config::{parse as parse_config, FirewallConf, IngressPolicy};
pub use rules::rules_for;

use crate::common::{iface, masq, netns, CommonConf, NetContext, Undo};
use cni_core::net::{FirewallSet, NetBackend};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::spec::config::NetConf;
use cni_core::{CniError, CniResult};

pub struct Firewall<'a> {
    pub backend: &'a dyn NetBackend,
}

/// What ADD and CHECK work from: `prevResult` and the rules it calls for.
fn plan(conf: &FirewallConf, args: &CmdArgs) -> Result<(CniResult, FirewallSet), CniError> {
    let prev = conf.common.previous_result()?.ok_or_else(|| {
        CniError::invalid_config(
            "prevResult: required; firewall must be called as a chained plugin",
        )
    })?;
    let set = FirewallSet {
        network: conf.common.name.clone(),
        container_id: args.container_id.clone(),
        rules: rules_for(&prev, conf.ingress)?,
    };
    Ok((prev, set))
}

impl Plugin for Firewall<'_> {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = config::parse(&args.stdin)?;
        let (mut prev, set) = plan(&conf, args)?;
        prev.cni_version = conf.common.cni_version.clone();
        if set.rules.is_empty() {
            return Ok(prev);
        }
        let host = netns::host(self.backend)?;
        let host = &*host;
        let mut undo = Undo::new();
        host.firewall_add(&set).ctx("adding forwarding rules")?;
        undo.push("forwarding rules", || {
            host.firewall_del(&set.network, &set.container_id)
        });
        undo.commit();
        Ok(prev)
    }

    /// Reads only the common fields: nothing ADD validates can make DEL fail.
    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf: CommonConf = crate::common::conf::parse(&args.stdin)?;
        let host = netns::host(self.backend)?;
        host.firewall_del(&conf.name, &args.container_id)
            .ctx("removing forwarding rules")
    }

    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = config::parse(&args.stdin)?;
        let (_, set) = plan(&conf, args)?;
        if set.rules.is_empty() {
            return Ok(());
        }
        let host = netns::host(self.backend)?;
        iface::checked(host.firewall_check(&set), "checking forwarding rules")
    }

    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = NetConf::parse(&args.stdin)?;
        let live = masq::live_container_ids(&conf)?;
        netns::host(self.backend)?
            .firewall_gc(&conf.name, &live)
            .ctx("removing stale forwarding rules")
    }

    fn about(&self) -> String {
        "CNI firewall plugin (cni-rs)".to_string()
    }
}
