//! The host-local verbs over any [`Store`]: what ADD, DEL, CHECK, GC and
//! STATUS do to leases, and which CNI error code each failure carries.

use cni_core::error::{code, CniError};
use cni_core::ipam::addr::join;
use cni_core::ipam::allocator::{AllocError, Allocation, Allocator};
use cni_core::ipam::store::{Attachment, LeaseOwner, Store, StoreError};
use cni_core::ipam::RangeSet;
use std::net::IpAddr;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum OpError {
    #[error("failed to allocate for range {index}: {source}")]
    Alloc {
        index: usize,
        #[source]
        source: AllocError,
    },
    #[error("failed to allocate all requested IPs: {}", join(.0))]
    Unfulfilled(Vec<IpAddr>),
    #[error(
        "host-local: failed to find address added by container {container_id} (interface {ifname})"
    )]
    NotHeld {
        container_id: String,
        ifname: String,
    },
    #[error("host-local: {ip} from prevResult is not held by container {container_id} (interface {ifname})")]
    PrevNotHeld {
        ip: IpAddr,
        container_id: String,
        ifname: String,
    },
    #[error("no IP addresses available in range set {index}: {set}")]
    Unavailable { index: usize, set: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl OpError {
    /// The CNI error code. The spec defines none for an exhausted range:
    /// 11 (try again later) would promise that retrying helps, which it only
    /// does once someone releases an address, and runtimes that retry on 11
    /// would spin; so, like the reference, exhaustion and other conflicts with
    /// leases already held are the generic 999. A request that can never be met
    /// by this configuration is 7, storage failures are 5.
    pub fn code(&self) -> u32 {
        match self {
            OpError::Alloc { source, .. } => match source {
                AllocError::RequestedGateway { .. } | AllocError::NotInRangeSet { .. } => {
                    code::INVALID_NETWORK_CONFIG
                }
                AllocError::Store(_) => code::IO_FAILURE,
                AllocError::RequestedTaken { .. }
                | AllocError::Duplicate { .. }
                | AllocError::Exhausted { .. } => code::GENERIC,
            },
            OpError::Unfulfilled(_) => code::INVALID_NETWORK_CONFIG,
            OpError::NotHeld { .. } | OpError::PrevNotHeld { .. } => code::GENERIC,
            OpError::Unavailable { .. } => code::NOT_AVAILABLE,
            OpError::Store(_) => code::IO_FAILURE,
        }
    }
}

impl From<OpError> for CniError {
    fn from(e: OpError) -> Self {
        CniError::new(e.code(), e.to_string())
    }
}

/// ADD: one address from every range set, each requested address from the
/// set that contains it. On failure, frees what this call reserved.
pub fn allocate<S: Store + ?Sized>(
    sets: &[RangeSet],
    store: &mut S,
    att: &Attachment,
    requested: &[IpAddr],
) -> Result<Vec<Allocation>, OpError> {
    let mut pending: Vec<IpAddr> = Vec::with_capacity(requested.len());
    for ip in requested {
        if !pending.contains(ip) {
            pending.push(*ip);
        }
    }
    let mut done: Vec<Allocation> = Vec::with_capacity(sets.len());
    for (index, set) in sets.iter().enumerate() {
        let want = pending
            .iter()
            .position(|ip| set.contains(*ip))
            .map(|p| pending.remove(p));
        match Allocator::new(set, index, store).get(att, want) {
            Ok(a) => done.push(a),
            Err(source) => {
                undo(store, att, &done);
                return Err(OpError::Alloc { index, source });
            }
        }
    }
    if !pending.is_empty() {
        undo(store, att, &done);
        return Err(OpError::Unfulfilled(pending));
    }
    Ok(done)
}

fn undo<S: Store + ?Sized>(store: &mut S, att: &Attachment, done: &[Allocation]) {
    for a in done {
        // Best effort: the error being reported matters more than this one.
        let _ = store.release_ip(att, a.address.addr());
    }
}

/// DEL: frees everything the attachment holds; nothing held is success.
pub fn release<S: Store + ?Sized>(store: &mut S, att: &Attachment) -> Result<(), OpError> {
    store.release(att)?;
    Ok(())
}

/// CHECK: every address of `prev_ips` that lies in one of `sets` is still held
/// by the attachment; without a previous result, it holds at least one.
pub fn check<S: Store + ?Sized>(
    sets: &[RangeSet],
    store: &mut S,
    att: &Attachment,
    prev_ips: Option<&[IpAddr]>,
) -> Result<(), OpError> {
    let ours: Vec<IpAddr> = prev_ips
        .unwrap_or_default()
        .iter()
        .copied()
        .filter(|ip| sets.iter().any(|s| s.contains(*ip)))
        .collect();
    if ours.is_empty() {
        if store.ips_of(att)?.is_empty() {
            return Err(OpError::NotHeld {
                container_id: att.container_id.clone(),
                ifname: att.ifname.clone(),
            });
        }
        return Ok(());
    }
    for ip in ours {
        if !store.holder(ip)?.is_some_and(|o| o.matches(att)) {
            return Err(OpError::PrevNotHeld {
                ip,
                container_id: att.container_id.clone(),
                ifname: att.ifname.clone(),
            });
        }
    }
    Ok(())
}

/// GC: frees every lease whose holder is not among `valid`. A legacy lease
/// (container ID only) stays while any interface of its container is valid.
pub fn gc<S: Store + ?Sized>(
    store: &mut S,
    valid: &[Attachment],
) -> Result<Vec<(IpAddr, LeaseOwner)>, OpError> {
    let mut freed = Vec::new();
    for (ip, owner) in store.leases()? {
        if !valid.iter().any(|v| owner.matches(v)) {
            store.remove_lease(ip)?;
            freed.push((ip, owner));
        }
    }
    Ok(freed)
}

/// STATUS: ready when every range set still has a free address, since an ADD
/// needs one from each.
pub fn status<S: Store + ?Sized>(sets: &[RangeSet], store: &mut S) -> Result<(), OpError> {
    for (index, set) in sets.iter().enumerate() {
        let free = Allocator::new(set, index, store)
            .has_free()
            .map_err(|source| OpError::Alloc { index, source })?;
        if !free {
            return Err(OpError::Unavailable {
                index,
                set: set.to_string(),
            });
        }
    }
    Ok(())
}
