//! DEL, CHECK, GC, dead-node cleanup and STATUS.

use super::error::ClusterError;
use super::keys::{decode, encode, AddrOwner, AttachmentRecord, Quarantine};
use super::kv::{Compare, Kv, Op, Txn};
use super::pick::{pick, Rng};
use super::{Cluster, Pace};
use crate::ipam::addr::canonical;
use crate::ipam::range::RangeSet;
use crate::spec::config::Attachment;
use std::collections::HashSet;
use std::net::IpAddr;

impl<K: Kv + ?Sized, P: Pace + ?Sized> Cluster<'_, K, P> {
    /// DEL: frees what `att` holds (quarantining it); holding nothing is
    /// success. Returns the addresses freed.
    pub fn del(&mut self, att: &Attachment) -> Result<Vec<IpAddr>, ClusterError> {
        let att_key = self.keys.attachment(att);
        let mut rng = Rng::new(self.seed(att) ^ 0xde1);
        for attempt in 0..self.settings.max_attempts {
            let Some(entry) = self.kv.get(&att_key)? else {
                return Ok(Vec::new());
            };
            let rec: AttachmentRecord = decode(&att_key, &entry.value)?;
            // The record's revision guards its addresses too: ADD creates an
            // address key only if absent and DEL removes it only with its
            // record, so while the record is unchanged its addresses are ours.
            let mut txn = Txn {
                when: vec![Compare::Unchanged(att_key.clone(), entry.mod_revision)],
                then: vec![Op::Delete(att_key.clone())],
            };
            let released = encode(&Quarantine {
                released: self.pace.now_ms(),
            });
            let ips: Vec<IpAddr> = rec.ips.iter().map(|h| h.address.addr()).collect();
            for ip in &ips {
                txn.then.push(Op::Delete(self.keys.addr(*ip)));
                if self.settings.quarantine_ms > 0 {
                    txn.then
                        .push(Op::Put(self.keys.quarantine(*ip), released.clone()));
                }
            }
            if self.kv.txn(txn)? {
                return Ok(ips);
            }
            self.backoff(attempt, &mut rng);
        }
        Err(ClusterError::Contended {
            attempts: self.settings.max_attempts,
        })
    }

    /// CHECK: the attachment holds addresses, every one recorded as its own,
    /// and every address of `prev_ips` inside `sets` among them.
    pub fn check(
        &mut self,
        att: &Attachment,
        sets: &[RangeSet],
        prev_ips: Option<&[IpAddr]>,
    ) -> Result<(), ClusterError> {
        let att_key = self.keys.attachment(att);
        let not_held = || ClusterError::NotHeld {
            container_id: att.container_id.clone(),
            ifname: att.ifname.clone(),
        };
        let entry = self.kv.get(&att_key)?.ok_or_else(not_held)?;
        let rec: AttachmentRecord = decode(&att_key, &entry.value)?;
        let held: Vec<IpAddr> = rec.ips.iter().map(|h| h.address.addr()).collect();
        for ip in &held {
            let key = self.keys.addr(*ip);
            let holder = match self.kv.get(&key)? {
                Some(e) => decode::<AddrOwner>(&key, &e.value)?,
                None => {
                    return Err(ClusterError::Inconsistent {
                        ip: *ip,
                        container_id: att.container_id.clone(),
                        ifname: att.ifname.clone(),
                        holder: "nobody".into(),
                    })
                }
            };
            if !holder.is(att) {
                return Err(ClusterError::Inconsistent {
                    ip: *ip,
                    container_id: att.container_id.clone(),
                    ifname: att.ifname.clone(),
                    holder: format!("{} (interface {})", holder.container_id, holder.ifname),
                });
            }
        }
        for ip in prev_ips.unwrap_or_default().iter().map(|ip| canonical(*ip)) {
            if sets.iter().any(|s| s.contains(ip)) && !held.contains(&ip) {
                return Err(ClusterError::PrevNotHeld {
                    ip,
                    container_id: att.container_id.clone(),
                    ifname: att.ifname.clone(),
                });
            }
        }
        Ok(())
    }

    /// Every attachment recorded by `node`.
    pub fn attachments_of(&mut self, node: &str) -> Result<Vec<Attachment>, ClusterError> {
        let mut out = Vec::new();
        for (key, entry) in self.kv.range(&self.keys.attachments())? {
            let rec: AttachmentRecord = decode(&key, &entry.value)?;
            if rec.node == node {
                if let Some(att) = self.keys.attachment_of(&key) {
                    out.push(att);
                }
            }
        }
        Ok(out)
    }

    /// GC: frees this node's attachments that are not in `valid`, and drops
    /// quarantine entries that have expired. Returns what was freed.
    pub fn gc(&mut self, valid: &[Attachment]) -> Result<Vec<Attachment>, ClusterError> {
        let node = self.settings.node.clone();
        let stale: Vec<Attachment> = self
            .attachments_of(&node)?
            .into_iter()
            .filter(|a| !valid.contains(a))
            .collect();
        for att in &stale {
            self.del(att)?;
        }
        self.sweep_quarantine()?;
        Ok(stale)
    }

    /// Frees everything a (dead) node held. Returns what was freed.
    pub fn release_node(&mut self, node: &str) -> Result<Vec<Attachment>, ClusterError> {
        let held = self.attachments_of(node)?;
        for att in &held {
            self.del(att)?;
        }
        Ok(held)
    }

    fn sweep_quarantine(&mut self) -> Result<(), ClusterError> {
        let now = self.pace.now_ms();
        for (key, entry) in self.kv.range(&self.keys.quarantines())? {
            let q: Quarantine = decode(&key, &entry.value)?;
            if q.released.saturating_add(self.settings.quarantine_ms) <= now {
                // Lost to a concurrent reuse or release: theirs is newer.
                self.kv.txn(Txn {
                    when: vec![Compare::Unchanged(key.clone(), entry.mod_revision)],
                    then: vec![Op::Delete(key)],
                })?;
            }
        }
        Ok(())
    }

    /// STATUS: every range set still has a free address (an ADD needs one
    /// from each).
    pub fn status(&mut self, sets: &[RangeSet]) -> Result<(), ClusterError> {
        let now = self.pace.now_ms();
        let mut blocked: HashSet<IpAddr> = HashSet::new();
        for (key, _) in self.kv.range(&self.keys.addrs())? {
            blocked.extend(self.keys.ip_of(&key));
        }
        for (key, entry) in self.kv.range(&self.keys.quarantines())? {
            let q: Quarantine = decode(&key, &entry.value)?;
            if q.released.saturating_add(self.settings.quarantine_ms) > now {
                blocked.extend(self.keys.ip_of(&key));
            }
        }
        let mut rng = Rng::new(now);
        for (index, set) in sets.iter().enumerate() {
            if pick(set, &blocked, &mut rng).is_none() {
                return Err(ClusterError::Full {
                    index,
                    set: set.to_string(),
                });
            }
        }
        Ok(())
    }
}
