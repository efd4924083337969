//! portmap in real namespaces: our bridge + host-local, then portmap (ours,
//! and the reference's for comparison) run as binaries with `prevResult`; a
//! TCP server in one container, clients in the namespace playing the host
//! (its own address and localhost) and in another container on the bridge
//! (hairpin), IPv4 and IPv6. After DEL no rule is left.

use cni_conformance::realns::{
    nft_ruleset, our_plugin, privileged, reference_for, TestNet, HOST_V4, HOST_V6,
};
use cni_conformance::traffic::{reaches, wait_for_dad, Server};
use serde_json::{json, Value};
use std::path::Path;

struct World {
    net: TestNet,
    host: String,
    server: String,
    client: String,
    outside: String,
    data_dir: tempfile::TempDir,
}

fn bridge_conf(world: &World) -> Value {
    json!({"cniVersion": "1.0.0", "name": "pm-real", "type": "bridge",
        "bridge": format!("{}br", world.net.prefix), "isGateway": true, "isDefaultGateway": true,
        "ipam": {"type": "host-local", "dataDir": world.data_dir.path(), "ranges": [
            [{"subnet": "10.33.0.0/24"}], [{"subnet": "fd33::/64"}]]}})
}

fn run(world: &World, plugin: &Path, verb: &str, container: &str, conf: &Value) -> Value {
    let att = (container, container);
    world
        .net
        .run_attached(&world.host, plugin, verb, att, conf)
        .ok_json()
}

fn world() -> World {
    let mut net = TestNet::new();
    let host = net.add_ns("host");
    let server = net.add_ns("srv");
    let client = net.add_ns("cli");
    let outside = net.add_outside(&host);
    let data_dir = tempfile::tempdir().expect("dataDir");
    World {
        net,
        host,
        server,
        client,
        outside,
        data_dir,
    }
}

/// Which paths reach the mapped port, with `portmap` after our bridge.
fn connectivity(portmap: &Path, extra: Value) -> Vec<(&'static str, bool)> {
    let world = world();
    let bridge = our_plugin("bridge");
    let conf = bridge_conf(&world);
    let prev = run(&world, &bridge, "ADD", &world.server.clone(), &conf);
    run(&world, &bridge, "ADD", &world.client.clone(), &conf);
    let mut pm = json!({"cniVersion": "1.0.0", "name": "pm-real", "type": "portmap",
        "runtimeConfig": {"portMappings": [
            {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]},
        "prevResult": prev});
    for (k, v) in extra.as_object().into_iter().flatten() {
        pm[k] = v.clone();
    }
    let out = run(&world, portmap, "ADD", &world.server, &pm);
    assert_eq!(
        out["ips"], pm["prevResult"]["ips"],
        "prevResult passed through"
    );
    for ns in [&world.host, &world.server, &world.client] {
        wait_for_dad(ns);
    }
    let _server = Server::start(&world.server);
    let (v4, v6) = (format!("{HOST_V4}:8080"), format!("[{HOST_V6}]:8080"));
    let matrix = vec![
        (
            "outside to the host's IPv4 address",
            reaches(&world.outside, &v4),
        ),
        ("host to its own IPv4 address", reaches(&world.host, &v4)),
        ("host to its own IPv6 address", reaches(&world.host, &v6)),
        ("host to 127.0.0.1", reaches(&world.host, "127.0.0.1:8080")),
        (
            "other container to the host's IPv4 (hairpin)",
            reaches(&world.client, &v4),
        ),
        (
            "other container to the host's IPv6 (hairpin)",
            reaches(&world.client, &v6),
        ),
        (
            "outside to the host's IPv6 address",
            reaches(&world.outside, &v6),
        ),
    ];
    run(&world, portmap, "DEL", &world.server, &pm);
    let left = nft_ruleset(&world.host);
    assert!(!left.contains("dnat"), "rules left after DEL:\n{left}");
    matrix
}

#[test]
fn our_portmap_reaches_the_container_from_host_localhost_and_hairpin() {
    if !privileged("our_portmap_reaches_the_container_from_host_localhost_and_hairpin") {
        return;
    }
    let matrix = connectivity(&our_plugin("portmap"), json!({}));
    let failed: Vec<_> = matrix.iter().filter(|(_, ok)| !ok).collect();
    assert!(failed.is_empty(), "unreachable: {failed:?}");
}

#[test]
fn our_portmap_reaches_at_least_what_the_reference_reaches() {
    let Some(dir) = reference_for("our_portmap_reaches_at_least_what_the_reference_reaches") else {
        return;
    };
    let theirs = connectivity(&dir.join("portmap"), json!({"backend": "nftables"}));
    let ours = connectivity(&our_plugin("portmap"), json!({"backend": "nftables"}));
    eprintln!("reference: {theirs:?}\nours: {ours:?}");
    for ((what, t), (_, o)) in theirs.iter().zip(&ours) {
        assert!(!t || *o, "the reference reaches {what:?}, we do not");
    }
}
