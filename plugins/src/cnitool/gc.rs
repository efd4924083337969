//! `cnitool gc`: one network or every network under NETCONFPATH, keeping the
//! attachments named with `--keep`/`--keep-netns` (containernetworking/cni
//! PR #1076, not merged upstream). Without any, nothing is kept: every cached
//! attachment of the networks is deleted.

use super::{absolute_path, container_id, CnitoolError};
use cni_core::libcni::{load_conf_list, load_networks, CniConfig, GcAttachment, LibcniError};
use std::path::{Path, PathBuf};

/// The attachments to keep: `CONTAINERID[:IFNAME]` (the interface defaults
/// to `ifname`) and the attachments `cnitool add` made for namespace paths.
pub fn keep_list(
    keep: &[String],
    keep_netns: &[PathBuf],
    ifname: &str,
) -> Result<Vec<GcAttachment>, CnitoolError> {
    let mut valid = Vec::new();
    for spec in keep {
        let (id, ifname) = spec.split_once(':').unwrap_or((spec, ifname));
        if id.is_empty() || ifname.is_empty() {
            return Err(CnitoolError::Keep(spec.clone()));
        }
        valid.push(GcAttachment {
            container_id: id.to_string(),
            ifname: ifname.to_string(),
        });
    }
    for netns in keep_netns {
        valid.push(GcAttachment {
            container_id: container_id(&absolute_path(netns)?),
            ifname: ifname.to_string(),
        });
    }
    Ok(valid)
}

/// GC `network`, or with `all` every network in `confdir` in one pass. A
/// configuration that does not load is reported after the others ran.
pub fn run(
    cni: &CniConfig<'_>,
    confdir: &Path,
    network: Option<&str>,
    all: bool,
    valid: &[GcAttachment],
) -> Result<(), CnitoolError> {
    if !all {
        // clap requires a network unless --all.
        let name = network.unwrap_or_default();
        let list = load_conf_list(confdir, name)?;
        return Ok(cni.gc_network_list(&list, Some(valid))?);
    }
    let (lists, mut errors) = load_networks(confdir)?;
    let refs: Vec<_> = lists.iter().collect();
    if let Err(e) = cni.gc_network_lists(&refs, Some(valid)) {
        errors.push(e);
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0).into()),
        _ => Err(LibcniError::Multiple(errors).into()),
    }
}
