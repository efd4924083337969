//! Bridge VLAN filtering (`vlan`, `vlanTrunk`) on the real kernel, through
//! the real binaries in a namespace that plays the host. cni-rs refuses
//! both before anything changes (code 7, naming the key: it does not
//! implement VLAN filtering and will not leave a port untagged). The 1.1.1
//! reference knows `vlan` only and asks the kernel for a VLAN-filtering
//! bridge; on a kernel without `CONFIG_BRIDGE_VLAN_FILTERING` (this one)
//! that fails with "operation not supported" (code 999), and it ignores
//! `vlanTrunk`. docs/DIFFERENCES.md, bridge.

use cni_conformance::realns::{ip_json, our_plugin, reference_for, TestNet};
use serde_json::{json, Value};
use std::path::Path;

fn links(ns: &str) -> Vec<String> {
    let shown = ip_json(ns, &["link", "show"]);
    let mut names: Vec<String> = shown
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l["ifname"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The addresses host-local holds reserved in `data` for network `vlan`.
fn reserved(data: &Path) -> Vec<String> {
    std::fs::read_dir(data.join("vlan"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("10."))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn vlan_keys_are_refused_before_anything_changes_and_the_reference_meets_the_kernel() {
    let test = "vlan_keys_are_refused_before_anything_changes_and_the_reference_meets_the_kernel";
    let Some(reference) = reference_for(test) else {
        return;
    };
    let mut net = TestNet::new();
    let host = net.add_ns("host");
    let ctr = net.add_ns("ctr");
    let bridge = format!("{}br", net.prefix);
    let dir = tempfile::tempdir().expect("temporary directory");
    let conf = |extra: Value, data: &str| {
        let mut c = json!({
            "cniVersion": "1.0.0", "name": "vlan", "type": "bridge",
            "bridge": bridge, "isGateway": true,
            "ipam": {"type": "host-local", "dataDir": dir.path().join(data),
                "ranges": [[{"subnet": "10.78.10.0/24"}]]},
        });
        for (k, v) in extra.as_object().expect("an object") {
            c[k] = v.clone();
        }
        c
    };
    let before = (links(&host), links(&ctr));

    for (extra, key, said) in [
        (json!({"vlan": 100}), "vlan", "VLAN 100 not supported"),
        (
            json!({"vlanTrunk": [{"minID": 10, "maxID": 20}]}),
            "vlanTrunk",
            "not supported",
        ),
        (
            json!({"vlan": 7, "preserveDefaultVlan": true}),
            "vlan",
            "VLAN 7 not supported",
        ),
    ] {
        let run = net.run_attached(
            &host,
            &our_plugin("bridge"),
            "ADD",
            ("vlan1", &ctr),
            &conf(extra.clone(), "ours"),
        );
        assert_eq!(run.code, 1, "{extra}: {run:?}");
        let error = run.json();
        let msg = error["msg"].as_str().unwrap_or_default();
        assert_eq!(error["code"], 7, "{extra}: {error}");
        assert!(
            msg.starts_with(&format!("{key}: "))
                && msg.contains(said)
                && msg.contains("VLAN filtering"),
            "{extra}: {msg}"
        );
        assert_eq!((links(&host), links(&ctr)), before, "{extra}: nothing made");
        assert!(
            reserved(&dir.path().join("ours")).is_empty(),
            "{extra}: no address reserved"
        );
    }

    // The reference asks the kernel for VLAN filtering and, here, the kernel
    // refuses: the same class of failure (the differential compares it so),
    // and nothing left behind either.
    let run = net.run_attached(
        &host,
        &reference.join("bridge"),
        "ADD",
        ("vlan1", &ctr),
        &conf(json!({"vlan": 100}), "reference"),
    );
    if run.code == 0 {
        // A kernel with VLAN filtering: the reference tags the port. Ours
        // still refuses (above); clean the reference's attachment up.
        let del = net.run_attached(
            &host,
            &reference.join("bridge"),
            "DEL",
            ("vlan1", &ctr),
            &conf(json!({"vlan": 100}), "reference"),
        );
        assert_eq!(del.code, 0, "{del:?}");
        eprintln!("this kernel has bridge VLAN filtering: the reference tagged the port");
        return;
    }
    let error = run.json();
    assert_eq!(error["code"], 999, "{error}");
    let msg = error["msg"].as_str().unwrap_or_default();
    assert!(msg.ends_with("operation not supported"), "{msg}");
    assert_eq!((links(&host), links(&ctr)), before, "the reference: {msg}");

    // `vlanTrunk` is not a key the 1.1.1 reference knows: it attaches the
    // container untagged, which is what cni-rs refuses to do silently.
    let trunk = conf(json!({"vlanTrunk": [{"id": 5}]}), "reference");
    let run = net.run_attached(
        &host,
        &reference.join("bridge"),
        "ADD",
        ("vlan2", &ctr),
        &trunk,
    );
    assert_eq!(run.code, 0, "the reference ignores vlanTrunk: {run:?}");
    let del = net.run_attached(
        &host,
        &reference.join("bridge"),
        "DEL",
        ("vlan2", &ctr),
        &trunk,
    );
    assert_eq!(del.code, 0, "{del:?}");
}
