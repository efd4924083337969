//! etcd-ipam: one address space for many hosts. The allocation logic is
//! cni-core's cluster allocator (`cni_core::ipam::cluster`); this crate reads
//! the configuration, talks to etcd, and offers the CNI verbs and the
//! operator's `release-node` command.

pub mod config;
pub mod etcd_kv;
pub mod plugin;
pub mod release;
