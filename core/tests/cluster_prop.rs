//! Random interleavings of ADD, DEL, GC and dead-node cleanup from many
//! simulated hosts on one in-memory store: no address is ever held by two
//! attachments, a dual-stack attachment holds both addresses or none, a
//! retried ADD returns what the first one got, exhaustion is real, and GC
//! and node cleanup free exactly what they should.
//!
//! An action may carry a second one that runs between the first's reads and
//! its transaction — the window in which another host's change makes a
//! snapshot stale.

mod cluster_support;

use cluster_support::{check_invariants, keys, set, SimPace};
use cni_core::ipam::cluster::keys::{decode, Quarantine};
use cni_core::ipam::cluster::{Cluster, ClusterError, Keys, MemKv, Settings};
use cni_core::ipam::RangeSet;
use cni_core::spec::config::Attachment;
use proptest::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

const HOSTS: usize = 5;
const ATTACHMENTS: usize = 24;

#[derive(Debug, Clone)]
enum Verb {
    Add(usize),
    Del(usize),
    /// GC from host `.0`, keeping attachments whose bit is set in `.1`.
    Gc(usize, u32),
    ReleaseNode(usize),
}

fn verb() -> impl Strategy<Value = Verb> {
    prop_oneof![
        5 => (0..ATTACHMENTS).prop_map(Verb::Add),
        2 => (0..ATTACHMENTS).prop_map(Verb::Del),
        1 => (0..HOSTS, any::<u32>()).prop_map(|(h, m)| Verb::Gc(h, m)),
        1 => (0..HOSTS).prop_map(Verb::ReleaseNode),
    ]
}

/// Attachment `i` lives on host `i % HOSTS`: its ADDs and DELs come from there.
fn att(i: usize) -> Attachment {
    Attachment::new(format!("c{i}"), "eth0")
}

fn host_of(i: usize) -> usize {
    i % HOSTS
}

struct World {
    kv: MemKv,
    keys: Keys,
    sets: Vec<RangeSet>,
    settings: Vec<Settings>,
    pace: SimPace,
}

impl World {
    fn run(&self, verb: &Verb) -> Result<(), ClusterError> {
        let node = match verb {
            Verb::Add(i) | Verb::Del(i) => host_of(*i),
            Verb::Gc(h, _) | Verb::ReleaseNode(h) => *h,
        };
        let mut kv = self.kv.clone();
        let mut pace = self.pace.clone();
        let mut c = Cluster {
            kv: &mut kv,
            keys: &self.keys,
            settings: &self.settings[node],
            pace: &mut pace,
        };
        let before = check_invariants(&self.kv, &self.keys, &self.sets);
        match verb {
            Verb::Add(i) => {
                let key = self.keys.attachment(&att(*i));
                match c.add(&att(*i), &self.sets, &[]) {
                    Ok(got) => {
                        let after = check_invariants(&self.kv, &self.keys, &self.sets);
                        let rec = &after[&key];
                        let ips: Vec<_> = rec.ips.iter().map(|h| h.address).collect();
                        assert_eq!(got.iter().map(|a| a.address).collect::<Vec<_>>(), ips);
                        if let Some(old) = before.get(&key) {
                            assert_eq!(old, rec, "retried ADD changed the addresses");
                        }
                    }
                    Err(e @ ClusterError::Exhausted { index, .. }) => {
                        // Real: the set was full as the last attempt saw it,
                        // and no transaction has run since.
                        let blocked = self.blocked_in(&self.sets[index]);
                        assert!(
                            blocked >= capacity(&self.sets[index]),
                            "{e} with {blocked} blocked"
                        );
                    }
                    Err(e) => return Err(e),
                }
            }
            Verb::Del(i) => {
                c.del(&att(*i))?;
            }
            Verb::Gc(h, mask) => {
                let valid: Vec<Attachment> = (0..ATTACHMENTS)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(att)
                    .collect();
                let freed = c.gc(&valid)?;
                for a in &freed {
                    let i: usize = a.container_id[1..].parse().unwrap();
                    assert_eq!(host_of(i), *h);
                    assert!(!valid.contains(a));
                }
            }
            Verb::ReleaseNode(h) => {
                let node = self.settings[*h].node.clone();
                let freed = c.release_node(&node)?;
                for a in &freed {
                    let i: usize = a.container_id[1..].parse().unwrap();
                    assert_eq!(host_of(i), *h);
                }
            }
        }
        Ok(())
    }
}

impl World {
    /// Addresses of `set` held or still quarantined now.
    fn blocked_in(&self, set: &RangeSet) -> usize {
        let now = self.pace.0.get();
        let q = self.settings[0].quarantine_ms;
        self.kv
            .dump()
            .iter()
            .filter(|(k, v)| {
                let Some(ip) = self.keys.ip_of(k) else {
                    return false;
                };
                if !set.contains(ip) {
                    return false;
                }
                if k.starts_with(&self.keys.addrs()) {
                    return true;
                }
                let rec: Quarantine = decode(k, v).unwrap();
                rec.released + q > now
            })
            .count()
    }
}

/// Usable addresses of a one-range set: the range minus its gateway.
fn capacity(set: &RangeSet) -> usize {
    set.ranges
        .iter()
        .map(|r| {
            let n = cni_core::ipam::addr::to_u128(r.end) - cni_core::ipam::addr::to_u128(r.start);
            n as usize
        })
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]
    #[test]
    fn interleaved_hosts_never_share_an_address(
        steps in proptest::collection::vec((verb(), proptest::option::weighted(0.4, verb())), 1..60),
        dual_stack in any::<bool>(),
        quarantine in prop_oneof![Just(0u64), Just(50u64)],
    ) {
        // A /28 (13 usable) and, dual-stack, a /125 (6 usable): small enough
        // that exhaustion and the IPv6 set running out first both happen.
        let mut sets = vec![set("10.0.0.0/28")];
        if dual_stack {
            sets.push(set("fd00::/125"));
        }
        let world = Rc::new(World {
            kv: MemKv::new(),
            keys: keys(),
            sets,
            settings: (0..HOSTS)
                .map(|h| Settings { quarantine_ms: quarantine, ..Settings::new(format!("host{h}")) })
                .collect(),
            pace: SimPace::default(),
        });
        let errors = Rc::new(RefCell::new(Vec::new()));
        for (outer, inner) in steps {
            world.pace.0.set(world.pace.0.get() + 10);
            if let Some(inner) = inner {
                let (w, errs) = (Rc::clone(&world), Rc::clone(&errors));
                world.kv.interrupt_next_txn(move || {
                    if let Err(e) = w.run(&inner) {
                        errs.borrow_mut().push(e.to_string());
                    }
                });
            }
            if let Err(e) = world.run(&outer) {
                errors.borrow_mut().push(e.to_string());
            }
            world.kv.run_pending_interrupts();
            check_invariants(&world.kv, &world.keys, &world.sets);
        }
        // Only Exhausted is an expected failure, and it is handled in `run`.
        prop_assert!(errors.borrow().is_empty(), "{:?}", errors.borrow());
    }
}
