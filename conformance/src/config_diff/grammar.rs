//! host-local configurations from a grammar: range sets (or the legacy single
//! range), addresses on and around each subnet's edges, routes, requested
//! addresses from every source, `CNI_ARGS`, odd spellings (key case, leading
//! zeros, host bits, mapped IPv6) and every spec version.

use super::rng::Rng;
use super::Case;
use serde_json::{json, Map, Value};
use std::net::{Ipv4Addr, Ipv6Addr};

pub const VERSIONS: [&str; 9] = [
    "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.0.0", "", "1.1.0",
];

/// One subnet the grammar builds addresses in.
#[derive(Clone, Copy)]
struct Net {
    v6: bool,
    base: u128,
    prefix: u8,
}

impl Net {
    fn bits(&self) -> u8 {
        if self.v6 {
            128
        } else {
            32
        }
    }
    fn size(&self) -> u128 {
        1u128 << (self.bits() - self.prefix).min(127)
    }
    fn text(&self, n: u128) -> String {
        if self.v6 {
            Ipv6Addr::from(n).to_string()
        } else {
            Ipv4Addr::from(n as u32).to_string()
        }
    }
    /// An address near an edge of the subnet, or just outside it.
    fn addr(&self, rng: &mut Rng) -> String {
        let size = self.size();
        let offsets = [
            0,
            1,
            2,
            3,
            size / 2,
            size.saturating_sub(2),
            size.saturating_sub(1),
            size,
        ];
        let n = self.base.wrapping_add(*rng.pick(&offsets));
        spell_addr(self.text(n), rng)
    }
}

/// Sometimes an address as another tool might write it.
fn spell_addr(text: String, rng: &mut Rng) -> String {
    match rng.below(40) {
        0 if !text.contains(':') => format!("0{text}"),
        1 if !text.contains(':') => format!("::ffff:{text}"),
        2 => format!("{text}/24"),
        _ => text,
    }
}

fn net(rng: &mut Rng) -> Net {
    let v6 = rng.chance(30);
    let prefix = if v6 {
        *rng.pick(&[64u8, 112, 120, 124, 126, 127])
    } else {
        *rng.pick(&[8u8, 16, 24, 24, 28, 29, 30, 31, 32])
    };
    let bits = if v6 { 128 } else { 32 };
    let raw = if v6 {
        (0xfd00u128 << 112) | (u128::from(rng.below(4) as u8) << 96) | (rng.below(3) as u128 * 256)
    } else {
        let first = *rng.pick(&[10u128, 10, 192, 0, 172]);
        (first << 24) | ((rng.below(3) as u128) << 16) | ((rng.below(3) as u128) << 8)
    };
    let mask = if prefix == 0 {
        0
    } else {
        (!0u128 >> (128 - bits)) >> (bits - prefix) << (bits - prefix)
    };
    Net {
        v6,
        base: raw & mask,
        prefix,
    }
}

/// The subnet as written: usually clean, sometimes with host bits, a leading
/// zero in the prefix or an octet, or as an IPv4-mapped IPv6 subnet.
fn subnet_text(n: &Net, rng: &mut Rng) -> String {
    let plain = format!("{}/{}", n.text(n.base), n.prefix);
    match rng.below(30) {
        0 => format!("{}/{}", n.text(n.base + 5), n.prefix),
        1 => format!("{}/0{}", n.text(n.base), n.prefix),
        2 if !n.v6 => format!("0{plain}"),
        3 if !n.v6 => format!("::ffff:{}/{}", n.text(n.base), 96 + n.prefix),
        4 => "not-a-cidr".to_string(),
        _ => plain,
    }
}

fn range(n: &Net, rng: &mut Rng) -> Value {
    let mut r = Map::new();
    r.insert("subnet".into(), json!(subnet_text(n, rng)));
    for key in ["rangeStart", "rangeEnd", "gateway"] {
        if rng.chance(25) {
            r.insert(key.into(), json!(n.addr(rng)));
        }
    }
    Value::Object(r)
}

