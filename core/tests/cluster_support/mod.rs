//! Shared by the cluster allocator's tests: a simulated clock, range sets,
//! and the store invariants every test checks.

#![allow(dead_code)]

use cni_core::ipam::cluster::keys::{decode, AddrOwner, AttachmentRecord};
use cni_core::ipam::cluster::{Keys, MemKv, Pace};
use cni_core::ipam::config::validate_range_set;
use cni_core::ipam::{RangeSet, RangeSpec};
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::rc::Rc;

/// A clock that moves only when told (sleeps advance it).
#[derive(Clone, Default)]
pub struct SimPace(pub Rc<Cell<u64>>);

impl Pace for SimPace {
    fn now_ms(&mut self) -> u64 {
        self.0.get()
    }
    fn sleep_ms(&mut self, ms: u64) {
        self.0.set(self.0.get() + ms);
    }
}

pub fn set(subnet: &str) -> RangeSet {
    let spec = RangeSpec {
        subnet: Some(subnet.into()),
        ..Default::default()
    };
    validate_range_set(&[spec], "ipam", true).unwrap()
}

pub fn keys() -> Keys {
    Keys::new("/cni-rs/ipam/net1/")
}

/// Every record, checked for consistency: each address key's owner has a
/// record listing that address, each record's addresses point back to it,
/// one address per range set, no address twice. Returns attachment key →
/// record.
pub fn check_invariants(
    kv: &MemKv,
    keys: &Keys,
    sets: &[RangeSet],
) -> BTreeMap<String, AttachmentRecord> {
    let dump = kv.dump();
    let mut records = BTreeMap::new();
    let mut owners: HashMap<IpAddr, AddrOwner> = HashMap::new();
    for (k, v) in &dump {
        if k.starts_with(&keys.attachments()) {
            records.insert(k.clone(), decode::<AttachmentRecord>(k, v).unwrap());
        } else if k.starts_with(&keys.addrs()) {
            owners.insert(keys.ip_of(k).unwrap(), decode(k, v).unwrap());
        }
    }
    let mut seen: HashMap<IpAddr, String> = HashMap::new();
    for (k, rec) in &records {
        let att = keys.attachment_of(k).unwrap();
        assert_eq!(
            rec.ips.len(),
            sets.len(),
            "{k}: not one address per range set"
        );
        for (i, h) in rec.ips.iter().enumerate() {
            let ip = h.address.addr();
            assert!(sets[i].contains(ip), "{k}: {ip} outside set {i}");
            if let Some(other) = seen.insert(ip, k.clone()) {
                panic!("{ip} held by {other} and {k}");
            }
            let owner = owners
                .get(&ip)
                .unwrap_or_else(|| panic!("{k}: {ip} has no addr key"));
            assert!(owner.is(&att), "{ip}: addr key names {owner:?}, record {k}");
            assert_eq!(owner.node, rec.node);
        }
    }
    for ip in owners.keys() {
        assert!(seen.contains_key(ip), "addr key {ip} without a record");
    }
    records
}
