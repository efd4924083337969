//! Node boot on the real kernel: 50 ADDs started at once on a bridge network
//! whose bridge does not exist yet (IPv4 + IPv6, `ipMasq`), some made to fail
//! late on purpose, some killed with SIGKILL mid-ADD. Every valid ADD must
//! succeed and its container reach the gateway; then parallel DELs, each
//! retried until it succeeds as a runtime retries, and a GC, after which no
//! container link, host veth, lease, index entry or masquerade rule is left.
//! Repeated on a fresh network several times in one run.

use cni_conformance::realns::{our_plugin, privileged, TestNet};
use serde_json::{json, Value};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

const CONTAINERS: usize = 50;
const ROUNDS: usize = 3;
const NETWORK: &str = "stress";

/// What each container of a round is made to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// An ordinary ADD that must succeed.
    Valid,
    /// The container namespace already has default routes, so ADD fails when
    /// it adds its own: after IPAM, the bridge, the veth pair and addresses.
    FailsLate,
    /// Killed with SIGKILL a few milliseconds into ADD.
    Killed,
}

fn role(i: usize) -> Role {
    match i % 10 {
        3 => Role::FailsLate,
        7 => Role::Killed,
        _ => Role::Valid,
    }
}

struct Round {
    net: TestNet,
    host: String,
    containers: Vec<String>,
    bin: PathBuf,
    data: PathBuf,
    conf: Value,
}

impl Round {
    fn new() -> Round {
        let mut net = TestNet::new();
        let host = net.add_ns("host");
        let containers = (0..CONTAINERS)
            .map(|i| net.add_ns(&format!("c{i}")))
            .collect();
        let scratch = std::env::temp_dir().join(format!("cni-rs-stress-{}", net.prefix));
        let _ = std::fs::remove_dir_all(&scratch);
        let (bin, data) = (scratch.join("bin"), scratch.join("data"));
        std::fs::create_dir_all(&bin).expect("creating bin dir");
        std::fs::create_dir_all(&data).expect("creating data dir");
        for plugin in ["bridge", "host-local"] {
            std::os::unix::fs::symlink(our_plugin(plugin), bin.join(plugin))
                .expect("linking our plugin");
        }
        let conf = json!({
            "cniVersion": "1.1.0", "name": NETWORK, "type": "bridge",
            "bridge": format!("{}br", net.prefix),
            "isGateway": true, "isDefaultGateway": true, "ipMasq": true,
            "ipam": {"type": "host-local", "dataDir": data.display().to_string(),
                     "ranges": [[{"subnet": "10.241.0.0/24"}], [{"subnet": "fd00:241::/64"}]]}
        });
        Round {
            net,
            host,
            containers,
            bin,
            data,
            conf,
        }
    }

    fn spawn(&self, verb: &str, i: usize, stdin: &Value) -> Child {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.host])
            .arg(self.bin.join("bridge"))
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("CNI_COMMAND", verb)
            .env("CNI_CONTAINERID", format!("stress-{i:02}"))
            .env("CNI_NETNS", TestNet::path(&self.containers[i]))
            .env("CNI_IFNAME", "eth0")
            .env("CNI_PATH", &self.bin)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning the plugin");
        let mut input = child.stdin.take().expect("stdin");
        // A killed plugin may close its stdin before reading it all.
        let _ = input.write_all(stdin.to_string().as_bytes());
        child
    }

    /// Runs one verb to the end: (exit code, stdout, stderr).
    fn run(&self, verb: &str, i: usize, stdin: &Value) -> (i32, String, String) {
        let out = self
            .spawn(verb, i, stdin)
            .wait_with_output()
            .expect("waiting for the plugin");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn ip(&self, ns: &str, args: &[&str]) -> String {
        let out = Command::new("ip")
            .args(["-n", ns])
            .args(args)
            .output()
            .expect("running ip");
        assert!(
            out.status.success(),
            "ip -n {ns} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Default routes that the plugin's own default routes collide with.
    fn block_default_routes(&self, i: usize) {
        let ns = &self.containers[i];
        self.ip(ns, &["link", "add", "blk0", "type", "veth", "peer", "blk1"]);
        self.ip(ns, &["link", "set", "blk0", "up"]);
        self.ip(ns, &["link", "set", "blk1", "up"]);
        self.ip(ns, &["addr", "add", "192.0.2.1/24", "dev", "blk0"]);
        self.ip(
            ns,
            &["addr", "add", "2001:db8::1/64", "dev", "blk0", "nodad"],
        );
        self.ip(ns, &["route", "add", "default", "via", "192.0.2.2"]);
        self.ip(ns, &["-6", "route", "add", "default", "via", "2001:db8::2"]);
    }

    fn sysctl(&self, key: &str) -> String {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.host, "cat"])
            .arg(Path::new("/proc/sys").join(key))
            .output()
            .expect("reading a sysctl");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn leases(&self) -> Vec<String> {
        let dir = self.data.join(NETWORK);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.parse::<IpAddr>().is_ok())
            .collect()
    }

    fn index_entries(&self) -> Vec<String> {
        let dir = self.data.join(NETWORK).join(".cni-rs-index");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "seal")
            .collect()
    }
}

