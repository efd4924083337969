//! The `dhcp` IPAM plugin and its daemon. The plugin forwards each CNI verb
//! over a unix socket to the daemon, which leases addresses from the
//! network's DHCP servers (DHCPv4 and DHCPv6) from inside the container's
//! namespace and keeps them alive; the protocol logic is core's sans-IO
//! `dhcp` client, this crate only wires it to sockets, timers, link events
//! and the disk.

pub mod config;
pub mod daemon;
pub mod options;
pub mod plugin;
pub mod protocol;
pub mod result;
