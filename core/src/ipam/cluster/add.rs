//! ADD: claim one address per range set and the attachment's record in one
//! transaction.

use super::error::ClusterError;
use super::keys::{decode, encode, AddrOwner, AttachmentRecord, HeldAddr, Quarantine};
use super::kv::{Compare, Entry, Kv, Op, Txn};
use super::pick::{pick, Rng};
use super::{Cluster, Pace};
use crate::ipam::allocator::Allocation;
use crate::ipam::range::RangeSet;
use crate::spec::config::Attachment;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

/// The store as one attempt saw it.
struct Snapshot {
    held: HashMap<IpAddr, AddrOwner>,
    /// Quarantined addresses: the entry (for the compare) and until when.
    quarantined: HashMap<IpAddr, (Entry, u64)>,
}

/// Which requested address (if any) each range set must give; requests no
/// set takes are an error before anything is read.
fn assign_requests(
    sets: &[RangeSet],
    requested: &[IpAddr],
) -> Result<Vec<Option<IpAddr>>, ClusterError> {
    let mut pending: Vec<IpAddr> = Vec::with_capacity(requested.len());
    for ip in requested {
        if !pending.contains(ip) {
            pending.push(*ip);
        }
    }
    let wanted = sets
        .iter()
        .map(|set| {
            pending
                .iter()
                .position(|ip| set.contains(*ip))
                .map(|p| pending.remove(p))
        })
        .collect();
    if !pending.is_empty() {
        return Err(ClusterError::Unfulfilled(pending));
    }
    Ok(wanted)
}

impl<K: Kv + ?Sized, P: Pace + ?Sized> Cluster<'_, K, P> {
    /// ADD. Returns the attachment's addresses, the same ones on a retry.
    pub fn add(
        &mut self,
        att: &Attachment,
        sets: &[RangeSet],
        requested: &[IpAddr],
    ) -> Result<Vec<Allocation>, ClusterError> {
        let wanted = assign_requests(sets, requested)?;
        let att_key = self.keys.attachment(att);
        let mut rng = Rng::new(self.seed(att));
        for attempt in 0..self.settings.max_attempts {
            if let Some(found) = self.existing(att, &att_key)? {
                return Ok(found);
            }
            let snap = self.snapshot()?;
            let now = self.pace.now_ms();
            let mut record = AttachmentRecord {
                node: self.settings.node.clone(),
                ips: Vec::with_capacity(sets.len()),
                created: now,
            };
            let owner = encode(&AddrOwner {
                container_id: att.container_id.clone(),
                ifname: att.ifname.clone(),
                node: self.settings.node.clone(),
            });
            let mut txn = Txn {
                when: vec![Compare::Absent(att_key.clone())],
                then: Vec::new(),
            };
            let mut chosen: HashSet<IpAddr> = HashSet::new();
            for (index, set) in sets.iter().enumerate() {
                let ip = match wanted[index] {
                    Some(ip) => self.requested_free(ip, &snap, now)?,
                    None => {
                        let mut blocked: HashSet<IpAddr> = snap.held.keys().copied().collect();
                        blocked.extend(
                            snap.quarantined
                                .iter()
                                .filter(|(_, (_, until))| *until > now)
                                .map(|(ip, _)| *ip),
                        );
                        blocked.extend(chosen.iter().copied());
                        pick(set, &blocked, &mut rng).ok_or_else(|| ClusterError::Exhausted {
                            index,
                            set: set.to_string(),
                        })?
                    }
                };
                chosen.insert(ip);
                // The range exists: `pick` and the request check stay inside the set.
                let Some(range) = set.range_for(ip) else {
                    return Err(ClusterError::Unfulfilled(vec![ip]));
                };
                record.ips.push(HeldAddr {
                    address: range.with_prefix(ip),
                    gateway: range.gateway,
                });
                let addr_key = self.keys.addr(ip);
                txn.when.push(Compare::Absent(addr_key.clone()));
                txn.then.push(Op::Put(addr_key, owner.clone()));
                // An expired quarantine is consumed; one that appeared since
                // the snapshot (a concurrent release) makes the txn fail.
                let q_key = self.keys.quarantine(ip);
                match snap.quarantined.get(&ip) {
                    Some((entry, _)) => {
                        txn.when
                            .push(Compare::Unchanged(q_key.clone(), entry.mod_revision));
                        txn.then.push(Op::Delete(q_key));
                    }
                    None => txn.when.push(Compare::Absent(q_key)),
                }
            }
            txn.then.push(Op::Put(att_key.clone(), encode(&record)));
            if self.kv.txn(txn)? {
                return Ok(record.ips.iter().map(allocation).collect());
            }
            self.backoff(attempt, &mut rng);
        }
        // A last look: the conflicting writer may have been our own retry.
        if let Some(found) = self.existing(att, &att_key)? {
            return Ok(found);
        }
        Err(ClusterError::Contended {
            attempts: self.settings.max_attempts,
        })
    }

    /// The addresses an earlier ADD of this attachment recorded.
    fn existing(
        &mut self,
        att: &Attachment,
        att_key: &str,
    ) -> Result<Option<Vec<Allocation>>, ClusterError> {
        let Some(entry) = self.kv.get(att_key)? else {
            return Ok(None);
        };
        let rec: AttachmentRecord = decode(att_key, &entry.value)?;
        if rec.node != self.settings.node {
            return Err(ClusterError::HeldByOtherNode {
                container_id: att.container_id.clone(),
                ifname: att.ifname.clone(),
                node: rec.node,
            });
        }
        Ok(Some(rec.ips.iter().map(allocation).collect()))
    }

    fn snapshot(&mut self) -> Result<Snapshot, ClusterError> {
        let mut held = HashMap::new();
        for (key, entry) in self.kv.range(&self.keys.addrs())? {
            if let Some(ip) = self.keys.ip_of(&key) {
                held.insert(ip, decode(&key, &entry.value)?);
            }
        }
        let mut quarantined = HashMap::new();
        for (key, entry) in self.kv.range(&self.keys.quarantines())? {
            if let Some(ip) = self.keys.ip_of(&key) {
                let q: Quarantine = decode(&key, &entry.value)?;
                let until = q.released.saturating_add(self.settings.quarantine_ms);
                quarantined.insert(ip, (entry, until));
            }
        }
        Ok(Snapshot { held, quarantined })
    }

    fn requested_free(
        &self,
        ip: IpAddr,
        snap: &Snapshot,
        now: u64,
    ) -> Result<IpAddr, ClusterError> {
        if let Some(owner) = snap.held.get(&ip) {
            return Err(ClusterError::RequestedTaken {
                ip,
                holder: format!("{} (interface {})", owner.container_id, owner.ifname),
            });
        }
        if let Some((_, until)) = snap.quarantined.get(&ip) {
            if *until > now {
                return Err(ClusterError::RequestedQuarantined {
                    ip,
                    until_ms: *until,
                });
            }
        }
        Ok(ip)
    }
}

pub(super) fn allocation(h: &HeldAddr) -> Allocation {
    Allocation {
        address: h.address,
        gateway: h.gateway,
    }
}
