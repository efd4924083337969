//! portmap in real namespaces: our bridge + host-local, then portmap (ours,
//! and the reference's for comparison) run as binaries with `prevResult`; a
//! TCP server in one container, clients in the namespace playing the host
//! (its own address and localhost) and in another container on the bridge
//! (hairpin), IPv4 and IPv6. After DEL no rule is left.

use cni_conformance::realns::{our_plugin, privileged, reference_dir, TestNet};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const HOST_V4: &str = "192.0.2.10";
const HOST_V6: &str = "2001:db8:33::10";
const OUTSIDE_V4: &str = "192.0.2.20";
const OUTSIDE_V6: &str = "2001:db8:33::20";

/// Runs `f` on a fresh thread that entered namespace `ns` (never reused).
fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = TestNet::path(ns);
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).expect("opening the namespace");
        // SAFETY: setns on a valid namespace fd; this thread is ours alone.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}");
        f()
    })
    .join()
    .expect("namespace thread")
}

/// A server answering "ok" on port 80 (both families) until dropped.
struct Server(Arc<AtomicBool>);

impl Server {
    fn start(ns: &str) -> Server {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let listener = in_netns(ns, || {
            TcpListener::bind("[::]:80").expect("binding port 80")
        });
        listener.set_nonblocking(true).expect("nonblocking");
        std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        let _ = s.write_all(b"ok");
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Server(stop)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Whether a connection from `ns` to `to` reaches the server.
fn reaches(ns: &str, to: &str) -> bool {
    let addr: SocketAddr = to.parse().expect("address");
    in_netns(ns, move || {
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let mut got = String::new();
        let _ = s.read_to_string(&mut got);
        got == "ok"
    })
}

fn ip(ns: &str, args: &[&str]) {
    let out = Command::new("ip")
        .args(["-n", ns])
        .args(args)
        .output()
        .expect("ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// IPv6 addresses are unusable while tentative (the bridge's gateway and the
/// containers' addresses run DAD).
fn wait_for_dad(ns: &str) {
    for _ in 0..100 {
        let out = Command::new("ip")
            .args(["-n", ns, "-6", "addr", "show", "tentative"])
            .output()
            .expect("ip");
        if out.stdout.is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("IPv6 addresses in {ns} still tentative after 5 s");
}

fn nft_ruleset(ns: &str) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "nft", "list", "ruleset"])
        .output()
        .expect("nft");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

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
    let netns = TestNet::path(container);
    let dir = plugin
        .parent()
        .expect("plugin dir")
        .to_string_lossy()
        .into_owned();
    let env = [
        ("CNI_COMMAND", verb),
        ("CNI_CONTAINERID", container),
        ("CNI_NETNS", netns.as_str()),
        ("CNI_IFNAME", "eth0"),
        ("CNI_PATH", dir.as_str()),
    ];
    let stdin = serde_json::to_vec(conf).expect("config");
    let out = world.net.run_plugin(&world.host, plugin, &env, &stdin);
    out.assert_ok();
    if out.stdout.trim().is_empty() {
        Value::Null
    } else {
        out.json()
    }
}

fn world() -> World {
    let mut net = TestNet::new();
    let host = net.add_ns("host");
    let server = net.add_ns("srv");
    let client = net.add_ns("cli");
    let outside = net.add_ns("out");
    // The host's own addresses sit on its link to a namespace playing the outside.
    let (uplink, peer) = (format!("{}u", net.prefix), format!("{}p", net.prefix));
    ip(
        &host,
        &[
            "link", "add", &uplink, "type", "veth", "peer", "name", &peer, "netns", &outside,
        ],
    );
    ip(
        &host,
        &["addr", "add", &format!("{HOST_V4}/24"), "dev", &uplink],
    );
    ip(
        &host,
        &[
            "addr",
            "add",
            &format!("{HOST_V6}/64"),
            "dev",
            &uplink,
            "nodad",
        ],
    );
    ip(&host, &["link", "set", &uplink, "up"]);
    ip(
        &outside,
        &["addr", "add", &format!("{OUTSIDE_V4}/24"), "dev", &peer],
    );
    ip(
        &outside,
        &[
            "addr",
            "add",
            &format!("{OUTSIDE_V6}/64"),
            "dev",
            &peer,
            "nodad",
        ],
    );
    ip(&outside, &["link", "set", &peer, "up"]);
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
    if !privileged("our_portmap_reaches_at_least_what_the_reference_reaches") {
        return;
    }
    let Some(dir) = reference_dir() else {
        eprintln!("SKIPPED (no reference plugins in /usr/lib/cni)");
        return;
    };
    let theirs = connectivity(&dir.join("portmap"), json!({"backend": "nftables"}));
    let ours = connectivity(&our_plugin("portmap"), json!({"backend": "nftables"}));
    eprintln!("reference: {theirs:?}\nours: {ours:?}");
    for ((what, t), (_, o)) in theirs.iter().zip(&ours) {
        assert!(!t || *o, "the reference reaches {what:?}, we do not");
    }
}
