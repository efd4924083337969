//! The CNI verbs: configuration read, etcd connected, then the cluster
//! allocator of cni-core.

use crate::config::EtcdConf;
use crate::etcd_kv::EtcdKv;
use cni_core::error::code;
use cni_core::ipam::cluster::{Cluster, ClusterError, RealPace};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::spec::config::Attachment;
use cni_core::{CniError, CniResult};
use cni_plugins::host_local::dns::read_resolv_conf;
use cni_plugins::host_local::plugin::ipam_result;

#[derive(Debug, Default, Clone, Copy)]
pub struct EtcdIpam;

/// Runs `f` on this network's allocator, connected to etcd.
pub fn with_cluster<T>(
    conf: &EtcdConf,
    f: impl FnOnce(&mut Cluster<'_, EtcdKv, RealPace>) -> Result<T, ClusterError>,
) -> Result<T, CniError> {
    let mut kv = EtcdKv::connect(&conf.etcd).map_err(ClusterError::from)?;
    let mut pace = RealPace;
    let mut cluster = Cluster {
        kv: &mut kv,
        keys: &conf.keys,
        settings: &conf.settings,
        pace: &mut pace,
    };
    Ok(f(&mut cluster)?)
}

fn attachment(args: &CmdArgs) -> Attachment {
    Attachment::new(args.container_id.clone(), args.ifname.clone())
}

impl Plugin for EtcdIpam {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = EtcdConf::parse(&args.stdin)?;
        let add = conf.net.add_conf(&args.args)?;
        let dns = match &add.resolv_conf {
            Some(p) => read_resolv_conf(p)?,
            None => Default::default(),
        };
        let att = attachment(args);
        let allocs = with_cluster(&conf, |c| c.add(&att, &add.ranges, &add.requested))?;
        Ok(ipam_result(
            conf.net.common.version(),
            allocs,
            add.routes,
            dns,
        ))
    }

    /// Reads only where the store is: ranges may have changed since the ADD.
    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = EtcdConf::parse(&args.stdin)?;
        let att = attachment(args);
        with_cluster(&conf, |c| c.del(&att).map(|_| ()))
    }

    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = EtcdConf::parse(&args.stdin)?;
        let ranges = conf.net.ranges()?;
        let prev = conf.net.prev_ips()?;
        let att = attachment(args);
        with_cluster(&conf, |c| c.check(&att, &ranges, prev.as_deref()))
    }

    /// Not ready (50) when a range set is full or the store does not answer.
    fn status(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = EtcdConf::parse(&args.stdin)?;
        let ranges = conf.net.ranges()?;
        with_cluster(&conf, |c| c.status(&ranges)).map_err(|e| {
            if e.code == code::TRY_AGAIN_LATER || e.code == code::IO_FAILURE {
                CniError::new(code::NOT_AVAILABLE, e.msg)
            } else {
                e
            }
        })
    }

    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = EtcdConf::parse(&args.stdin)?;
        // Without the list we cannot tell what is valid: release nothing.
        let Some(valid) = conf.net.common.valid_attachments()? else {
            return Ok(());
        };
        let freed = with_cluster(&conf, |c| c.gc(&valid))?;
        for a in freed {
            tracing::info!(
                "gc: freed container {} interface {}",
                a.container_id,
                a.ifname
            );
        }
        Ok(())
    }

    fn about(&self) -> String {
        "CNI etcd-ipam plugin (cni-rs): cluster-wide IPAM on etcd, supporting spec versions 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0".to_string()
    }
}
