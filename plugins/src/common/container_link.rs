//! The container interface (`CNI_IFNAME`) of an attachment: its name must be
//! free before ADD, and DEL removes it.

use super::errors::AbsentOk;
use super::netns;
use cni_core::error::code;
use cni_core::net::{NetBackend, Netns};
use cni_core::skel::CmdArgs;
use cni_core::CniError;

/// ADD refuses to take over an interface name already used in the container.
/// Only "not found" means free: a look-up that failed for another reason
/// proves nothing, and going on could clobber an existing interface. The
/// refusal is 999, as the reference answers a duplicate ADD (the
/// differential tests compare the codes): no kernel operation failed.
pub fn ensure_free(container: &dyn Netns, args: &CmdArgs) -> Result<(), CniError> {
    let step = format!("looking up {} in {}", args.ifname, args.netns);
    match container.link_by_name(&args.ifname).absent_ok(&step)? {
        None => Ok(()),
        Some(_) => Err(CniError::new(
            code::GENERIC,
            format!(
                "container interface {} already exists in {}",
                args.ifname, args.netns
            ),
        )),
    }
}

/// DEL's first step for every plugin with a container interface: it goes
/// (for a veth, its host end with it); a namespace or interface already gone
/// is fine.
pub fn delete(backend: &dyn NetBackend, path: &str, ifname: &str) -> Result<(), CniError> {
    match netns::container_if_present(backend, path)? {
        Some(container) => delete_if_present(&*container, ifname),
        None => Ok(()),
    }
}

fn delete_if_present(ns: &dyn Netns, name: &str) -> Result<(), CniError> {
    let Some(link) = ns
        .link_by_name(name)
        .absent_ok(&format!("looking up {name}"))?
    else {
        return Ok(());
    };
    ns.delete_link(link.index)
        .absent_ok(&format!("deleting {name}"))
        .map(drop)
}
