//! portmap, firewall, tuning, bandwidth and sbr configurations from a
//! grammar of each plugin's keys, chained after a synthetic main plugin:
//! `prevResult` names the links [`super::chained`] makes in each side's
//! namespaces (bridge [`BRIDGE`], host veth [`HOST_VETH`], container
//! `eth0`), at the case's version, IPv4, IPv6 or both, sometimes missing,
//! of the wrong type, with no address or no interface index. Values come
//! on and past their bounds and as other JSON types; a key is sometimes
//! respelled in another case, a value replaced by `null` or a wrong type.
//! `@DATADIR@` stands for each side's data directory, `@NETNS@` for its
//! container namespace.

use super::grammar::VERSIONS;
use super::main_grammar::respell_a_key;
use super::rng::Rng;
use super::Case;
use cni_core::CniResult;
use serde_json::{json, Map, Value};

/// The links every case's `prevResult` names, made by the target.
pub const BRIDGE: &str = "cdbr0";
pub const HOST_VETH: &str = "vethcd0";
pub const BRIDGE_MAC: &str = "0a:58:0a:58:00:ff";
pub const HOST_MAC: &str = "0a:58:0a:58:00:01";
pub const CONTAINER_MAC: &str = "0a:58:0a:58:00:02";
pub const V4: (&str, &str) = ("10.88.0.2/24", "10.88.0.1");
pub const V6: (&str, &str) = ("fd88::2/64", "fd88::1");

/// The chained plugins the grammar knows.
pub const PLUGINS: [&str; 5] = ["portmap", "firewall", "tuning", "bandwidth", "sbr"];

/// `CNI_IFNAME`: the container end, one that is not there, one too long.
const IFNAMES: [&str; 10] = [
    "eth0",
    "eth0",
    "eth0",
    "eth0",
    "eth0",
    "eth0",
    "eth0",
    "eth0",
    "eth1",
    "abcdefghijklmnop",
];

/// The sysctls tuning's cases write: per namespace (never the machine's),
/// through `IFNAME`, with slashes, outside `net`, missing.
pub const SYSCTL_KEYS: [&str; 8] = [
    "net.ipv4.conf.eth0.proxy_arp",
    "net.ipv4.conf.IFNAME.arp_ignore",
    "net.core.somaxconn",
    "net.ipv4.ip_forward",
    "net/ipv6/conf/eth0/accept_ra",
    "net.ipv4.conf.eth0.no_such_key",
    "kernel.cni_fuzz_no_such_key",
    "net.ipv4.conf.eth0..proxy_arp",
];

/// Where [`SYSCTL_KEYS`] land when written, read back for the state.
pub const SYSCTL_FILES: [&str; 5] = [
    "net/ipv4/conf/eth0/proxy_arp",
    "net/ipv4/conf/eth0/arp_ignore",
    "net/core/somaxconn",
    "net/ipv4/ip_forward",
    "net/ipv6/conf/eth0/accept_ra",
];

fn flag(rng: &mut Rng) -> Value {
    rng.pick(&[
        json!(true),
        json!(true),
        json!(false),
        json!("true"),
        json!(1),
    ])
    .clone()
}

/// A value of another JSON type than any key expects, or `null`.
fn odd_value(rng: &mut Rng) -> Value {
    rng.pick(&[Value::Null, json!("x"), json!(-1), json!([]), json!({})])
        .clone()
}

/// The synthetic previous result, at 1.0.0: the bridge, the host veth and
/// the container end, addresses of `families` on the container end, a
/// default route per family.
fn prev_result(rng: &mut Rng) -> Value {
    let families: &[(&str, &str)] = match rng.below(10) {
        0..=4 => &[V4],
        5..=6 => &[V4, V6],
        7..=8 => &[V6],
        _ => &[],
    };
    let no_index = rng.chance(8);
    let ips: Vec<Value> = families
        .iter()
        .map(|(addr, gw)| {
            let mut ip = json!({ "address": addr, "gateway": gw });
            if !no_index {
                ip["interface"] = json!(2);
            }
            ip
        })
        .collect();
    let routes: Vec<Value> = families
        .iter()
        .map(|(_, gw)| {
            let dst = if gw.contains(':') {
                "::/0"
            } else {
                "0.0.0.0/0"
            };
            json!({ "dst": dst, "gw": gw })
        })
        .collect();
    json!({
        "cniVersion": "1.0.0",
        "interfaces": [
            { "name": BRIDGE, "mac": BRIDGE_MAC },
            { "name": HOST_VETH, "mac": HOST_MAC },
            { "name": "eth0", "mac": CONTAINER_MAC, "sandbox": "@NETNS@" },
        ],
        "ips": ips,
        "routes": routes,
        "dns": {},
    })
}

