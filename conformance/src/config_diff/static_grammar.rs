//! static configurations from a grammar: addresses with and without a prefix,
//! gateways in, outside and of the other family, routes with and without
//! `dst`, DNS, every source of addresses (`ipam.addresses`,
//! `args.cni.ips`, `runtimeConfig.ips`, `CNI_ARGS IP=`/`GATEWAY=`), values of
//! the wrong JSON type and keys in another case.

use super::grammar::VERSIONS;
use super::rng::Rng;
use super::Case;
use serde_json::{json, Map, Value};

const ADDRESSES: [&str; 12] = [
    "10.10.0.1/24",
    "10.10.0.2/24",
    "192.168.1.5/30",
    "10.10.0.1",
    "3ffe:ffff:0:1ff::1/64",
    "2001:db8::5/128",
    "::ffff:10.10.0.1/120",
    "010.10.0.1/24",
    "10.10.0.0/24",
    "10.10.0.1/33",
    "not-an-address",
    "",
];

const GATEWAYS: [&str; 8] = [
    "10.10.0.254",
    "10.10.0.1",
    "192.168.7.1",
    "3ffe:ffff:0::1",
    "3ffe:ffff:0:1ff::fe",
    "10.10.0.256",
    "",
    "gw",
];

fn wrong_type(rng: &mut Rng) -> Value {
    match rng.below(4) {
        0 => json!(5),
        1 => Value::Null,
        2 => json!(["10.10.0.1/24"]),
        _ => json!({}),
    }
}

fn address(rng: &mut Rng) -> Value {
    let mut a = Map::new();
    let key = if rng.chance(5) { "Address" } else { "address" };
    let value = if rng.chance(5) {
        wrong_type(rng)
    } else {
        json!(rng.pick(&ADDRESSES))
    };
    a.insert(key.into(), value);
    if rng.chance(50) {
        a.insert("gateway".into(), json!(rng.pick(&GATEWAYS)));
    }
    Value::Object(a)
}

fn route(rng: &mut Rng) -> Value {
    let mut r = Map::new();
    if rng.chance(90) {
        let dst = rng.pick(&["0.0.0.0/0", "::/0", "192.168.0.0/16", "10.0.0.1/8", "x"]);
        r.insert("dst".into(), json!(dst));
    }
    if rng.chance(40) {
        r.insert("gw".into(), json!(rng.pick(&GATEWAYS)));
    }
    Value::Object(r)
}

fn dns(rng: &mut Rng) -> Value {
    let mut d = json!({ "nameservers": ["8.8.8.8"], "domain": "example.com" });
    if rng.chance(30) {
        d["search"] = json!(["example.com", "example.org"]);
    }
    if rng.chance(20) {
        d["options"] = if rng.chance(70) {
            json!(["ndots:2"])
        } else {
            json!("ndots:2")
        };
    }
    d
}

fn ips(rng: &mut Rng) -> Value {
    json!((0..1 + rng.below(2))
        .map(|_| *rng.pick(&ADDRESSES))
        .collect::<Vec<_>>())
}

fn ipam(rng: &mut Rng) -> Value {
    let mut ipam = json!({ "type": "static" });
    if rng.chance(80) {
        ipam["addresses"] = if rng.chance(5) {
            wrong_type(rng)
        } else {
            Value::Array((0..rng.below(3)).map(|_| address(rng)).collect())
        };
    }
    if rng.chance(40) {
        ipam["routes"] = Value::Array((0..1 + rng.below(2)).map(|_| route(rng)).collect());
    }
    if rng.chance(30) {
        ipam["dns"] = dns(rng);
    }
    ipam
}

fn cni_args(rng: &mut Rng) -> String {
    let mut pairs = Vec::new();
    if rng.chance(20) {
        let ips: Vec<&str> = (0..1 + rng.below(2))
            .map(|_| *rng.pick(&ADDRESSES))
            .collect();
        pairs.push(format!("IP={}", ips.join(",")));
    }
    if rng.chance(15) {
        pairs.push(format!("GATEWAY={}", rng.pick(&GATEWAYS)));
    }
    if rng.chance(10) {
        pairs.push("K8S_POD_NAME=web".to_string());
    }
    if rng.chance(20) {
        pairs.push("IgnoreUnknown=1".to_string());
    }
    pairs.join(";")
}

/// A generated static case.
pub fn generate(rng: &mut Rng) -> Case {
    let version = *rng.pick(&VERSIONS);
    let mut conf =
        json!({ "cniVersion": version, "name": "fuzznet", "type": "bridge", "ipam": ipam(rng) });
    if rng.chance(10) {
        conf["args"] = json!({ "cni": { "ips": ips(rng) } });
    }
    if rng.chance(10) {
        conf["runtimeConfig"] = json!({ "ips": ips(rng) });
    }
    if rng.chance(10) {
        super::grammar::respell_a_key(&mut conf, rng);
    }
    Case {
        plugin: "static",
        ifname: "eth0",
        config: conf.to_string(),
        cni_args: cni_args(rng),
    }
}
