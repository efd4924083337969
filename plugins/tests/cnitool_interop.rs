//! Our cnitool driving the reference plugins (`/usr/lib/cni/bridge` +
//! `host-local`) through ADD/CHECK/DEL in real namespaces: one playing the
//! host (cnitool runs inside it) and one container namespace. Needs root.

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

const CNITOOL: &str = env!("CARGO_BIN_EXE_cnitool");
const REFERENCE_PLUGINS: &str = "/usr/lib/cni";

/// Namespaces with a unique prefix, removed on drop (also on panic).
struct Namespaces {
    prefix: String,
    names: Vec<String>,
}

impl Namespaces {
    fn new() -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let prefix = format!(
            "t{}-{}-",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        Namespaces {
            prefix,
            names: Vec::new(),
        }
    }

    fn add(&mut self, role: &str) -> String {
        let name = format!("{}{role}", self.prefix);
        let out = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ip netns add {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.names.push(name.clone());
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        name
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for name in self.names.iter().rev() {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn privileged(test: &str) -> bool {
    if is_root() && Path::new(REFERENCE_PLUGINS).join("bridge").exists() {
        return true;
    }
    if std::env::var("CNI_TEST_REQUIRE_PRIVILEGED").as_deref() == Ok("1") {
        panic!("{test} needs root and {REFERENCE_PLUGINS}/bridge (CNI_TEST_REQUIRE_PRIVILEGED=1)");
    }
    eprintln!("SKIPPED (needs root and the reference plugins in {REFERENCE_PLUGINS}): {test}");
    false
}

#[test]
fn cnitool_drives_reference_bridge_and_host_local_through_add_check_del() {
    if !privileged("cnitool_drives_reference_bridge_and_host_local_through_add_check_del") {
        return;
    }
    let mut ns = Namespaces::new();
    let host = ns.add("host");
    let ctr = ns.add("ctr");
    let bridge = format!("{}br", ns.prefix);
    let tmp = tempfile::tempdir().unwrap();
    let netconf = tmp.path().join("net.d");
    std::fs::create_dir(&netconf).unwrap();
    let data_dir = tmp.path().join("ipam");
    let cache_dir = tmp.path().join("cache");
    let conf = json!({"cniVersion":"1.0.0","name":"interop","plugins":[{
        "type":"bridge","bridge": bridge,"isGateway":true,
        "ipam":{"type":"host-local","subnet":"10.231.7.0/24","dataDir": data_dir}}]});
    std::fs::write(netconf.join("10-interop.conflist"), conf.to_string()).unwrap();
    let netns_path = format!("/run/netns/{ctr}");

    let cnitool = |verb: &str| -> Output {
        Command::new("ip")
            .args(["netns", "exec", &host, CNITOOL, "--cache-dir"])
            .arg(&cache_dir)
            .args([verb, "interop", &netns_path])
            .env("NETCONFPATH", &netconf)
            .env("CNI_PATH", REFERENCE_PLUGINS)
            .env_remove("CNI_ARGS")
            .env_remove("CAP_ARGS")
            .env_remove("CNI_IFNAME")
            .output()
            .unwrap()
    };
    let describe = |o: &Output| {
        format!(
            "status {:?}\nstdout {}\nstderr {}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };

    let added = cnitool("add");
    assert!(added.status.success(), "add: {}", describe(&added));
    let result: Value = serde_json::from_slice(&added.stdout).unwrap();
    assert_eq!(result["cniVersion"], "1.0.0");
    let address = result["ips"][0]["address"].as_str().unwrap().to_string();
    assert!(address.starts_with("10.231.7."), "{result}");
    assert_eq!(result["ips"][0]["gateway"], "10.231.7.1");
    let ctr_addr = ip(&["-n", &ctr, "-o", "addr", "show", "dev", "eth0"]);
    assert!(ctr_addr.contains(&address), "{ctr_addr}");
    assert!(ip(&["-n", &host, "-o", "addr", "show", "dev", &bridge]).contains("10.231.7.1/24"));
    let cache_files: Vec<_> = std::fs::read_dir(cache_dir.join("results"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(cache_files.len(), 1);
    assert!(
        cache_files[0].starts_with("interop-cnitool-") && cache_files[0].ends_with("-eth0"),
        "{cache_files:?}"
    );
    let lease_ip = address.split('/').next().unwrap();
    assert!(
        data_dir.join("interop").join(lease_ip).exists(),
        "host-local lease written"
    );

    let checked = cnitool("check");
    assert!(checked.status.success(), "check: {}", describe(&checked));

    let deleted = cnitool("del");
    assert!(deleted.status.success(), "del: {}", describe(&deleted));
    assert!(
        !ip(&["-n", &ctr, "-o", "link", "show"]).contains("eth0"),
        "container interface removed"
    );
    assert!(
        !data_dir.join("interop").join(lease_ip).exists(),
        "lease released"
    );
    assert_eq!(
        std::fs::read_dir(cache_dir.join("results"))
            .unwrap()
            .count(),
        0,
        "cache entry removed"
    );

    // A second DEL of something already gone still succeeds.
    let again = cnitool("del");
    assert!(again.status.success(), "second del: {}", describe(&again));
}
