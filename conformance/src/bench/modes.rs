//! What is attached: one main plugin with host-local, in the shapes a node
//! uses, or Podman's default chain through libcni; and the address plan each
//! implementation gets for it.

use super::step::{Probe, Step};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Bridge,
    BridgeMasq,
    DualStack,
    Ptp,
    Macvlan,
    Loopback,
    /// host-device: a host veth end per container moved in as `eth0`, with
    /// host-local, and back to the host on DEL.
    HostDevice,
    /// tap: a tap device made in the container as `eth0`, with host-local
    /// (the 1.1.1 reference has no tap plugin: ours and the floor only).
    Tap,
    /// The list `podman network create` writes (bridge with host-local and
    /// `ipMasq`, portmap, firewall, tuning), run by our libcni.
    PodmanChain,
    /// bridge with dhcp IPAM, leases from dnsmasq (`--no-ping`) through
    /// each implementation's own dhcp daemon.
    BridgeDhcp,
}

impl Mode {
    pub const ALL: [Mode; 10] = [
        Mode::Bridge,
        Mode::BridgeMasq,
        Mode::DualStack,
        Mode::Ptp,
        Mode::Macvlan,
        Mode::Loopback,
        Mode::HostDevice,
        Mode::Tap,
        Mode::PodmanChain,
        Mode::BridgeDhcp,
    ];

    /// The name on the command line, in the table and in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Bridge => "bridge",
            Mode::BridgeMasq => "bridge+ipMasq",
            Mode::DualStack => "bridge dual-stack",
            Mode::Ptp => "ptp",
            Mode::Macvlan => "macvlan",
            Mode::Loopback => "loopback",
            Mode::HostDevice => "host-device",
            Mode::Tap => "tap",
            Mode::PodmanChain => "podman chain (libcni)",
            Mode::BridgeDhcp => "bridge+dhcp",
        }
    }

    /// Accepts the table's names and short ones (`masq`, `dual`, `podman`).
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "masq" | "ipmasq" => Some(Mode::BridgeMasq),
            "dual" | "dual-stack" => Some(Mode::DualStack),
            "podman" | "chain" => Some(Mode::PodmanChain),
            "dhcp" => Some(Mode::BridgeDhcp),
            _ => Mode::ALL.into_iter().find(|m| m.name() == text),
        }
    }

    /// The plugin binary (the config's `type`; a chain's first plugin).
    pub fn plugin(self) -> &'static str {
        match self {
            Mode::Bridge
            | Mode::BridgeMasq
            | Mode::DualStack
            | Mode::PodmanChain
            | Mode::BridgeDhcp => "bridge",
            Mode::Ptp => "ptp",
            Mode::Macvlan => "macvlan",
            Mode::Loopback => "loopback",
            Mode::HostDevice => "host-device",
            Mode::Tap => "tap",
        }
    }

    pub fn has_bridge(self) -> bool {
        self.plugin() == "bridge"
    }

    pub fn ip_masq(self) -> bool {
        self == Mode::BridgeMasq
    }

    /// A network list run by libcni rather than one plugin run directly; the
    /// kernel floor has no counterpart for it.
    pub fn is_chain(self) -> bool {
        self == Mode::PodmanChain
    }

    /// Whether the kernel floor has a counterpart (it runs no chain and no
    /// DHCP exchange).
    pub fn has_floor(self) -> bool {
        !self.is_chain() && self != Mode::BridgeDhcp
    }
}

/// One implementation's network for one measurement: its own bridge, address
/// space (`10.<octet>.0.0/16`, `fd00:<octet>::/64`) and host-local `dataDir`,
/// so implementations never share state.
#[derive(Debug, Clone)]
pub struct Lan {
    pub octet: u8,
    pub bridge: String,
    /// The macvlan parent, a dummy link in the host namespace.
    pub parent: String,
    pub data_dir: PathBuf,
    /// The namespace that plays the host (where host devices return).
    pub host_netns: String,
    /// Host devices made for host-device mode, one per container index.
    pub host_devices: usize,
}

impl Lan {
    pub fn subnet4(&self) -> String {
        format!("10.{}.0.0/16", self.octet)
    }

    pub fn gateway4(&self) -> String {
        format!("10.{}.0.1", self.octet)
    }

    pub fn subnet6(&self) -> String {
        format!("fd00:{}::/64", self.octet)
    }

    pub fn gateway6(&self) -> String {
        format!("fd00:{}::1", self.octet)
    }

    /// Container `i`'s address when the floor picks it (host-local picks
    /// its own for the plugins); `.0.1` is the gateway.
    pub fn addr4(&self, i: usize) -> String {
        let n = i + 2;
        format!("10.{}.{}.{}", self.octet, n / 256, n % 256)
    }

    /// Where this network's dhcp daemon listens.
    pub fn dhcp_socket(&self) -> PathBuf {
        self.data_dir
            .with_file_name(format!("{}-dhcp.sock", self.bridge))
    }

    pub fn addr6(&self, i: usize) -> String {
        format!("fd00:{}::{:x}", self.octet, i + 2)
    }

    /// Container `i`'s host device in host-device mode (a veth end whose
    /// peer stays in the host).
    pub fn host_device(&self, i: usize) -> String {
        format!("{}d{i}", self.bridge)
    }

    /// Makes the host devices (not timed: a node has them before any ADD).
    pub fn create_host_devices(&self) -> Result<(), String> {
        let script: String = (0..self.host_devices)
            .map(|i| {
                let dev = self.host_device(i);
                let peer = format!("{}e{i}", self.bridge);
                format!("link add {dev} type veth peer name {peer}\n")
            })
            .collect();
        if script.is_empty() {
            return Ok(());
        }
        Step::tool("/usr/sbin/ip", &["-batch", "-"], script)
            .run(Probe::Timed)
            .map(drop)
    }

    /// Removes the host devices still in the host (one left in a container
    /// goes with the container's namespace).
    pub fn remove_host_devices(&self) {
        let script: String = (0..self.host_devices)
            .map(|i| format!("link del {}\n", self.host_device(i)))
            .collect();
        if !script.is_empty() {
            let _ =
                Step::tool("/usr/sbin/ip", &["-force", "-batch", "-"], script).run(Probe::Timed);
        }
    }

    /// The bridge is shared and never removed by a DEL: the attacher that
    /// made it removes it when done.
    pub fn remove_bridge(&self) {
        let _ = Step::tool("/usr/sbin/ip", &["link", "del", &self.bridge], "").run(Probe::Timed);
    }
}
