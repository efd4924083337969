//! bridge, ptp and macvlan configurations from a grammar of each plugin's
//! keys: flags as booleans and as other JSON types, MTUs on and past their
//! bounds, link names of 15 and 16 bytes, good and bad MACs from every
//! source, macvlan modes and masters, IPAM host-local (v4, v6, dual stack),
//! static, `{}` or none, and keys in another case. `@DATADIR@` stands for
//! each side's data directory, `@MASTER@` for the macvlan parent.

use super::grammar::VERSIONS;
use super::rng::Rng;
use super::Case;
use serde_json::{json, Map, Value};

/// A name of exactly 15 bytes (the kernel's limit) and one of 16.
const NAME_15: &str = "abcdefghijklmno";
const NAME_16: &str = "abcdefghijklmnop";

const MACS: [&str; 6] = [
    "02:00:00:00:00:01",
    "01:00:5e:00:00:01",
    "00:00:00:00:00:00",
    "02-00-00-00-00-02",
    "zz:00:00:00:00:01",
    "",
];

/// The container interface names a case runs with.
pub const IFNAMES: [&str; 6] = ["eth0", "eth0", "eth0", "eth0", NAME_15, NAME_16];

fn flag(rng: &mut Rng) -> Option<Value> {
    match rng.below(12) {
        0..=4 => None,
        5..=7 => Some(json!(true)),
        8..=9 => Some(json!(false)),
        10 => Some(json!("true")),
        _ => Some(json!(1)),
    }
}

fn mtu(rng: &mut Rng) -> Option<Value> {
    if rng.chance(60) {
        return None;
    }
    let values = [
        json!(0),
        json!(67),
        json!(68),
        json!(1280),
        json!(1400),
        json!(1500),
        json!(1501),
        json!(9000),
        json!(65535),
        json!(65536),
        json!(-1),
        json!("1400"),
        json!(1400.5),
    ];
    Some(rng.pick(&values).clone())
}

fn link_name(rng: &mut Rng) -> Value {
    let names = [
        json!("br0"),
        json!("br0"),
        json!(NAME_15),
        json!(NAME_16),
        json!(""),
        json!("br/0"),
        json!("parent0"),
        json!(5),
    ];
    rng.pick(&names).clone()
}

fn ipam(rng: &mut Rng, plugin: &str) -> Option<Value> {
    let host_local =
        |ranges: Value| json!({ "type": "host-local", "dataDir": "@DATADIR@", "ranges": ranges });
    match rng.below(10) {
        0..=3 => Some(host_local(json!([[{ "subnet": "10.99.0.0/24" }]]))),
        4 => Some(host_local(json!([[{ "subnet": "fd99::/64" }]]))),
        5 => Some(host_local(
            json!([[{ "subnet": "10.99.0.0/24" }], [{ "subnet": "fd99::/64" }]]),
        )),
        6 => Some(
            json!({ "type": "host-local", "dataDir": "@DATADIR@", "subnet": "10.99.0.0/30", "gateway": "10.99.0.1" }),
        ),
        7 => Some(
            json!({ "type": "static", "addresses": [{ "address": "10.99.0.5/24", "gateway": "10.99.0.1" }] }),
        ),
        8 if plugin != "ptp" || rng.chance(50) => Some(json!({})),
        _ => None,
    }
}

fn put(conf: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        conf.insert(key.to_string(), v);
    }
}

fn bridge_keys(conf: &mut Map<String, Value>, rng: &mut Rng) {
    if rng.chance(70) {
        put(conf, "bridge", Some(link_name(rng)));
    }
    for key in [
        "isGateway",
        "isDefaultGateway",
        "forceAddress",
        "ipMasq",
        "hairpinMode",
        "promiscMode",
    ] {
        put(conf, key, flag(rng));
    }
    if rng.chance(10) {
        let vlan = [json!(0), json!(100), json!(4094), json!(4095), json!(-1)];
        put(conf, "vlan", Some(rng.pick(&vlan).clone()));
    }
    if rng.chance(5) {
        let trunks = [
            json!([{ "id": 5 }]),
            json!([{ "minID": 10, "maxID": 20 }]),
            json!([]),
            json!("5"),
        ];
        put(conf, "vlanTrunk", Some(rng.pick(&trunks).clone()));
    }
    for key in ["macspoofchk", "portIsolation", "preserveDefaultVlan"] {
        if rng.chance(8) {
            put(conf, key, flag(rng));
        }
    }
}

