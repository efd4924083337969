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
        slug: "loopback",
        versions: &["1.0.0"],
        conf: || json!({"name": "lo-net", "type": "loopback"}),
        needs_uplink: false,
    },
];
