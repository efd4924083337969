//! Opening the namespaces a plugin works in.

use super::NetContext;
use cni_core::net::{NetBackend, Netns, NsRef};
use cni_core::CniError;

pub fn host(backend: &dyn NetBackend) -> Result<Box<dyn Netns>, CniError> {
    backend
        .open(&NsRef::Current)
        .ctx("opening the host network namespace")
}

pub fn container(backend: &dyn NetBackend, path: &str) -> Result<Box<dyn Netns>, CniError> {
    backend
        .open(&NsRef::path(path))
        .ctx(&format!("opening container network namespace {path:?}"))
}

/// For DEL: `None` when the namespace is already gone (nothing left to remove
/// inside it), an error only for anything else.
pub fn container_if_present(
    backend: &dyn NetBackend,
    path: &str,
) -> Result<Option<Box<dyn Netns>>, CniError> {
    if path.is_empty() {
        return Ok(None);
    }
    match backend.open(&NsRef::path(path)) {
        Ok(ns) => Ok(Some(ns)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(super::net_err(
            &format!("opening container network namespace {path:?}"),
            e,
        )),
    }
}

/// DEL of one link by name: absent is fine.
pub fn delete_link_if_present(ns: &dyn Netns, name: &str) -> Result<(), CniError> {
    match ns.link_by_name(name) {
        Ok(link) => match ns.delete_link(link.index) {
            Ok(()) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(super::net_err(&format!("deleting {name}"), e)),
        },
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(super::net_err(&format!("looking up {name}"), e)),
    }
}

/// DEL's first step for every plugin: the container interface goes (for a
/// veth, its host end with it); a namespace or interface already gone is fine.
pub fn delete_container_link(
    backend: &dyn NetBackend,
    path: &str,
    ifname: &str,
) -> Result<(), CniError> {
    match container_if_present(backend, path)? {
        Some(container) => delete_link_if_present(&*container, ifname),
        None => Ok(()),
    }
}
