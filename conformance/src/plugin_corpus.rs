//! The plugin scenario corpus: one network config per plugin and option
//! set, with the spec versions it runs at. The simulator runs every one
//! (`sim_main_plugins.rs`), the kernel runs them too and must agree
//! (`sim_vs_kernel_plugins.rs`); the fault sweeps fail each operation of the
//! [`FAULT_CASES`] ADDs on both.

use serde_json::{json, Value};

pub struct Scenario {
    /// Names the snapshots: `<slug>-v<version>-add-result`, `<slug>-kernel-after-add`, ...
    pub slug: &'static str,
    pub versions: &'static [&'static str],
    pub conf: fn() -> Value,
    /// A host uplink for macvlan to sit on.
    pub needs_uplink: bool,
}

impl Scenario {
    /// The kernel module the scenario's link kind needs, for the link kinds
    /// a kernel may lack (this project's test machine has neither): on a
    /// kernel without it, the kernel runners check instead that ADD fails
    /// naming the module and leaves nothing behind.
    pub fn kernel_driver(&self) -> Option<&'static str> {
        driver_of(&(self.conf)())
    }
}

/// The module a config's plugin needs from the kernel, if it may lack it.
fn driver_of(conf: &Value) -> Option<&'static str> {
    match conf["type"].as_str()? {
        "ipvlan" => Some("ipvlan"),
        "vlan" => Some("8021q"),
        "dummy" => Some("dummy"),
        "vrf" => Some("vrf"),
        _ => None,
    }
}

/// The slugs of [`SCENARIOS`] that a test file's source never names.
pub fn scenarios_not_named_in(source: &str) -> Vec<&'static str> {
    SCENARIOS
        .iter()
        .map(|s| s.slug)
        .filter(|slug| !source.contains(&format!("\"{slug}\"")))
        .collect()
}

