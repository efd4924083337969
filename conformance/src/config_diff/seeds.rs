//! Cases made from the reference's own test configurations: the JSON
//! documents in host-local's `config_test.go` as Debian ships them
//! (`golang-github-containernetworking-plugins-dev`), each pointed at a data
//! directory and then mutated one value or key at a time.

use super::rng::Rng;
use super::Case;
use serde_json::{json, Value};
use std::path::Path;

pub const REFERENCE_TESTS: &str = "/usr/share/gocode/src/github.com/containernetworking/plugins/plugins/ipam/host-local/backend/allocator/config_test.go";

/// Every backquoted JSON object in the reference's test file; empty when the
/// package is not installed.
pub fn load(path: &Path) -> Vec<Value> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|s| serde_json::from_str::<Value>(s).ok())
        .filter(|v| v.get("ipam").is_some_and(Value::is_object))
        .collect()
}

/// A seed, pointed at `@DATADIR@`, with up to two mutations.
pub fn mutate(seeds: &[Value], rng: &mut Rng) -> Option<Case> {
    if seeds.is_empty() {
        return None;
    }
    let mut conf = rng.pick(seeds).clone();
    conf["ipam"]["dataDir"] = json!("@DATADIR@");
    conf["name"] = json!("fuzznet");
    for _ in 0..rng.below(3) {
        mutate_one(&mut conf, rng);
    }
    Some(Case {
        plugin: "host-local",
        ifname: "eth0",
        config: conf.to_string(),
        cni_args: String::new(),
    })
}

pub fn mutate_one(conf: &mut Value, rng: &mut Rng) {
    let mut strings = Vec::new();
    collect_strings(conf, String::new(), &mut strings);
    if strings.is_empty() {
        return;
    }
    let pointer = rng.pick(&strings).clone();
    let Some(slot) = conf.pointer_mut(&pointer) else {
        return;
    };
    let old = slot.as_str().unwrap_or_default().to_string();
    *slot = match rng.below(6) {
        0 => json!(format!("0{old}")),
        1 => json!(old.replacen(".0/", ".5/", 1)),
        2 => json!(old.replacen('/', "/0", 1)),
        3 => Value::Null,
        4 => json!(1),
        _ => json!(old.to_uppercase()),
    };
}

/// JSON pointers of every string value, `type` and `dataDir` excepted.
fn collect_strings(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::String(_) => out.push(at),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_strings(item, format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                if k != "type" && k != "dataDir" && k != "name" && k != "cniVersion" {
                    collect_strings(
                        item,
                        format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
        }
        _ => {}
    }
}
