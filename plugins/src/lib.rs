//! The plugins' logic, generic over the `NetBackend`. Each binary in `src/bin`
//! only picks the Linux backend and hands over to skel.

pub mod bandwidth;
pub mod binary;
pub mod bridge;
pub mod build_stamp;
pub mod cnitool;
pub mod common;
pub mod dummy;
pub mod firewall;
pub mod fuzz;
pub mod host_device;
pub mod host_local;
pub mod ipvlan;
pub mod logging;
pub mod loopback;
pub mod macvlan;
pub mod portmap;
pub mod ptp;
pub mod sbr;
pub mod static_ipam;
pub mod tap;
pub mod tuning;
pub mod vlan;
pub mod vrf;