pub const ALL_VERSIONS: &[&str] = &["0.1.0", "0.2.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];
pub const VERSIONS_0_3_ON: &[&str] = &["0.3.1", "0.4.0", "1.0.0", "1.1.0"];

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        slug: "bridge-gateway-masq-default-route",
        versions: ALL_VERSIONS,
        conf: || {
            json!({"name": "br-net", "type": "bridge", "bridge": "cni0",
                "isGateway": true, "isDefaultGateway": true, "ipMasq": true,
                "ipam": {"type": "host-local", "subnet": "10.22.0.0/24"}})
        },
        needs_uplink: false,
    },
    Scenario {
        slug: "bridge-dual-stack-mtu1400",
        versions: &["0.2.0", "1.0.0"],
        conf: || {
            json!({"name": "br-ds", "type": "bridge", "bridge": "cni1", "isGateway": true,
                "mtu": 1400, "hairpinMode": true,
                "ipam": {"type": "host-local", "ranges": [
                    [{"subnet": "10.23.0.0/24"}], [{"subnet": "fd23::/64"}]]}})
        },
        needs_uplink: false,
    },
    Scenario {
        slug: "bridge-layer2",
        versions: &["1.1.0"],
        conf: || json!({"name": "br-l2", "type": "bridge", "bridge": "cni2", "ipam": {}}),
        needs_uplink: false,
    },
    Scenario {
        slug: "ptp-masq-default-route",
        versions: ALL_VERSIONS,
        conf: || {
            json!({"name": "ptp-net", "type": "ptp", "ipMasq": true,
                "ipam": {"type": "host-local", "subnet": "10.24.0.0/24",
                         "routes": [{"dst": "0.0.0.0/0"}]}})
        },
        needs_uplink: false,
    },
    Scenario {
        slug: "ptp-dual-stack",
        versions: &["0.2.0", "1.1.0"],
        conf: || {
            json!({"name": "ptp-ds", "type": "ptp", "mtu": 1400,
                "ipam": {"type": "host-local",
                         "ranges": [[{"subnet": "10.25.0.0/24"}], [{"subnet": "fd25::/64"}]],
                         "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]}})
        },
        needs_uplink: false,
    },
    Scenario {
        slug: "macvlan-bridge-mode",
        versions: VERSIONS_0_3_ON,
        conf: || {
            json!({"name": "mv-net", "type": "macvlan", "master": "uplink0", "mode": "bridge",
                "ipam": {"type": "host-local", "subnet": "10.26.0.0/24",
                         "routes": [{"dst": "0.0.0.0/0"}]}})
        },
        needs_uplink: true,
    },
    Scenario {
        slug: "bridge-port-guards",
        versions: &["1.0.0"],
        conf: || {
            json!({"name": "br-guard", "type": "bridge", "bridge": "cni3", "isGateway": true,
                "macspoofchk": true, "portIsolation": true, "vlan": 0,
                "ipam": {"type": "host-local", "subnet": "10.27.0.0/24"}})
        },
        needs_uplink: false,
    },
    Scenario {
        slug: "macvlan-bcqueuelen",
        versions: &["1.0.0"],
        conf: || {
            json!({"name": "mv-bcq", "type": "macvlan", "master": "uplink0", "mode": "bridge",
                "bcqueuelen": 200,
                "ipam": {"type": "host-local", "subnet": "10.28.0.0/24"}})
        },
        needs_uplink: true,
    },
    Scenario {
        slug: "host-device",
        versions: ALL_VERSIONS,
        conf: || {
            json!({"name": "hd-net", "type": "host-device", "device": "uplink1",
                "ipam": {"type": "host-local", "subnet": "10.29.0.0/24",
                         "routes": [{"dst": "0.0.0.0/0"}]}})
        },
        needs_uplink: true,
    },
    Scenario {
        slug: "ipvlan-l2",
        versions: ALL_VERSIONS,
        conf: || {
            json!({"name": "iv-net", "type": "ipvlan", "master": "uplink0",
                "ipam": {"type": "host-local", "subnet": "10.30.0.0/24",
                         "routes": [{"dst": "0.0.0.0/0"}]}})
        },
        needs_uplink: true,
    },
    Scenario {
        slug: "ipvlan-l3-dual-stack-mtu1400",
        versions: &["0.3.1", "1.1.0"],
        conf: || {
            json!({"name": "iv-l3", "type": "ipvlan", "master": "uplink0", "mode": "l3",
                "mtu": 1400,
                "ipam": {"type": "host-local",
                         "ranges": [[{"subnet": "10.31.0.0/24"}], [{"subnet": "fd31::/64"}]]}})
        },
        needs_uplink: true,
    },
    Scenario {
        slug: "vlan",
        versions: ALL_VERSIONS,
        conf: || {
            json!({"name": "vl-net", "type": "vlan", "master": "uplink0", "vlanId": 42,
                "ipam": {"type": "host-local", "subnet": "10.32.0.0/24",
                         "routes": [{"dst": "0.0.0.0/0"}]}})
        },
        needs_uplink: true,
    },
    Scenario {
        slug: "tap",
        versions: ALL_VERSIONS,
        conf: || {
            json!({"name": "tap-net", "type": "tap",
                "ipam": {"type": "host-local", "subnet": "10.34.0.0/24",
                         "routes": [{"dst": "0.0.0.0/0"}]}})
        },
        needs_uplink: false,
    },
    Scenario {
        slug: "tap-multiqueue-owner-dual-stack-mtu1400",
        versions: &["0.3.1", "1.1.0"],
        conf: || {
            json!({"name": "tap-mq", "type": "tap", "multiQueue": true,
                "owner": 1000, "group": 1001, "mtu": 1400,
                "ipam": {"type": "host-local", "ranges": [
                    [{"subnet": "10.35.0.0/24"}], [{"subnet": "fd35::/64"}]],
                         "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]}})
        },
        needs_uplink: false,
    },
    Scenario {
        slug: "tap-layer2-mac",
        versions: &["1.0.0"],
        conf: || {
            json!({"name": "tap-l2", "type": "tap", "owner": 0,
                "mac": "02:00:00:00:35:01"})
        },
        needs_uplink: false,
    },
    Scenario {
        slug: "vlan-mtu1400",
        versions: &["1.0.0"],
        conf: || {
            json!({"name": "vl-mtu", "type": "vlan", "master": "uplink0", "vlanId": 7,
                "mtu": 1400,
                "ipam": {"type": "host-local", "subnet": "10.33.0.0/24"}})
        },
        needs_uplink: true,
    },
    Scenario {
        slug: "dummy",
        versions: ALL_VERSIONS,
        conf: || {
            json!({"name": "dm-net", "type": "dummy",
                "ipam": {"type": "host-local", "subnet": "10.34.0.0/24",
                         "routes": [{"dst": "10.99.0.0/16"}]}})
        },
        needs_uplink: false,
    },
    Scenario {
        slug: "dummy-dual-stack",
        versions: &["0.3.1", "1.1.0"],
        conf: || {
            json!({"name": "dm-ds", "type": "dummy",
                "ipam": {"type": "host-local",
                         "ranges": [[{"subnet": "10.35.0.0/24"}], [{"subnet": "fd35::/64"}]]}})
        },
        needs_uplink: false,
    },
    Scenario {
        slug: "loopback",
        versions: VERSIONS_0_3_ON,
        conf: || json!({"name": "lo-net", "type": "loopback"}),
        needs_uplink: false,
    },
];

/// One per main plugin, with every option that adds steps (gateway, masquerade,
/// dual stack, routes), at 1.0.0: the fault sweeps fail each of its steps.
pub const FAULT_CASES: &[Scenario] = &[
    Scenario {
        slug: "bridge",
        versions: &["1.0.0"],
        conf: || {
            json!({"name": "br-net", "type": "bridge", "bridge": "cni0",
                "isGateway": true, "isDefaultGateway": true, "ipMasq": true,
                "macspoofchk": true, "portIsolation": true,
                "ipam": {"type": "host-local", "ranges": [
                    [{"subnet": "10.22.0.0/24"}], [{"subnet": "fd22::/64"}]]}})
        },
        needs_uplink: false,
    },
    Scenario {
        slug: "ptp",
        versions: &["1.0.0"],
        conf: || {
            json!({"name": "ptp-net", "type": "ptp", "ipMasq": true,
                "ipam": {"type": "host-local", "ranges": [
                    [{"subnet": "10.24.0.0/24"}], [{"subnet": "fd24::/64"}]],
                         "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]}})
        },
        needs_uplink: false,
    },
    Scenario {
        slug: "macvlan",
        versions: &["1.0.0"],
        conf: || {
            json!({"name": "mv-net", "type": "macvlan",
                "master": "uplink0", "bcqueuelen": 300,
                "ipam": {"type": "host-local", "subnet": "10.26.0.0/24",
                         "routes": [{"dst": "0.0.0.0/0"}]}})
        },
        needs_uplink: true,
    },
    Scenario {
        slug: "host-device",
        versions: &["1.0.0"],
        conf: || {
            json!({"name": "hd-net", "type": "host-device", "device": "uplink1",
                "ipam": {"type": "host-local", "ranges": [
                    [{"subnet": "10.29.0.0/24"}], [{"subnet": "fd29::/64"}]],
                         "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]}})
        },
        needs_uplink: true,
    },
    Scenario {
        slug: "ipvlan",
        versions: &["1.0.0"],
        conf: || {
            json!({"name": "iv-net", "type": "ipvlan", "master": "uplink0", "mode": "l3s",
                "ipam": {"type": "host-local", "ranges": [
                    [{"subnet": "10.30.0.0/24"}], [{"subnet": "fd30::/64"}]],
                         "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]}})
        },
        needs_uplink: true,
    },
    Scenario {
        slug: "vlan",
        versions: &["1.0.0"],
        conf: || {
            json!({"name": "vl-net", "type": "vlan", "master": "uplink0", "vlanId": 42,
                "mtu": 1400,
                "ipam": {"type": "host-local", "ranges": [
                    [{"subnet": "10.32.0.0/24"}], [{"subnet": "fd32::/64"}]],
                         "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]}})
        },
        needs_uplink: true,
    },
    Scenario {
        slug: "tap",
        versions: &["1.0.0"],
        conf: || {
            json!({"name": "tap-net", "type": "tap", "multiQueue": true, "mtu": 1400,
                "owner": 1000, "group": 1000,
                "ipam": {"type": "host-local", "ranges": [
                    [{"subnet": "10.36.0.0/24"}], [{"subnet": "fd36::/64"}]],
                         "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]}})
        },
        needs_uplink: false,
    },
    Scenario {
        slug: "dummy",
        versions: &["1.0.0"],
        conf: || {
            json!({"name": "dm-net", "type": "dummy",
                "ipam": {"type": "host-local", "ranges": [
                    [{"subnet": "10.34.0.0/24"}], [{"subnet": "fd34::/64"}]],
                         "routes": [{"dst": "10.99.0.0/16"}, {"dst": "fd99::/64"}]}})
        },
        needs_uplink: false,
    },
    Scenario {
        slug: "loopback",
        versions: &["1.0.0"],
        conf: || json!({"name": "lo-net", "type": "loopback"}),
        needs_uplink: false,
    },
];

/// A chained plugin's config, run after the [`FAULT_CASES`] ADD of `main`
/// with that ADD's result as `prevResult` (and `name` and `cniVersion` as
/// `main`'s); the fault sweeps fail each operation of its ADD alone.
pub struct ChainedCase {
    pub slug: &'static str,
    /// The slug of the main plugin's case in [`FAULT_CASES`].
    pub main: &'static str,
    pub conf: fn() -> Value,
    /// Sysctls (paths under /proc/sys) it changes in the host.
    pub host_sysctls: &'static [&'static str],
    /// Sysctls it changes in the container.
    pub container_sysctls: &'static [&'static str],
    /// The fewest backend operations a successful ADD runs.
    pub min_ops: u64,
}

impl ChainedCase {
    /// The kernel module it needs, as [`Scenario::kernel_driver`].
    pub fn kernel_driver(&self) -> Option<&'static str> {
        driver_of(&(self.conf)())
    }

    pub fn main_case(&self) -> &'static Scenario {
        FAULT_CASES
            .iter()
            .find(|c| c.slug == self.main)
            .unwrap_or_else(|| panic!("{}: no main case {:?}", self.slug, self.main))
    }

    /// The chained config after `main_conf`'s ADD printed `prev`.
    pub fn netconf(&self, main_conf: &Value, prev: &Value) -> Value {
        let mut conf = (self.conf)();
        conf["cniVersion"] = main_conf["cniVersion"].clone();
        conf["name"] = main_conf["name"].clone();
        conf["prevResult"] = prev.clone();
        conf
    }
}

/// One per chained plugin, with every option that adds steps, after the
/// dual-stack bridge with a default gateway (`bridge` of [`FAULT_CASES`]).
pub const CHAINED_FAULT_CASES: &[ChainedCase] = &[
    ChainedCase {
        slug: "portmap",
        main: "bridge",
        conf: || {
            json!({"type": "portmap", "runtimeConfig": {"portMappings": [
                {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
                {"hostPort": 5353, "containerPort": 53, "protocol": "udp"}]}})
        },
        host_sysctls: &["net/ipv4/conf/cni0/route_localnet"],
        container_sysctls: &[],
        min_ops: 4,
    },
    ChainedCase {
        slug: "firewall",
        main: "bridge",
        conf: || json!({"type": "firewall", "ingressPolicy": "same-bridge"}),
        host_sysctls: &[],
        container_sysctls: &[],
        min_ops: 2,
    },
    ChainedCase {
        slug: "tuning",
        main: "bridge",
        conf: || {
            json!({"type": "tuning",
                "sysctl": {"net.ipv4.conf.IFNAME.proxy_arp": "1", "net.core.somaxconn": "555"},
                "mac": "0a:00:00:00:bb:01", "mtu": 1400, "promisc": true, "allmulti": true,
                "txQLen": 2000})
        },
        host_sysctls: &[],
        container_sysctls: &["net/ipv4/conf/eth0/proxy_arp", "net/core/somaxconn"],
        min_ops: 9,
    },
    ChainedCase {
        slug: "bandwidth",
        main: "bridge",
        conf: || {
            json!({"type": "bandwidth", "ingressRate": 8_000_000, "ingressBurst": 80_000,
                "egressRate": 16_000_000, "egressBurst": 160_000})
        },
        host_sysctls: &[],
        container_sysctls: &[],
        min_ops: 6,
    },
    ChainedCase {
        slug: "vrf",
        main: "bridge",
        conf: || json!({"type": "vrf", "vrfname": "blue", "table": 100}),
        host_sysctls: &[],
        container_sysctls: &[],
        min_ops: 8,
    },
    ChainedCase {
        slug: "sbr",
        main: "bridge",
        conf: || json!({"type": "sbr"}),
        host_sysctls: &[],
        container_sysctls: &[],
        min_ops: 6,
    },
];