/// `prev` at `version` as a runtime hands it on (a 0.1.0/0.2.0 result
/// has no interfaces); unchanged when it cannot be converted.
fn at_version(prev: Value, version: &str) -> Value {
    let target = if version.is_empty() { "0.1.0" } else { version };
    CniResult::from_value(prev.clone(), "1.0.0")
        .and_then(|r| r.to_value_at(target))
        .unwrap_or(prev)
}

fn put(conf: &mut Map<String, Value>, key: &str, value: Value) {
    conf.insert(key.to_string(), value);
}

fn port_mapping(rng: &mut Rng) -> Value {
    let mut m = Map::new();
    // Mostly a mapping that works, so the rest of the config runs.
    let good = rng.chance(75);
    let host_ports = [
        json!(8080),
        json!(0),
        json!(-1),
        json!(70000),
        json!("8080"),
    ];
    let container_ports = [json!(80), json!(0), json!(-1), json!("80")];
    let protocols = ["tcp", "udp", "TCP", "sctp", "bogus", ""];
    let host_ips = ["", "", "", "127.0.0.1", "::1", V4.1, V6.1, "bogus"];
    let host_ports = if good {
        &host_ports[..1]
    } else {
        &host_ports[..]
    };
    let container_ports = if good {
        &container_ports[..1]
    } else {
        &container_ports[..]
    };
    let protocols = if good {
        &protocols[..2]
    } else {
        &protocols[..]
    };
    if rng.chance(95) {
        put(&mut m, "hostPort", rng.pick(host_ports).clone());
    }
    if rng.chance(95) {
        put(&mut m, "containerPort", rng.pick(container_ports).clone());
    }
    if rng.chance(90) {
        put(&mut m, "protocol", json!(rng.pick(protocols)));
    }
    let host_ip = *rng.pick(&host_ips);
    if !host_ip.is_empty() || rng.chance(10) {
        put(&mut m, "hostIP", json!(host_ip));
    }
    Value::Object(m)
}

fn portmap_keys(conf: &mut Map<String, Value>, rng: &mut Rng) {
    if rng.chance(85) {
        let n = rng.below(3);
        let maps: Vec<Value> = (0..n).map(|_| port_mapping(rng)).collect();
        put(conf, "runtimeConfig", json!({ "portMappings": maps }));
        put(conf, "capabilities", json!({ "portMappings": true }));
    }
    if rng.chance(25) {
        put(conf, "snat", flag(rng));
    }
    if rng.chance(10) {
        put(conf, "masqAll", flag(rng));
    }
    if rng.chance(15) {
        let bits = [json!(13), json!(0), json!(31), json!(32), json!(-1)];
        put(conf, "markMasqBit", rng.pick(&bits).clone());
    }
    if rng.chance(8) {
        put(conf, "externalSetMarkChain", json!("KUBE-MARK-MASQ"));
    }
    for key in ["conditionsV4", "conditionsV6"] {
        if rng.chance(8) {
            let conditions = [json!([]), json!(["-s", "192.0.2.0/24"]), json!(null)];
            put(conf, key, rng.pick(&conditions).clone());
        }
    }
    if rng.chance(15) {
        let backends = [json!("nftables"), json!("iptables"), json!("bogus")];
        put(conf, "backend", rng.pick(&backends).clone());
    }
}

