//! Cases made from the reference's own test configurations of bridge, ptp,
//! macvlan and static (`reference_seeds.json`, taken from the
//! containernetworking/plugins v1.1.1 sources, which Debian's -dev package
//! does not ship for these plugins), filled in and mutated like host-local's.

use super::rng::Rng;
use super::seeds::mutate_one;
use serde_json::{json, Value};

const SEEDS: &str = include_str!("reference_seeds.json");

/// The reference's test configurations of `plugin`.
pub fn of(plugin: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(SEEDS)
        .ok()
        .and_then(|all| all.get(plugin).and_then(Value::as_array).cloned())
        .unwrap_or_default()
}

/// A seed at `version` with up to two mutations; `@MASTER@` and
/// `@DATADIR@` stay for the target to fill in.
pub fn mutate(seeds: &[Value], version: &str, rng: &mut Rng) -> Option<Value> {
    if seeds.is_empty() {
        return None;
    }
    let mut conf = rng.pick(seeds).clone();
    conf["cniVersion"] = json!(version);
    conf["name"] = json!("fuzznet");
    for _ in 0..rng.below(3) {
        mutate_one(&mut conf, rng);
    }
    Some(conf)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_plugin_has_seeds() {
        for plugin in ["bridge", "ptp", "macvlan", "static"] {
            assert!(super::of(plugin).len() >= 4, "{plugin}");
        }
    }
}
