//! The benchmark: ADD, CHECK and DEL of each main plugin with host-local and
//! of Podman's default chain through libcni, ours
//! side by side with the reference plugins and with the kernel floor (the
//! same netlink work as `ip -batch`), in one run, reported as ratios: one
//! container at a time, many ADDs at once, and with many containers already
//! attached. Real namespaces; the machine's own namespace is never touched.
//! What is measured is an [`attach::Attacher`]; Podman's default chain run
//! by our libcni is one ([`chain::ChainAttacher`]), a bridge with dhcp IPAM
//! against dnsmasq through each implementation's own daemon another
//! ([`dhcp::DhcpAttacher`]).

pub mod attach;
pub mod chain;
pub mod concurrency;
pub mod density;
pub mod dhcp;
pub mod floor;
pub mod goals;
pub mod latency;
pub mod masq;
pub mod measure;
pub mod memory;
pub mod modes;
pub mod ratios;
pub mod report;
pub mod scenario;
pub mod step;

pub use report::Report;
pub use scenario::{run, BenchConfig};
