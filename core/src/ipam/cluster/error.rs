//! What can go wrong in the cluster allocator, and the CNI code of each.

use super::keys::CorruptRecord;
use super::kv::KvError;
use crate::error::{code, CniError};
use crate::ipam::addr::join;
use std::net::IpAddr;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ClusterError {
    #[error("etcd-ipam: store unavailable, nothing allocated (try again later): {0}")]
    Unavailable(String),
    #[error("etcd-ipam: store refused the request: {0}")]
    Refused(String),
    #[error("no IP addresses available in range set {index}: {set}")]
    Exhausted { index: usize, set: String },
    #[error("requested IP address {ip} is held by container {holder}")]
    RequestedTaken { ip: IpAddr, holder: String },
    #[error(
        "requested IP address {ip} is quarantined until {until_ms} (unix ms) after its release"
    )]
    RequestedQuarantined { ip: IpAddr, until_ms: u64 },
    #[error("failed to allocate all requested IPs: {}", join(.0))]
    Unfulfilled(Vec<IpAddr>),
    #[error("etcd-ipam: gave up after {attempts} attempts that conflicted with other allocators (try again later)")]
    Contended { attempts: u32 },
    #[error("etcd-ipam: container {container_id} (interface {ifname}) already holds addresses, allocated by node {node}")]
    HeldByOtherNode {
        container_id: String,
        ifname: String,
        node: String,
    },
    #[error("etcd-ipam: container {container_id} (interface {ifname}) holds no addresses")]
    NotHeld {
        container_id: String,
        ifname: String,
    },
    #[error("etcd-ipam: {ip} from prevResult is not held by container {container_id} (interface {ifname})")]
    PrevNotHeld {
        ip: IpAddr,
        container_id: String,
        ifname: String,
    },
    #[error("etcd-ipam: {ip} of container {container_id} (interface {ifname}) is recorded as held by {holder}")]
    Inconsistent {
        ip: IpAddr,
        container_id: String,
        ifname: String,
        holder: String,
    },
    #[error("no IP addresses available in range set {index}: {set}")]
    Full { index: usize, set: String },
    #[error("etcd-ipam: {0}")]
    Corrupt(#[from] CorruptRecord),
}

impl From<KvError> for ClusterError {
    fn from(e: KvError) -> Self {
        match e {
            KvError::Unavailable(m) => ClusterError::Unavailable(m),
            KvError::Failed(m) => ClusterError::Refused(m),
        }
    }
}

impl ClusterError {
    /// As host-local: exhaustion and conflicts with held addresses are the
    /// generic 999 (retrying does not help until someone releases), a request
    /// the configuration cannot meet is 7. A store that cannot answer is 11:
    /// nothing was allocated and a retry may succeed; so is giving up on
    /// contention. STATUS's "full" is 50.
    pub fn code(&self) -> u32 {
        match self {
            ClusterError::Unavailable(_) | ClusterError::Contended { .. } => code::TRY_AGAIN_LATER,
            ClusterError::Refused(_) | ClusterError::Corrupt(_) => code::IO_FAILURE,
            ClusterError::Unfulfilled(_) => code::INVALID_NETWORK_CONFIG,
            ClusterError::Full { .. } => code::NOT_AVAILABLE,
            ClusterError::Exhausted { .. }
            | ClusterError::RequestedTaken { .. }
            | ClusterError::RequestedQuarantined { .. }
            | ClusterError::HeldByOtherNode { .. }
            | ClusterError::NotHeld { .. }
            | ClusterError::PrevNotHeld { .. }
            | ClusterError::Inconsistent { .. } => code::GENERIC,
        }
    }
}

impl From<ClusterError> for CniError {
    fn from(e: ClusterError) -> Self {
        CniError::new(e.code(), e.to_string())
    }
}
