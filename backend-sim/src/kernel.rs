//! `SimKernel`: the shared in-memory kernel, its clock, fault injection and
//! operation log.

use crate::handle::SimNetns;
use crate::model::{Namespace, Net, NsId};
use cni_core::net::{NetBackend, NetError, NetErrorKind, NetResult, Netns, NsRef};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Every fallible trait operation, for fault injection and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SimOp {
    Open,
    Links,
    LinkByName,
    LinkByIndex,
    CreateBridge,
    CreateVeth,
    CreateMacvlan,
    DeleteLink,
    SetUp,
    SetMaster,
    SetMtu,
    SetMac,
    SetTxqueuelen,
    SetPromisc,
    SetHairpin,
    Rename,
    MoveTo,
    Addresses,
    AddAddress,
    DelAddress,
    Routes,
    AddRoute,
    DelRoute,
    SysctlGet,
    SysctlSet,
    MasqueradeAdd,
    MasqueradeCheck,
    MasqueradeDel,
    MasqueradeGc,
    MasqueradeList,
}

impl SimOp {
    /// Whether the operation can change kernel state.
    pub fn mutates(self) -> bool {
        !matches!(
            self,
            SimOp::Open
                | SimOp::Links
                | SimOp::LinkByName
                | SimOp::LinkByIndex
                | SimOp::Addresses
                | SimOp::Routes
                | SimOp::SysctlGet
                | SimOp::MasqueradeCheck
                | SimOp::MasqueradeList
        )
    }
}

/// One operation as it was attempted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpRecord {
    /// 1-based position among all operations since the kernel was made.
    pub seq: u64,
    pub op: SimOp,
    pub ns: NsRef,
    /// The error kind when it failed (injected or genuine).
    pub failed: Option<NetErrorKind>,
    pub injected: bool,
}

#[derive(Debug, Clone)]
enum Fault {
    AtSeq(u64, NetErrorKind),
    NextOf(SimOp, Option<NsId>, NetErrorKind),
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub net: Net,
    clock: Duration,
    ops: Vec<OpRecord>,
    faults: Vec<Fault>,
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

    /// The `n`th trait operation from now (1 = the next one) fails with
    /// `kind` and changes nothing.
    pub fn fail_nth(&self, n: u64, kind: NetErrorKind) {
        let mut inner = self.lock();
        let seq = inner.ops.len() as u64 + n.max(1);
        inner.faults.push(Fault::AtSeq(seq, kind));
    }

    /// The next `op` (in namespace `ns`, or anywhere when `None`) fails.
    pub fn fail_next(&self, op: SimOp, ns: Option<NsRef>, kind: NetErrorKind) {
        let ns = ns.as_ref().map(NsId::from_ref);
        self.lock().faults.push(Fault::NextOf(op, ns, kind));
    }

    /// Drops injected faults that have not fired yet.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// How many trait operations ran so far.
    pub fn op_count(&self) -> u64 {
        self.lock().ops.len() as u64
    }

    /// The log of every trait operation so far.
    pub fn ops(&self) -> Vec<OpRecord> {
        self.lock().ops.clone()
    }

    /// Runs one trait operation: logs it, fires a matching fault instead of
    /// running it, and rolls the state back when it fails.
    pub(crate) fn run<T>(
        &self,
        op: SimOp,
        ns: &NsId,
        body: impl FnOnce(&mut Net) -> NetResult<T>,
    ) -> NetResult<T> {
        let mut inner = self.lock();
        let seq = inner.ops.len() as u64 + 1;
        let fault = inner.faults.iter().position(|f| match f {
            Fault::AtSeq(s, _) => *s == seq,
            Fault::NextOf(o, fns, _) => *o == op && fns.as_ref().is_none_or(|f| f == ns),
        });
        let result = match fault {
            Some(i) => {
                let kind = match inner.faults.remove(i) {
                    Fault::AtSeq(_, k) | Fault::NextOf(_, _, k) => k,
                };
                Err((
                    NetError::new(
                        kind,
                        format!("injected fault: {op:?} in {} (op #{seq})", ns.label()),
                    ),
                    true,
                ))
            }
            None if op.mutates() => {
                let backup = inner.net.clone();
                let out = body(&mut inner.net);
                match out {
                    Ok(v) => {
                        crate::addrs::settle_link_local(&mut inner.net);
                        Ok(v)
                    }
                    Err(e) => {
                        inner.net = backup;
                        Err((e, false))
                    }
                }
            }
            None => body(&mut inner.net).map_err(|e| (e, false)),
        };
        inner.ops.push(OpRecord {
            seq,
            op,
            ns: ns.to_ref(),
            failed: result.as_ref().err().map(|(e, _)| e.kind),
            injected: result.as_ref().err().is_some_and(|(_, inj)| *inj),
        });
        result.map_err(|(e, _)| e)
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
        self.run(SimOp::Open, &id, |net| net.ns(&id).map(|_| ()))?;
        Ok(Box::new(SimNetns::new(self.clone(), id)))
    }
}
