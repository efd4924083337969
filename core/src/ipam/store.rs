//! Where leases live. The allocator only asks the questions the reference's
//! disk backend answers, so a store can answer each without looking at every
//! lease (except [`Store::leases`], which GC needs).

use std::net::IpAddr;
use std::path::PathBuf;
use thiserror::Error;

pub use crate::spec::config::Attachment;

/// The holder recorded in a lease. Very old reference versions wrote only the
/// container ID (`ifname` None); such a lease belongs to every interface of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LeaseOwner {
    pub container_id: String,
    pub ifname: Option<String>,
}

impl LeaseOwner {
    pub fn of(att: &Attachment) -> Self {
        LeaseOwner {
            container_id: att.container_id.clone(),
            ifname: Some(att.ifname.clone()),
        }
    }

    /// Whether this lease belongs to `att`, counting legacy ID-only leases.
    pub fn matches(&self, att: &Attachment) -> bool {
        self.container_id == att.container_id
            && self.ifname.as_deref().is_none_or(|i| i == att.ifname)
    }
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// Lease storage for one network. The caller holds whatever lock the store
/// needs for the whole operation.
pub trait Store {
    /// Records `ip` for `att` unless someone holds it; on success also records
    /// `ip` as the last address reserved in range set `range_set`.
    /// Returns false when `ip` was taken.
    fn reserve(
        &mut self,
        att: &Attachment,
        ip: IpAddr,
        range_set: usize,
    ) -> Result<bool, StoreError>;

    /// The last address reserved in range set `range_set`, if recorded.
    fn last_reserved(&mut self, range_set: usize) -> Result<Option<IpAddr>, StoreError>;

    /// Every address held by `att` (legacy ID-only leases of its container too).
    fn ips_of(&mut self, att: &Attachment) -> Result<Vec<IpAddr>, StoreError>;

    /// Who holds `ip`, if anyone.
    fn holder(&mut self, ip: IpAddr) -> Result<Option<LeaseOwner>, StoreError>;

    /// Frees `ip` if `att` holds it (undoing a reservation).
    fn release_ip(&mut self, att: &Attachment, ip: IpAddr) -> Result<(), StoreError>;

    /// Frees everything `att` holds, as the reference does: its exact leases,
    /// or, when it has none, the legacy ID-only leases of its container.
    fn release(&mut self, att: &Attachment) -> Result<Vec<IpAddr>, StoreError>;

    /// Every lease (GC needs them all).
    fn leases(&mut self) -> Result<Vec<(IpAddr, LeaseOwner)>, StoreError>;

    /// Frees `ip` whoever holds it (GC).
    fn remove_lease(&mut self, ip: IpAddr) -> Result<(), StoreError>;
}
