//! `SimKernel`: the shared in-memory kernel and its clock. Fault injection
//! wraps any backend, this one included (`cni_conformance::faults`).

use crate::handle::SimNetns;
use crate::model::{Namespace, Net, NsId};
use cni_core::net::{NetBackend, NetError, NetResult, Netns, NsRef};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub net: Net,
    clock: Duration,
}

/// An in-memory Linux kernel. Clones share the same kernel.
#[derive(Debug, Clone)]
pub struct SimKernel {
    inner: Arc<Mutex<Inner>>,
}

impl Default for SimKernel {
    fn default() -> Self {
        Self::new()
    }
}

impl SimKernel {
    /// A kernel with only the host namespace (what `NsRef::Current` opens).
    pub fn new() -> Self {
        let mut inner = Inner::default();
        inner.net.namespaces.insert(NsId::Host, Namespace::new());
        SimKernel {
            inner: Arc::new(Mutex::new(inner)),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not make every later assertion panic too.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a namespace at `path` (like `ip netns add`), returning its ref.
    pub fn add_netns(&self, path: impl AsRef<Path>) -> NetResult<NsRef> {
        let id = NsId::Path(path.as_ref().to_path_buf());
        let mut inner = self.lock();
        if inner.net.namespaces.contains_key(&id) {
            return Err(NetError::exists(format!(
                "network namespace {} already exists",
                id.label()
            )));
        }
        inner.net.namespaces.insert(id.clone(), Namespace::new());
        Ok(id.to_ref())
    }

    /// Deletes a namespace and its links; veth peers elsewhere go with them.
    pub fn del_netns(&self, path: impl AsRef<Path>) -> NetResult<()> {
        let id = NsId::Path(path.as_ref().to_path_buf());
        let mut inner = self.lock();
        let indexes: Vec<u32> = inner.net.ns(&id)?.links.keys().copied().collect();
        for index in indexes {
            crate::links::remove_link(&mut inner.net, &(id.clone(), index));
        }
        inner.net.namespaces.remove(&id);
        Ok(())
    }

    /// Paths of the namespaces other than the host, sorted.
    pub fn netns_paths(&self) -> Vec<std::path::PathBuf> {
        self.lock()
            .net
            .namespaces
            .keys()
            .filter_map(|id| match id {
                NsId::Path(p) => Some(p.clone()),
                NsId::Host => None,
            })
            .collect()
    }

    /// The simulated monotonic clock.
    pub fn now(&self) -> Duration {
        self.lock().clock
    }

    pub fn advance(&self, by: Duration) {
        let mut inner = self.lock();
        inner.clock = inner.clock.saturating_add(by);
    }

    /// Reads the kernel.
    pub(crate) fn read<T>(&self, body: impl FnOnce(&Net) -> NetResult<T>) -> NetResult<T> {
        body(&self.lock().net)
    }

    /// Changes the kernel as one step: a failed operation leaves no trace, as
    /// a netlink request the kernel refuses changes nothing.
    pub(crate) fn write<T>(&self, body: impl FnOnce(&mut Net) -> NetResult<T>) -> NetResult<T> {
        let mut inner = self.lock();
        let backup = inner.net.clone();
        match body(&mut inner.net) {
            Ok(v) => {
                crate::addrs::settle_link_local(&mut inner.net);
                Ok(v)
            }
            Err(e) => {
                inner.net = backup;
                Err(e)
            }
        }
    }

    /// The whole kernel as stable text: namespaces by path (host first),
    /// links by name, then addresses, routes, non-default sysctls, masquerade.
    pub fn snapshot(&self) -> String {
        crate::render::kernel(&self.lock().net, crate::render::Detail::Full)
    }

    /// The kernel without ifindexes and MACs, comparable with a real kernel.
    pub fn snapshot_normalized(&self) -> String {
        crate::render::kernel(&self.lock().net, crate::render::Detail::Normalized)
    }

    /// One namespace as stable text.
    pub fn snapshot_ns(&self, ns: &NsRef) -> NetResult<String> {
        let inner = self.lock();
        crate::render::namespace(&inner.net, &NsId::from_ref(ns), crate::render::Detail::Full)
    }

    pub fn snapshot_ns_normalized(&self, ns: &NsRef) -> NetResult<String> {
        let inner = self.lock();
        crate::render::namespace(
            &inner.net,
            &NsId::from_ref(ns),
            crate::render::Detail::Normalized,
        )
    }
}

impl NetBackend for SimKernel {
    fn open(&self, ns: &NsRef) -> NetResult<Box<dyn Netns>> {
        let id = NsId::from_ref(ns);
        self.read(|net| net.ns(&id).map(|_| ()))?;
        Ok(Box::new(SimNetns::new(self.clone(), id)))
    }
}