fn route(nets: &[Net], rng: &mut Rng, version: &str) -> Value {
    let dst = match rng.below(4) {
        0 => "0.0.0.0/0".to_string(),
        1 => "::/0".to_string(),
        2 => "00.0.0.0/0".to_string(),
        _ => "192.168.0.0/16".to_string(),
    };
    let mut r = json!({ "dst": dst });
    if rng.chance(40) {
        let n = rng.pick(nets);
        r["gw"] = json!(n.addr(rng));
    }
    if rng.chance(30) || version == "1.1.0" && rng.chance(50) {
        r["mtu"] = if rng.chance(80) {
            json!(1400)
        } else {
            json!("1400")
        };
        r["table"] = json!(rng.below(300));
    }
    r
}

/// A generated case; `@DATADIR@` stands for each side's data directory.
pub fn generate(rng: &mut Rng) -> Case {
    let version = *rng.pick(&VERSIONS);
    let nets: Vec<Net> = (0..1 + rng.below(3)).map(|_| net(rng)).collect();
    let mut ipam = json!({ "type": "host-local", "dataDir": "@DATADIR@" });
    let legacy = rng.chance(25);
    if legacy {
        if let Value::Object(r) = range(&nets[0], rng) {
            ipam.as_object_mut()
                .into_iter()
                .for_each(|m| m.extend(r.clone()));
        }
    }
    if !legacy || rng.chance(15) {
        let sets: Vec<Value> = nets
            .iter()
            .map(|n| {
                let k = 1 + usize::from(rng.chance(20));
                Value::Array((0..k).map(|_| range(n, rng)).collect())
            })
            .collect();
        ipam["ranges"] = Value::Array(sets);
    }
    if rng.chance(30) {
        ipam["routes"] = Value::Array(
            (0..1 + rng.below(2))
                .map(|_| route(&nets, rng, version))
                .collect(),
        );
    }
    let mut conf =
        json!({ "cniVersion": version, "name": "fuzznet", "type": "bridge", "ipam": ipam });
    requested(&mut conf, &nets, rng);
    if rng.chance(15) {
        respell_a_key(&mut conf, rng);
    }
    Case {
        plugin: "host-local",
        ifname: "eth0",
        config: conf.to_string(),
        cni_args: cni_args(&nets, rng),
    }
}

fn requested(conf: &mut Value, nets: &[Net], rng: &mut Rng) {
    if rng.chance(10) {
        let ip = rng.pick(nets).addr(rng);
        conf["args"] = json!({ "cni": { "ips": [ip] } });
    }
    if rng.chance(10) {
        let ip = rng.pick(nets).addr(rng);
        conf["runtimeConfig"] = json!({ "ips": [ip] });
    }
}

fn cni_args(nets: &[Net], rng: &mut Rng) -> String {
    let mut pairs = Vec::new();
    if rng.chance(15) {
        pairs.push(format!("IP={}", rng.pick(nets).addr(rng)));
    }
    if rng.chance(10) {
        pairs.push("K8S_POD_NAME=web".to_string());
    }
    if rng.chance(15) {
        pairs.push("IgnoreUnknown=1".to_string());
    }
    pairs.join(";")
}

/// Go's decoder matches keys ignoring case: respell one key of `ipam`.
pub fn respell_a_key(conf: &mut Value, rng: &mut Rng) {
    let Some(ipam) = conf.get_mut("ipam").and_then(Value::as_object_mut) else {
        return;
    };
    let keys: Vec<String> = ipam.keys().filter(|k| *k != "type").cloned().collect();
    if keys.is_empty() {
        return;
    }
    let key = rng.pick(&keys).clone();
    if let Some(v) = ipam.remove(&key) {
        ipam.insert(key.to_uppercase(), v);
    }
}
