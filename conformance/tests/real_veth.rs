//! `veth`, the point-to-point plugin under its original name: a config
//! written with `"type": "veth"` attaches, checks and detaches exactly as the
//! same config does with `ptp`.

use cni_conformance::realns::{normalize_result, our_plugin, privileged, TestNet};
use serde_json::{json, Value};

fn attach(net: &TestNet, host: &str, ctr: &str, plugin: &str, data_dir: &str) -> Value {
    let conf = json!({"cniVersion": "1.0.0", "name": "p2p", "type": plugin,
        "ipam": {"type": "host-local", "subnet": "10.32.0.0/24", "dataDir": data_dir}});
    let result = net
        .run_attached(host, &our_plugin(plugin), "ADD", ("ctr1", ctr), &conf)
        .ok_json();
    let mut check = conf.clone();
    check["prevResult"] = result.clone();
    let checked = net.run_attached(host, &our_plugin(plugin), "CHECK", ("ctr1", ctr), &check);
    assert_eq!(checked.ok_json(), Value::Null, "{plugin}: CHECK");
    let mut result = normalize_result(result);
    // The sandbox names each run's own namespace.
    result["interfaces"][1]["sandbox"] = Value::Null;
    let state = json!({"result": result, "host": net.state(host),
        "container": net.state(ctr)});
    let del = net.run_attached(host, &our_plugin(plugin), "DEL", ("ctr1", ctr), &conf);
    assert_eq!(del.ok_json(), Value::Null, "{plugin}: DEL");
    state
}

#[test]
fn a_veth_config_works_exactly_as_ptp() {
    if !privileged("a_veth_config_works_exactly_as_ptp") {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let mut states = Vec::new();
    for plugin in ["veth", "ptp"] {
        let mut net = TestNet::new();
        let host = net.add_ns("host");
        let ctr = net.add_ns("ctr");
        let dir = scratch.path().join(plugin).display().to_string();
        states.push(attach(&net, &host, &ctr, plugin, &dir));
        assert_eq!(net.state(&ctr)["links"].as_array().map(Vec::len), Some(1));
    }
    let mut states = states.into_iter();
    let (veth, ptp) = (states.next().unwrap(), states.next().unwrap());
    assert_eq!(
        veth["result"]["interfaces"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(veth, ptp);
}
