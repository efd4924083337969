//! The kernel floor: for each mode, the links, addresses and routes the
//! plugin makes, made by `ip -batch` (one batch in the host, one in the
//! container), removed by `ip link del`; with `ipMasq`, the masquerade rule
//! by `nft`. CHECK's floor is one dump of the container's addresses and routes.

use super::attach::{Attacher, Container};
use super::masq::NftFloor;
use super::modes::{Lan, Mode};
use super::step::{Outcome, Probe, Step};

const IP: &str = "/usr/sbin/ip";

pub struct FloorAttacher {
    label: String,
    mode: Mode,
    lan: Lan,
    nft: Option<NftFloor>,
}

impl FloorAttacher {
    /// Makes what a first ADD would make once (the bridge, the nat chain).
    pub fn create(label: String, mode: Mode, lan: Lan) -> Result<FloorAttacher, String> {
        if !mode.has_floor() {
            return Err(format!("the floor has no counterpart for {}", mode.name()));
        }
        if mode.has_bridge() {
            let br = &lan.bridge;
            let mut setup = format!(
                "link add {br} type bridge\naddr add {}/16 dev {br}\n",
                lan.gateway4()
            );
            if mode == Mode::DualStack {
                setup += &format!("addr add {}/64 dev {br} nodad\n", lan.gateway6());
            }
            setup += &format!("link set {br} up\n");
            Step::tool(IP, &["-batch", "-"], setup).run(Probe::Timed)?;
        }
        let nft = if mode.ip_masq() {
            Some(NftFloor::create(
                format!("{}nat", lan.bridge),
                lan.subnet4(),
            )?)
        } else {
            None
        };
        Ok(FloorAttacher {
            label,
            mode,
            lan,
            nft,
        })
    }

    /// The host's batch and the container's batch of container `i`.
    fn batches(&self, c: Container) -> (String, String) {
        let (lan, i) = (&self.lan, c.index);
        let veth = format!("vf{}x{i}", lan.octet);
        let (addr, gw) = (lan.addr4(i), lan.gateway4());
        let veth_pair = format!(
            "link add {veth} type veth peer name eth0 netns {}\n",
            c.netns
        );
        let container_v4 =
            format!("addr add {addr}/16 dev eth0\nlink set eth0 up\nroute add default via {gw}\n");
        match self.mode {
            Mode::Bridge | Mode::BridgeMasq | Mode::PodmanChain | Mode::BridgeDhcp => (
                format!("{veth_pair}link set {veth} master {} up\n", lan.bridge),
                container_v4,
            ),
            Mode::DualStack => (
                format!("{veth_pair}link set {veth} master {} up\n", lan.bridge),
                format!(
                    "{container_v4}addr add {}/64 dev eth0 nodad\nroute add default via {}\n",
                    lan.addr6(i),
                    lan.gateway6()
                ),
            ),
            Mode::Ptp => (
                format!("{veth_pair}addr add {gw}/32 dev {veth}\nlink set {veth} up\nroute add {addr}/32 dev {veth}\n"),
                format!("addr add {addr}/32 dev eth0\nlink set eth0 up\nroute add {gw}/32 dev eth0\nroute add default via {gw} dev eth0\n"),
            ),
            Mode::Macvlan => (
                format!("link add link {} name eth0 netns {} type macvlan mode bridge\n", lan.parent, c.netns),
                container_v4,
            ),
            Mode::Loopback => (String::new(), "link set lo up\n".to_string()),
            Mode::HostDevice => (
                format!("link set {} netns {} name eth0\n", lan.host_device(i), c.netns),
                format!("addr add {addr}/16 dev eth0\nlink set eth0 up\n"),
            ),
        }
    }

    fn in_container(c: Container, script: &str) -> Step {
        Step::tool(IP, &["-n", c.netns, "-batch", "-"], script)
    }
}

impl Attacher for FloorAttacher {
    fn label(&self) -> &str {
        &self.label
    }

    fn add(&self, c: Container, probe: Probe) -> Result<Outcome, String> {
        let (host, container) = self.batches(c);
        let mut steps = Vec::new();
        if !host.is_empty() {
            steps.push(Step::tool(IP, &["-batch", "-"], host));
        }
        steps.push(Self::in_container(c, &container));
        if let Some(nft) = &self.nft {
            steps.push(nft.add_step(&self.lan.addr4(c.index), c.index));
        }
        Outcome::of_steps(&steps, probe)
    }

    fn check(&self, c: Container, _added: &[u8], probe: Probe) -> Result<Outcome, String> {
        let dev = if self.mode == Mode::Loopback {
            "lo"
        } else {
            "eth0"
        };
        Self::in_container(c, &format!("addr show dev {dev}\nroute show\n")).run(probe)
    }

    fn del(&self, c: Container, added: &[u8], probe: Probe) -> Result<Outcome, String> {
        let mut steps = vec![if self.mode == Mode::Loopback {
            Step::tool(IP, &["-n", c.netns, "link", "set", "lo", "down"], "")
        } else if self.mode == Mode::HostDevice {
            let back = format!(
                "link set eth0 down\naddr flush dev eth0\nlink set eth0 netns {} name {}\n",
                self.lan.host_netns,
                self.lan.host_device(c.index)
            );
            Self::in_container(c, &back)
        } else {
            Step::tool(IP, &["-n", c.netns, "link", "del", "eth0"], "")
        }];
        if let Some(nft) = &self.nft {
            steps.push(nft.del_step(added)?);
        }
        Outcome::of_steps(&steps, probe)
    }
}

impl Drop for FloorAttacher {
    fn drop(&mut self) {
        if self.mode.has_bridge() {
            self.lan.remove_bridge();
        }
        self.lan.remove_host_devices();
    }
}
