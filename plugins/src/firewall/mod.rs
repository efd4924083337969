//! The `firewall` chained plugin: forwarded traffic from the container's
//! addresses (from `prevResult`) and replies to them are accepted, and the
//! ingress policy drops new connections to them, with nftables rules tagged
//! per attachment in a table of our own (see `common::host_rules` and the
//! backend's `firewall_*`).
//! ADD hands `prevResult` on unchanged.

mod config;
mod rules;

pub use config::{parse as parse_config, FirewallConf, IngressPolicy};
pub use rules::rules_for;

use crate::common::{host_rules, netns};
use cni_core::net::{FirewallRule, FirewallSet, NetBackend};
use cni_core::skel::{CmdArgs, Plugin};
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
        // One transaction and the last step: nothing to undo when it fails.
        host_rules::add(&*netns::host(self.backend)?, &set)?;
        Ok(prev)
    }

    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        host_rules::del::<FirewallRule>(self.backend, args)
    }

    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = config::parse(&args.stdin)?;
        let (_, set) = plan(&conf, args)?;
        host_rules::check(self.backend, &set)
    }

    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        host_rules::gc::<FirewallRule>(self.backend, args)
    }

    fn about(&self) -> String {
        cni_core::skel::about_text("firewall plugin")
    }
}
