//! The host-local IPAM plugin: the verbs, over the disk store.

use super::config::HostLocalConf;
use super::disk::DiskStore;
use super::dns::read_resolv_conf;
use super::ops;
use cni_core::ipam::allocator::Allocation;
use cni_core::ipam::{Attachment, StoreError};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::spec::{Dns, IpConfig, Route};
use cni_core::{CniError, CniResult};

#[derive(Debug, Default, Clone, Copy)]
pub struct HostLocal;

fn store_error(e: StoreError) -> CniError {
    CniError::io(e.to_string())
}

/// Runs `f` with the network's store locked, then seals the index whether `f`
/// succeeded or not: a failed verb may still have changed leases (and undone them).
fn with_store<T>(
    conf: &HostLocalConf,
    f: impl FnOnce(&mut DiskStore) -> Result<T, CniError>,
) -> Result<T, CniError> {
    let mut store = DiskStore::open(&conf.data_dir, conf.name()).map_err(store_error)?;
    let out = f(&mut store);
    let sealed = store.finish().map_err(store_error);
    let value = out?;
    sealed?;
    Ok(value)
}

fn attachment(args: &CmdArgs) -> Attachment {
    Attachment::new(args.container_id.clone(), args.ifname.clone())
}

/// An IPAM ADD's result: the addresses with their gateways, the routes and
/// DNS (host-local's, and every IPAM plugin that reads its keys).
pub fn ipam_result(
    version: &str,
    allocs: Vec<Allocation>,
    routes: Vec<Route>,
    dns: Dns,
) -> CniResult {
    CniResult {
        cni_version: version.to_string(),
        interfaces: Vec::new(),
        ips: allocs
            .into_iter()
            .map(|a| IpConfig {
                address: a.address,
                gateway: Some(a.gateway),
                interface: None,
            })
            .collect(),
        routes,
        dns,
    }
}

impl Plugin for HostLocal {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = HostLocalConf::parse(&args.stdin)?;
        let add = conf.add_conf(&args.args)?;
        // Read before taking the lock: a bad file must change nothing.
        let dns = match &add.resolv_conf {
            Some(p) => read_resolv_conf(p)?,
            None => Default::default(),
        };
        let att = attachment(args);
        let allocs = with_store(&conf, |s| {
            ops::allocate(&add.ranges, s, &att, &add.requested).map_err(CniError::from)
        })?;
        Ok(ipam_result(conf.common.version(), allocs, add.routes, dns))
    }

    /// Reads only where the leases are: ranges and requests may have changed
    /// since the ADD, or been written for the reference.
    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = HostLocalConf::parse(&args.stdin)?;
        let att = attachment(args);
        with_store(&conf, |s| ops::release(s, &att).map_err(CniError::from))
    }

    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = HostLocalConf::parse(&args.stdin)?;
        let ranges = conf.ranges()?;
        let prev_ips = conf.prev_ips()?;
        let att = attachment(args);
        with_store(&conf, |s| {
            ops::check(&ranges, s, &att, prev_ips.as_deref()).map_err(CniError::from)
        })
    }

    fn status(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = HostLocalConf::parse(&args.stdin)?;
        let ranges = conf.ranges()?;
        with_store(&conf, |s| ops::status(&ranges, s).map_err(CniError::from))
    }

    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = HostLocalConf::parse(&args.stdin)?;
        // Without the list we cannot tell what is valid: release nothing.
        let Some(valid) = conf.common.valid_attachments()? else {
            return Ok(());
        };
        with_store(&conf, |s| {
            ops::gc(s, &valid).map(|_| ()).map_err(CniError::from)
        })
    }

    fn about(&self) -> String {
        format!(
            "{} supporting spec versions {}",
            cni_core::skel::about_text("host-local IPAM plugin"),
            cni_core::spec::version::ALL.join(", ")
        )
    }
}