/// Starts every ADD at once; returns each container's (role, exit code, stdout, stderr).
fn add_all(round: &Round) -> Vec<(Role, i32, String, String)> {
    thread::scope(|s| {
        let handles: Vec<_> = (0..CONTAINERS)
            .map(|i| {
                s.spawn(move || {
                    let r = role(i);
                    if r == Role::Killed {
                        let mut child = round.spawn("ADD", i, &round.conf);
                        thread::sleep(Duration::from_millis(2 + (i as u64 % 5) * 3));
                        let _ = child.kill();
                        let _ = child.wait();
                        return (r, -9, String::new(), String::new());
                    }
                    let (code, out, err) = round.run("ADD", i, &round.conf);
                    (r, code, out, err)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("ADD thread"))
            .collect()
    })
}

/// DEL every container at once, each retried until it succeeds.
fn del_all(round: &Round) {
    thread::scope(|s| {
        for i in 0..CONTAINERS {
            s.spawn(move || {
                let mut last = (0, String::new(), String::new());
                for _ in 0..5 {
                    last = round.run("DEL", i, &round.conf);
                    if last.0 == 0 {
                        return;
                    }
                    thread::sleep(Duration::from_millis(50));
                }
                panic!(
                    "DEL of container {i} never succeeded: {} {}",
                    last.1, last.2
                );
            });
        }
    });
}

fn gateway_reachable(round: &Round, i: usize) -> bool {
    let ns = &round.containers[i];
    ["10.241.0.1", "fd00:241::1"].iter().all(|gw| {
        Command::new("ip")
            .args(["netns", "exec", ns, "ping", "-c", "1", "-W", "3", gw])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    })
}

fn one_round() {
    let round = Round::new();
    for i in (0..CONTAINERS).filter(|&i| role(i) == Role::FailsLate) {
        round.block_default_routes(i);
    }
    let outcomes = add_all(&round);

    for (i, (r, code, out, err)) in outcomes.iter().enumerate() {
        match r {
            Role::Valid => assert_eq!(*code, 0, "ADD of container {i} failed: {out} {err}"),
            Role::FailsLate => {
                assert_ne!(*code, 0, "ADD of container {i} should have failed: {out}");
                let e: Value = serde_json::from_str(out).expect("a CNI error on stdout");
                assert_eq!(e["code"], 5, "a failed kernel operation: {out}");
                let msg = e["msg"].as_str().unwrap_or_default();
                assert!(msg.starts_with("adding route"), "failed late: {msg}");
                let links = round.ip(&round.containers[i], &["-o", "link", "show"]);
                assert!(!links.contains("eth0"), "failed ADD {i} left eth0: {links}");
            }
            Role::Killed => {}
        }
    }
    for i in (0..CONTAINERS).filter(|&i| role(i) == Role::Valid) {
        assert!(
            gateway_reachable(&round, i),
            "container {i} cannot reach its gateways"
        );
    }
    assert_eq!(round.sysctl("net/ipv4/ip_forward"), "1", "IPv4 forwarding");
    assert_eq!(
        round.sysctl("net/ipv6/conf/all/forwarding"),
        "1",
        "IPv6 forwarding"
    );

    del_all(&round);
    let mut gc = round.conf.clone();
    gc["cni.dev/valid-attachments"] = json!([]);
    let (code, out, err) = round.run("GC", 0, &gc);
    assert_eq!(code, 0, "GC failed: {out} {err}");

    let host_links = round.ip(&round.host, &["-o", "link", "show", "type", "veth"]);
    assert!(
        host_links.trim().is_empty(),
        "host veths left: {host_links}"
    );
    for (i, ns) in round.containers.iter().enumerate() {
        let links = round.ip(ns, &["-o", "link", "show"]);
        assert!(!links.contains("eth0"), "container {i} keeps eth0: {links}");
    }
    assert_eq!(round.leases(), Vec::<String>::new(), "leases left");
    assert_eq!(
        round.index_entries(),
        Vec::<String>::new(),
        "index entries left"
    );
    let rules = Command::new("ip")
        .args(["netns", "exec", &round.host, "nft", "list", "ruleset"])
        .output()
        .expect("running nft");
    let rules = String::from_utf8_lossy(&rules.stdout);
    assert!(
        !rules.contains("masquerade"),
        "masquerade rules left:\n{rules}"
    );
    let _ = std::fs::remove_dir_all(round.data.parent().expect("scratch dir"));
    drop(round.net);
}

#[test]
fn fifty_parallel_adds_with_failures_and_kills_leave_nothing_after_del_and_gc() {
    if !privileged("fifty_parallel_adds_with_failures_and_kills_leave_nothing_after_del_and_gc") {
        return;
    }
    for _ in 0..ROUNDS {
        one_round();
    }
}