fn macvlan_keys(conf: &mut Map<String, Value>, rng: &mut Rng) {
    let masters = [
        json!("@MASTER@"),
        json!("@MASTER@"),
        json!("@MASTER@"),
        json!("@MASTER@"),
        json!("nosuchdev"),
        json!(NAME_15),
        json!(NAME_16),
        json!(""),
        json!(7),
    ];
    if rng.chance(90) {
        put(conf, "master", Some(rng.pick(&masters).clone()));
    }
    let modes = [
        json!("bridge"),
        json!("private"),
        json!("vepa"),
        json!("passthru"),
        json!("BRIDGE"),
        json!("source"),
        json!("bogus"),
        json!(""),
        json!(3),
    ];
    if rng.chance(60) {
        put(conf, "mode", Some(rng.pick(&modes).clone()));
    }
    if rng.chance(15) {
        put(conf, "mac", Some(json!(rng.pick(&MACS))));
    }
    if rng.chance(10) {
        let queues = [
            json!(0),
            json!(100),
            json!(1000),
            json!(2_000_000),
            json!(-1),
            json!("100"),
        ];
        put(conf, "bcqueuelen", Some(rng.pick(&queues).clone()));
    }
}

/// An explicit MAC from the runtime, sometimes, in `args` or `runtimeConfig`.
fn runtime_mac(conf: &mut Map<String, Value>, rng: &mut Rng) {
    if rng.chance(8) {
        put(
            conf,
            "args",
            Some(json!({ "cni": { "mac": rng.pick(&MACS) } })),
        );
    }
    if rng.chance(8) {
        put(
            conf,
            "runtimeConfig",
            Some(json!({ "mac": rng.pick(&MACS) })),
        );
    }
}

/// Go's decoder matches keys ignoring case: respell one top-level key.
pub fn respell_a_key(conf: &mut Map<String, Value>, rng: &mut Rng) {
    let keys: Vec<String> = conf
        .keys()
        .filter(|k| !["type", "cniVersion", "name"].contains(&k.as_str()))
        .cloned()
        .collect();
    if keys.is_empty() {
        return;
    }
    let key = rng.pick(&keys).clone();
    if let Some(v) = conf.remove(&key) {
        let spelled = if rng.chance(50) {
            key.to_lowercase()
        } else {
            key.to_uppercase()
        };
        conf.insert(spelled, v);
    }
}

/// A generated case for `plugin` (bridge, ptp or macvlan).
pub fn generate(plugin: &'static str, rng: &mut Rng) -> Case {
    let mut conf = Map::new();
    conf.insert("cniVersion".into(), json!(rng.pick(&VERSIONS)));
    conf.insert("name".into(), json!("fuzznet"));
    conf.insert("type".into(), json!(plugin));
    put(&mut conf, "ipam", ipam(rng, plugin));
    put(&mut conf, "mtu", mtu(rng));
    match plugin {
        "bridge" => bridge_keys(&mut conf, rng),
        "macvlan" => macvlan_keys(&mut conf, rng),
        _ => put(&mut conf, "ipMasq", flag(rng)),
    }
    if rng.chance(5) && plugin != "macvlan" {
        let backend = [json!("iptables"), json!("nftables"), json!("bogus")];
        put(&mut conf, "ipMasqBackend", Some(rng.pick(&backend).clone()));
    }
    runtime_mac(&mut conf, rng);
    if rng.chance(12) {
        respell_a_key(&mut conf, rng);
    }
    let cni_args = if rng.chance(8) {
        format!("IgnoreUnknown=1;MAC={}", rng.pick(&MACS))
    } else {
        String::new()
    };
    Case {
        plugin,
        ifname: rng.pick::<&str>(&IFNAMES),
        config: Value::Object(conf).to_string(),
        cni_args,
    }
}
