//! A [`Store`] in memory, for tests and fuzzing of the allocator.

use super::store::{Attachment, LeaseOwner, Store, StoreError};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

#[derive(Debug, Clone, Default)]
pub struct MemStore {
    leases: BTreeMap<IpAddr, LeaseOwner>,
    last: HashMap<usize, IpAddr>,
}

impl MemStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a lease directly, as another implementation might have written it.
    pub fn insert(&mut self, ip: IpAddr, owner: LeaseOwner) -> bool {
        if self.leases.contains_key(&ip) {
            return false;
        }
        self.leases.insert(ip, owner);
        true
    }

    pub fn all(&self) -> &BTreeMap<IpAddr, LeaseOwner> {
        &self.leases
    }
}

impl Store for MemStore {
    fn reserve(
        &mut self,
        att: &Attachment,
        ip: IpAddr,
        range_set: usize,
    ) -> Result<bool, StoreError> {
        if !self.insert(ip, LeaseOwner::of(att)) {
            return Ok(false);
        }
        self.last.insert(range_set, ip);
        Ok(true)
    }

    fn last_reserved(&mut self, range_set: usize) -> Result<Option<IpAddr>, StoreError> {
        Ok(self.last.get(&range_set).copied())
    }

    fn ips_of(&mut self, att: &Attachment) -> Result<Vec<IpAddr>, StoreError> {
        Ok(self
            .leases
            .iter()
            .filter(|(_, o)| o.matches(att))
            .map(|(ip, _)| *ip)
            .collect())
    }

    fn holder(&mut self, ip: IpAddr) -> Result<Option<LeaseOwner>, StoreError> {
        Ok(self.leases.get(&ip).cloned())
    }

    fn release_ip(&mut self, att: &Attachment, ip: IpAddr) -> Result<(), StoreError> {
        if self.leases.get(&ip).is_some_and(|o| o.matches(att)) {
            self.leases.remove(&ip);
        }
        Ok(())
    }

    fn release(&mut self, att: &Attachment) -> Result<Vec<IpAddr>, StoreError> {
        let exact = LeaseOwner::of(att);
        let legacy = LeaseOwner {
            container_id: att.container_id.clone(),
            ifname: None,
        };
        let mut freed: Vec<IpAddr> = self
            .leases
            .iter()
            .filter(|(_, o)| **o == exact)
            .map(|(ip, _)| *ip)
            .collect();
        if freed.is_empty() {
            freed = self
                .leases
                .iter()
                .filter(|(_, o)| **o == legacy)
                .map(|(ip, _)| *ip)
                .collect();
        }
        for ip in &freed {
            self.leases.remove(ip);
        }
        Ok(freed)
    }

    fn leases(&mut self) -> Result<Vec<(IpAddr, LeaseOwner)>, StoreError> {
        Ok(self.leases.iter().map(|(ip, o)| (*ip, o.clone())).collect())
    }

    fn remove_lease(&mut self, ip: IpAddr) -> Result<(), StoreError> {
        self.leases.remove(&ip);
        Ok(())
    }
}
