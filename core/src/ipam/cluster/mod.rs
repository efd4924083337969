//! The cluster allocator: one address space shared by many hosts through a
//! transactional key-value store (etcd in production, [`MemKv`] in tests),
//! with no global lock. Pure logic over the [`Kv`] trait; time and waiting
//! come from [`Pace`].
//!
//! - ADD claims every address of an attachment (one per range set) and the
//!   attachment's record in **one** transaction that requires all those keys
//!   to be absent: two hosts can never hold one address, and a dual-stack
//!   ADD is all or nothing. A retried ADD finds its record and returns it.
//! - DEL deletes the record and its addresses in one transaction guarded by
//!   the record's revision, and quarantines the addresses.
//! - Conflicts (another host won a candidate) are retried with jittered
//!   exponential backoff, a bounded number of times.
//!
//! Key layout: see [`keys`].

pub mod add;
pub mod error;
pub mod keys;
pub mod kv;
pub mod mem_kv;
pub mod pick;
pub mod verbs;

pub use error::ClusterError;
pub use keys::Keys;
pub use kv::{Compare, Entry, Kv, KvError, Op, Txn};
pub use mem_kv::MemKv;

use crate::spec::config::Attachment;

/// The clock and the waiting between attempts.
pub trait Pace {
    /// Unix milliseconds (quarantine times are compared across nodes).
    fn now_ms(&mut self) -> u64;
    fn sleep_ms(&mut self, ms: u64);
}

/// The wall clock and real sleeps.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealPace;

impl Pace for RealPace {
    fn now_ms(&mut self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    fn sleep_ms(&mut self, ms: u64) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// This node's allocator settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// This node's name, recorded with each attachment (GC and dead-node
    /// cleanup select by it).
    pub node: String,
    /// How long a freed address is not handed out again.
    pub quarantine_ms: u64,
    /// Transactions tried per verb before giving up on contention.
    pub max_attempts: u32,
    /// The first backoff; it doubles per attempt, jittered, capped at 64x.
    pub backoff_ms: u64,
}

impl Settings {
    pub fn new(node: impl Into<String>) -> Self {
        Settings {
            node: node.into(),
            quarantine_ms: 0,
            max_attempts: 16,
            backoff_ms: 5,
        }
    }
}

/// One network's allocator on one node.
pub struct Cluster<'a, K: Kv + ?Sized, P: Pace + ?Sized> {
    pub kv: &'a mut K,
    pub keys: &'a Keys,
    pub settings: &'a Settings,
    pub pace: &'a mut P,
}

impl<K: Kv + ?Sized, P: Pace + ?Sized> Cluster<'_, K, P> {
    /// Waits before attempt `attempt + 1`: base * 2^attempt (capped), times a
    /// random factor in [0.5, 1.5) so that the losers of one race do not meet
    /// again at the next.
    fn backoff(&mut self, attempt: u32, rng: &mut pick::Rng) {
        let base = self.settings.backoff_ms.saturating_mul(1 << attempt.min(6));
        let jitter = 500 + rng.next_u64() % 1000;
        self.pace.sleep_ms(base.saturating_mul(jitter) / 1000);
    }

    fn seed(&self, att: &Attachment) -> u64 {
        crate::hash::fnv1a64(&[
            self.settings.node.as_bytes(),
            att.container_id.as_bytes(),
            att.ifname.as_bytes(),
        ])
    }
}
