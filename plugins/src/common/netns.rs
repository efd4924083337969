//! Opening the namespaces a plugin works in.

use super::errors::{AbsentOk, NetContext};
use cni_core::net::{NetBackend, Netns, NsRef};
use cni_core::CniError;

pub fn host(backend: &dyn NetBackend) -> Result<Box<dyn Netns>, CniError> {
    backend
        .open(&NsRef::Current)
        .ctx("opening the host network namespace")
}

pub fn container(backend: &dyn NetBackend, path: &str) -> Result<Box<dyn Netns>, CniError> {
    backend.open(&NsRef::path(path)).ctx(&container_step(path))
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
    backend
        .open(&NsRef::path(path))
        .absent_ok(&container_step(path))
}

fn container_step(path: &str) -> String {
    format!("opening container network namespace {path:?}")
}