fn firewall_keys(conf: &mut Map<String, Value>, rng: &mut Rng) {
    if rng.chance(30) {
        let backends = [
            json!("nftables"),
            json!("iptables"),
            json!("firewalld"),
            json!("bogus"),
        ];
        put(conf, "backend", rng.pick(&backends).clone());
    }
    if rng.chance(50) {
        let policies = [
            json!("open"),
            json!("same-bridge"),
            json!("same-bridge"),
            json!("isolated"),
            json!(""),
            json!("bogus"),
        ];
        put(conf, "ingressPolicy", rng.pick(&policies).clone());
    }
    if rng.chance(20) {
        let chains = [json!("CNI-ADMIN"), json!("MY-ADMIN"), json!("")];
        put(conf, "iptablesAdminChainName", rng.pick(&chains).clone());
    }
    if rng.chance(10) {
        put(conf, "firewalldZone", json!("trusted"));
    }
}

fn sysctls(rng: &mut Rng) -> Value {
    let values = [
        json!("1"),
        json!("1"),
        json!("2"),
        json!("555"),
        json!("abc"),
        json!(5),
    ];
    let mut map = Map::new();
    for _ in 0..1 + rng.below(2) {
        // Mostly keys the kernel has, so the rest of the config runs.
        let key = if rng.chance(75) {
            SYSCTL_KEYS[rng.below(4)]
        } else {
            *rng.pick(&SYSCTL_KEYS)
        };
        let value = if key.ends_with("somaxconn") && rng.chance(70) {
            json!("555")
        } else {
            rng.pick(&values).clone()
        };
        map.insert(key.to_string(), value);
    }
    Value::Object(map)
}

const TUNING_MACS: [&str; 4] = [
    "0a:00:00:00:bb:01",
    "zz:00:00:00:00:01",
    "01:00:5e:00:00:01",
    "",
];

fn tuning_keys(conf: &mut Map<String, Value>, rng: &mut Rng) {
    put(conf, "dataDir", json!("@DATADIR@/tuning"));
    if rng.chance(50) {
        put(conf, "sysctl", sysctls(rng));
    }
    if rng.chance(30) {
        put(conf, "mac", json!(rng.pick(&TUNING_MACS)));
    }
    if rng.chance(30) {
        let mtus = [
            json!(1400),
            json!(9000),
            json!(0),
            json!(-1),
            json!(67),
            json!(65536),
            json!("1400"),
        ];
        put(conf, "mtu", rng.pick(&mtus).clone());
    }
    for key in ["promisc", "allmulti"] {
        if rng.chance(25) {
            put(conf, key, flag(rng));
        }
    }
    if rng.chance(15) {
        let lens = [json!(2000), json!(0), json!(-1)];
        put(conf, "txQLen", rng.pick(&lens).clone());
    }
    if rng.chance(15) {
        let mut args = Map::new();
        match rng.below(5) {
            0 => put(&mut args, "sysctl", sysctls(rng)),
            1 => put(&mut args, "mac", json!(rng.pick(&TUNING_MACS))),
            2 => put(&mut args, "mtu", json!(1300)),
            3 => put(&mut args, "promisc", json!(true)),
            _ => put(&mut args, "allmulti", json!(false)),
        }
        put(conf, "args", json!({ "cni": args }));
    }
    if rng.chance(10) {
        put(
            conf,
            "runtimeConfig",
            json!({ "mac": rng.pick(&TUNING_MACS) }),
        );
    }
}

/// One direction's rate and burst: mostly a working pair, sometimes one
/// alone, zero, negative, a string, a burst past 4 GB.
fn limit(entry: &mut Map<String, Value>, rate: &str, burst: &str, rng: &mut Rng) {
    match rng.below(12) {
        0..=5 => {
            put(entry, rate, json!(1_000_000));
            put(entry, burst, json!(80_000));
        }
        6 => put(entry, rate, json!(1_000_000)),
        7 => put(entry, burst, json!(80_000)),
        8 => {
            put(entry, rate, json!(0));
            put(entry, burst, json!(0));
        }
        9 => {
            put(entry, rate, json!(-1));
            put(entry, burst, json!(80_000));
        }
        10 => {
            put(entry, rate, json!("1000000"));
            put(entry, burst, json!(80_000));
        }
        _ => {
            put(entry, rate, json!(1_000_000));
            put(entry, burst, json!(40_000_000_000u64));
        }
    }
}

