//! A failed ADD's undo, end to end through a real plugin binary: our bridge
//! in a namespace that plays the host, its log file named by the config's
//! `logFile`, failing late (the container's route via an unreachable
//! gateway, after IPAM, the veth pair, the port and its MAC spoof check).
//! The log file shows each undo step, in reverse order, and nothing of the
//! attachment is left in the kernel or in host-local's store. The bridge
//! itself stays, as after a DEL: it is the network's, shared by its
//! attachments, and DEL never removes it either.

use cni_conformance::realns::{ip_json, nft_rules, our_plugin, privileged, TestNet};
use serde_json::{json, Value};

/// The names of the links of `ns`.
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

#[test]
fn a_failed_bridge_add_logs_each_undo_step_and_leaves_nothing() {
    if !privileged("a_failed_bridge_add_logs_each_undo_step_and_leaves_nothing") {
        return;
    }
    let mut net = TestNet::new();
    let host = net.add_ns("host");
    let ctr = net.add_ns("ctr");
    let bridge = format!("{}br", net.prefix);
    let dir = tempfile::tempdir().expect("temporary directory");
    let log = dir.path().join("cni.log");
    let data = dir.path().join("ipam");
    let conf = json!({
        "cniVersion": "1.0.0", "name": "undo", "type": "bridge",
        "bridge": bridge, "isGateway": true, "ipMasq": true, "macspoofchk": true,
        "logFile": log,
        "ipam": {"type": "host-local", "dataDir": data,
            "ranges": [[{"subnet": "10.78.9.0/24"}]],
            // No address of the container reaches 10.99.99.1: the kernel
            // refuses the route, the last step before masquerade.
            "routes": [{"dst": "10.200.0.0/16", "gw": "10.99.99.1"}]},
    });
    let host_before = links(&host);

    let run = net.run_attached(&host, &our_plugin("bridge"), "ADD", ("undo1", &ctr), &conf);
    assert_eq!(run.code, 1, "ADD must fail: {run:?}");
    let error = run.json();
    assert_eq!(error["code"], 5, "{error}");
    let msg = error["msg"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("adding route 10.200.0.0/16 via 10.99.99.1 to eth0"),
        "{msg}"
    );

    // The operator's log: each undo step, the last done first, every line
    // naming the invocation.
    let text = std::fs::read_to_string(&log)
        .unwrap_or_else(|e| panic!("the config's logFile {}: {e}", log.display()));
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    let messages: Vec<&str> = lines
        .iter()
        .map(|l| l["message"].as_str().unwrap_or_default())
        .collect();
    let veth = messages
        .iter()
        .find_map(|m| m.strip_prefix("failed ADD: undid veth "))
        .unwrap_or_else(|| panic!("no veth undo in the log: {text}"));
    assert!(veth.starts_with("veth"), "{text}");
    assert_eq!(
        messages,
        [
            "failed ADD: undid MAC spoof check".to_string(),
            format!("failed ADD: undid veth {veth}"),
            "failed ADD: undid IPAM allocation".to_string(),
        ],
        "{text}"
    );
    for line in &lines {
        assert_eq!(line["level"], "info", "{line}");
        assert_eq!(line["plugin"], "bridge", "{line}");
        assert_eq!(line["command"], "ADD", "{line}");
        assert_eq!(line["containerID"], "undo1", "{line}");
        assert_eq!(line["ifname"], "eth0", "{line}");
    }

    // Nothing of the attachment is left: the container has its loopback
    // only, the host its loopback and the network's bridge with no port,
    // no nftables rule (the spoof check's and masquerade's), no address
    // reserved in host-local's store.
    assert_eq!(links(&ctr), ["lo"]);
    let mut expected_host = host_before.clone();
    expected_host.push(bridge.clone());
    expected_host.sort();
    assert_eq!(links(&host), expected_host);
    let ports = ip_json(&host, &["link", "show", "master", &bridge]);
    assert_eq!(ports, json!([]), "ports left on {bridge}");
    assert_eq!(nft_rules(&host), Vec::<Value>::new(), "nftables rules left");
    // The network's store exists (the allocation was made, then released).
    let reserved: Vec<String> = std::fs::read_dir(data.join("undo"))
        .expect("host-local's store for network undo")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("10."))
        .collect();
    assert!(
        reserved.is_empty(),
        "addresses still reserved: {reserved:?}"
    );
}
