//! [`Kv`] in memory with etcd's semantics (one revision counter for the
//! whole store, every applied transaction one revision), shared by any number
//! of handles, each playing a host. Tests interleave hosts by queueing work
//! that runs just before a handle's next transaction, which is exactly where
//! another host's change makes a snapshot stale.

use super::kv::{Compare, Entry, Kv, KvError, Op, Txn};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

#[derive(Debug, Default)]
struct State {
    data: BTreeMap<String, Entry>,
    revision: i64,
    txns: u64,
    failed_txns: u64,
}

type Interrupt = Box<dyn FnOnce()>;

/// A handle on a shared in-memory store.
#[derive(Clone, Default)]
pub struct MemKv {
    state: Rc<RefCell<State>>,
    interrupts: Rc<RefCell<VecDeque<Interrupt>>>,
    /// While set, every call fails as an unreachable store would.
    down: Rc<RefCell<bool>>,
}

impl MemKv {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` just before the next transaction of any handle of this store
    /// (after that operation's reads): `f` sees, and may change, the store
    /// between them.
    pub fn interrupt_next_txn(&self, f: impl FnOnce() + 'static) {
        self.interrupts.borrow_mut().push_back(Box::new(f));
    }

    /// Runs interruptions still queued (the operation they were meant to
    /// interrupt ended before its transaction).
    pub fn run_pending_interrupts(&self) {
        loop {
            let next = self.interrupts.borrow_mut().pop_front();
            match next {
                Some(f) => f(),
                None => break,
            }
        }
    }

    pub fn set_down(&self, down: bool) {
        *self.down.borrow_mut() = down;
    }

    /// Every key and value, for invariant checks.
    pub fn dump(&self) -> BTreeMap<String, Vec<u8>> {
        let s = self.state.borrow();
        s.data
            .iter()
            .map(|(k, e)| (k.clone(), e.value.clone()))
            .collect()
    }

    /// (transactions run, of which failed their compares).
    pub fn txn_counts(&self) -> (u64, u64) {
        let s = self.state.borrow();
        (s.txns, s.failed_txns)
    }

    fn check_up(&self) -> Result<(), KvError> {
        if *self.down.borrow() {
            return Err(KvError::Unavailable("in-memory store is down".into()));
        }
        Ok(())
    }
}

impl Kv for MemKv {
    fn get(&mut self, key: &str) -> Result<Option<Entry>, KvError> {
        self.check_up()?;
        Ok(self.state.borrow().data.get(key).cloned())
    }

    fn range(&mut self, prefix: &str) -> Result<Vec<(String, Entry)>, KvError> {
        self.check_up()?;
        let s = self.state.borrow();
        Ok(s.data
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect())
    }

    fn txn(&mut self, txn: Txn) -> Result<bool, KvError> {
        // Run queued interruptions with no borrow held: they use the store too.
        self.run_pending_interrupts();
        self.check_up()?;
        let mut s = self.state.borrow_mut();
        s.txns += 1;
        let holds = txn.when.iter().all(|c| match c {
            Compare::Absent(k) => !s.data.contains_key(k),
            Compare::Unchanged(k, rev) => s.data.get(k).is_some_and(|e| e.mod_revision == *rev),
        });
        if !holds {
            s.failed_txns += 1;
            return Ok(false);
        }
        s.revision += 1;
        let rev = s.revision;
        for op in txn.then {
            match op {
                Op::Put(k, value) => {
                    s.data.insert(
                        k,
                        Entry {
                            value,
                            mod_revision: rev,
                        },
                    );
                }
                Op::Delete(k) => {
                    s.data.remove(&k);
                }
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txn_applies_all_or_nothing_and_bumps_one_revision() {
        let mut kv = MemKv::new();
        let put = |k: &str| Op::Put(k.into(), b"v".to_vec());
        let ok = kv
            .txn(Txn {
                when: vec![Compare::Absent("a".into()), Compare::Absent("b".into())],
                then: vec![put("a"), put("b")],
            })
            .unwrap();
        assert!(ok);
        let rev = kv.get("a").unwrap().unwrap().mod_revision;
        assert_eq!(kv.get("b").unwrap().unwrap().mod_revision, rev);
        let again = kv
            .txn(Txn {
                when: vec![Compare::Absent("c".into()), Compare::Absent("b".into())],
                then: vec![put("c")],
            })
            .unwrap();
        assert!(!again);
        assert_eq!(kv.get("c").unwrap(), None);
        assert!(kv
            .txn(Txn {
                when: vec![Compare::Unchanged("a".into(), rev)],
                then: vec![Op::Delete("a".into()), Op::Delete("missing".into())],
            })
            .unwrap());
        assert_eq!(kv.range("").unwrap().len(), 1);
    }

    #[test]
    fn range_is_by_prefix_in_key_order() {
        let mut kv = MemKv::new();
        for k in ["p/b", "p/a", "q/a", "p"] {
            kv.txn(Txn {
                when: vec![],
                then: vec![Op::Put(k.into(), vec![])],
            })
            .unwrap();
        }
        let keys: Vec<String> = kv
            .range("p/")
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["p/a", "p/b"]);
    }

    #[test]
    fn interruption_runs_between_reads_and_the_txn() {
        let mut a = MemKv::new();
        let mut b = a.clone();
        a.interrupt_next_txn(move || {
            b.txn(Txn {
                when: vec![],
                then: vec![Op::Put("x".into(), vec![1])],
            })
            .unwrap();
        });
        assert_eq!(a.get("x").unwrap(), None);
        let won = a
            .txn(Txn {
                when: vec![Compare::Absent("x".into())],
                then: vec![Op::Put("x".into(), vec![2])],
            })
            .unwrap();
        assert!(!won);
        assert_eq!(a.dump()["x"], vec![1]);
    }
}