fn bandwidth_entry(rng: &mut Rng) -> Map<String, Value> {
    let mut entry = Map::new();
    if rng.chance(70) {
        limit(&mut entry, "ingressRate", "ingressBurst", rng);
    }
    if rng.chance(70) {
        limit(&mut entry, "egressRate", "egressBurst", rng);
    }
    entry
}

fn bandwidth_keys(conf: &mut Map<String, Value>, rng: &mut Rng) {
    if rng.chance(60) {
        conf.extend(bandwidth_entry(rng));
    }
    if rng.chance(40) {
        put(
            conf,
            "runtimeConfig",
            json!({ "bandwidth": bandwidth_entry(rng) }),
        );
        put(conf, "capabilities", json!({ "bandwidth": true }));
    }
    for key in ["shapedSubnets", "unshapedSubnets"] {
        if rng.chance(8) {
            put(conf, key, json!(["10.88.0.0/24"]));
        }
    }
}

fn sbr_keys(conf: &mut Map<String, Value>, rng: &mut Rng) {
    if rng.chance(15) {
        let tables = [
            json!(100),
            json!(0),
            json!(-1),
            json!("100"),
            json!(4_294_967_296u64),
        ];
        put(conf, "table", rng.pick(&tables).clone());
    }
    if rng.chance(10) {
        put(conf, "gateways", json!([V4.1]));
    }
    if rng.chance(10) {
        put(conf, "addSourceHints", flag(rng));
    }
}

/// Replaces one key the plugin reads with `null` or a value of another type.
fn spoil_a_value(conf: &mut Map<String, Value>, rng: &mut Rng) {
    let keys: Vec<String> = conf
        .keys()
        .filter(|k| !["type", "cniVersion", "name", "dataDir", "prevResult"].contains(&k.as_str()))
        .cloned()
        .collect();
    if keys.is_empty() {
        return;
    }
    let key = rng.pick(&keys).clone();
    conf.insert(key, odd_value(rng));
}

/// A generated case for `plugin` (one of [`PLUGINS`]).
pub fn generate(plugin: &'static str, rng: &mut Rng) -> Case {
    // Mostly versions the reference takes (its firewall starts at 0.4.0,
    // its bandwidth at 0.3.0), so more cases reach its code.
    let taken: &[&str] = match plugin {
        "firewall" => &["0.4.0", "1.0.0"],
        "bandwidth" => &["0.3.0", "0.3.1", "0.4.0", "1.0.0"],
        _ => &VERSIONS,
    };
    let version = if rng.chance(75) {
        *rng.pick(taken)
    } else {
        *rng.pick(&VERSIONS)
    };
    let mut conf = Map::new();
    put(&mut conf, "cniVersion", json!(version));
    put(&mut conf, "name", json!("fuzznet"));
    put(&mut conf, "type", json!(plugin));
    match plugin {
        "portmap" => portmap_keys(&mut conf, rng),
        "firewall" => firewall_keys(&mut conf, rng),
        "tuning" => tuning_keys(&mut conf, rng),
        "bandwidth" => bandwidth_keys(&mut conf, rng),
        _ => sbr_keys(&mut conf, rng),
    }
    if rng.chance(8) {
        spoil_a_value(&mut conf, rng);
    }
    if rng.chance(8) {
        // Never `dataDir`: a key tuning did not read would send it to the
        // machine's /run/cni/tuning.
        let data_dir = conf.remove("dataDir");
        respell_a_key(&mut conf, rng);
        if let Some(d) = data_dir {
            put(&mut conf, "dataDir", d);
        }
    }
    match rng.below(100) {
        0..=89 => put(
            &mut conf,
            "prevResult",
            at_version(prev_result(rng), version),
        ),
        90..=93 => put(&mut conf, "prevResult", odd_value(rng)),
        _ => {}
    }
    let cni_args = match rng.below(20) {
        0..=1 => "IgnoreUnknown=1;K8S_POD_NAME=web".to_string(),
        2 => "K8S_POD_NAME=web".to_string(),
        3 if plugin == "tuning" => format!("IgnoreUnknown=1;MAC={}", rng.pick(&TUNING_MACS)),
        _ => String::new(),
    };
    Case {
        plugin,
        ifname: rng.pick::<&str>(&IFNAMES),
        config: Value::Object(conf).to_string(),
        cni_args,
    }
}
