//! The small transactional key-value interface the cluster allocator needs:
//! exactly the part of etcd's v3 API it uses (get, range by prefix, and one
//! transaction kind: all compares hold → apply every operation atomically).

use thiserror::Error;

/// A stored value and the revision of its last change (etcd's
/// `mod_revision`), which a later transaction can compare against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub value: Vec<u8>,
    pub mod_revision: i64,
}

/// A condition of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compare {
    /// The key does not exist (etcd: `create_revision == 0`).
    Absent(String),
    /// The key exists and was last changed at this revision.
    Unchanged(String, i64),
}

/// A change a transaction applies when all its compares hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Put(String, Vec<u8>),
    /// Deleting a missing key is not an error (as in etcd).
    Delete(String),
}

/// If every compare of `when` holds, apply all of `then` at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Txn {
    pub when: Vec<Compare>,
    pub then: Vec<Op>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KvError {
    /// The store cannot answer now (no endpoint reachable, no quorum, a
    /// timeout): the caller must not guess, and may try again later.
    #[error("{0}")]
    Unavailable(String),
    /// The store answered with a refusal (permissions, a malformed request).
    #[error("{0}")]
    Failed(String),
}

pub trait Kv {
    fn get(&mut self, key: &str) -> Result<Option<Entry>, KvError>;
    /// Every key starting with `prefix`, in key order.
    fn range(&mut self, prefix: &str) -> Result<Vec<(String, Entry)>, KvError>;
    /// Returns whether the compares held (and so the operations were applied).
    fn txn(&mut self, txn: Txn) -> Result<bool, KvError>;
}
