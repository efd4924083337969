//! The benchmark: ADD and DEL of bridge + host-local, ours side by side with
//! the reference plugins and with the kernel floor (the same netlink work as
//! `ip -batch`), in one run, reported as ratios. Real namespaces; the machine's
//! own namespace is never touched.

pub mod masq;
pub mod measure;
pub mod memory;
pub mod report;
pub mod scenario;

pub use report::Report;
pub use scenario::{run, BenchConfig};
