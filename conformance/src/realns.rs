//! Real network namespaces for tests: a namespace that plays the host, container
//! namespaces beside it, plugins run inside the host one. All names carry a
//! unique prefix and are removed when the guard drops, also on panic. Nothing
//! here touches the machine's own network namespace.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub use cni_core::testsupport::privileged;

/// The reference plugins' directory, when installed.
pub fn reference_dir() -> Option<&'static Path> {
    let dir = Path::new("/usr/lib/cni");
    dir.join("bridge").exists().then_some(dir)
}

/// For a test that runs the reference plugins in real namespaces: the
/// reference's directory when the test can run (root, `/usr/lib/cni`);
/// otherwise `None` after skipping loudly (a failure where skipping is
/// forbidden, see [`cni_core::testsupport::require`]).
pub fn reference_for(test: &str) -> Option<&'static Path> {
    if !privileged(test) {
        return None;
    }
    let dir = reference_dir();
    cni_core::testsupport::require(test, "the reference plugins in /usr/lib/cni", dir.is_some())
        .then_some(dir)
        .flatten()
}

/// Where our plugin binaries are: `CNI_RS_BIN_DIR` if set, else
/// `<target>/debug`, where `<target>` is `CARGO_TARGET_DIR` or the
/// workspace's `target/`. (`CARGO_BIN_EXE_*` only works inside the package
/// that builds the binaries, and this is another package.)
pub fn plugin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CNI_RS_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("debug")
}

/// One of our plugin binaries; panics with what to do when it is missing.
pub fn our_plugin(name: &str) -> PathBuf {
    let path = plugin_dir().join(name);
    assert!(
        path.is_file(),
        "our plugin binary {} is missing: run `cargo build -p cni-plugins --bins` \
         (with the same CARGO_TARGET_DIR), or point CNI_RS_BIN_DIR at the binaries",
        path.display()
    );
    path
}

/// The addresses [`TestNet::add_outside`] gives the host and the outside.
pub const HOST_V4: &str = "192.0.2.10";
pub const HOST_V6: &str = "2001:db8:33::10";
pub const OUTSIDE_V4: &str = "192.0.2.20";
pub const OUTSIDE_V6: &str = "2001:db8:33::20";

/// A set of namespaces for one test.
pub struct TestNet {
    /// Short and unique: usable inside link names (`<prefix>br`).
    pub prefix: String,
    namespaces: Vec<String>,
}

impl TestNet {
    pub fn new() -> TestNet {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        TestNet {
            prefix: format!("t{:x}x{n:x}", std::process::id() % 0xfffff),
            namespaces: Vec::new(),
        }
    }

    /// Creates `<prefix>-<role>` with loopback up, as a runtime's would
    /// be, and returns its name.
    pub fn add_ns(&mut self, role: &str) -> String {
        let name = self.add_bare_ns(role);
        run_ok(Command::new("ip").args(["-n", &name, "link", "set", "lo", "up"]));
        name
    }

    /// Creates `<prefix>-<role>` as the kernel makes it (loopback down).
    pub fn add_bare_ns(&mut self, role: &str) -> String {
        let name = format!("{}-{role}", self.prefix);
        run_ok(Command::new("ip").args(["netns", "add", &name]));
        self.namespaces.push(name.clone());
        name
    }

    pub fn path(name: &str) -> String {
        format!("/var/run/netns/{name}")
    }

    /// A namespace `<prefix>-out` playing the world outside `host`, joined
    /// to it by a veth pair: the host's end holds [`HOST_V4`] and
    /// [`HOST_V6`], the outside's [`OUTSIDE_V4`] and [`OUTSIDE_V6`] (both
    /// without DAD). Returns the outside namespace's name.
    pub fn add_outside(&mut self, host: &str) -> String {
        let outside = self.add_ns("out");
        let (uplink, peer) = (format!("{}u", self.prefix), format!("{}p", self.prefix));
        ip_ok(
            host,
            &[
                "link", "add", &uplink, "type", "veth", "peer", "name", &peer, "netns", &outside,
            ],
        );
        for (ns, link, v4, v6) in [
            (host, &uplink, HOST_V4, HOST_V6),
            (&outside, &peer, OUTSIDE_V4, OUTSIDE_V6),
        ] {
            ip_ok(ns, &["addr", "add", &format!("{v4}/24"), "dev", link]);
            ip_ok(
                ns,
                &["addr", "add", &format!("{v6}/64"), "dev", link, "nodad"],
            );
            ip_ok(ns, &["link", "set", link, "up"]);
        }
        outside
    }

    /// Runs a plugin binary inside namespace `host` with exactly the CNI
    /// environment given (plus PATH), the config on stdin.
    pub fn run_plugin(
        &self,
        host: &str,
        plugin: &Path,
        env: &[(&str, &str)],
        stdin: &[u8],
    ) -> PluginRun {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", host])
            .arg(plugin)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawning ip netns exec");
        {
            use std::io::Write;
            let mut input = child.stdin.take().expect("stdin");
            // A plugin that exits before reading its config is an outcome
            // the caller sees in the run, not a harness failure.
            let _ = input.write_all(stdin);
        }
        let out = child.wait_with_output().expect("waiting for plugin");
        PluginRun {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs `plugin` in namespace `host` for the attachment `eth0` of
    /// `container_id` in namespace `ctr`, `conf` on stdin, our binaries'
    /// directory as `CNI_PATH` (where our bridge finds host-local).
    pub fn run_attached(
        &self,
        host: &str,
        plugin: &Path,
        verb: &str,
        (container_id, ctr): (&str, &str),
        conf: &Value,
    ) -> PluginRun {
        let netns = TestNet::path(ctr);
        let dir = plugin_dir().display().to_string();
        let env = [
            ("CNI_COMMAND", verb),
            ("CNI_CONTAINERID", container_id),
            ("CNI_NETNS", netns.as_str()),
            ("CNI_IFNAME", "eth0"),
            ("CNI_PATH", dir.as_str()),
        ];
        let stdin = serde_json::to_vec(conf).expect("config");
        self.run_plugin(host, plugin, &env, &stdin)
    }

    /// Links, addresses and routes of a namespace, normalized so two runs
    /// that differ only in generated names, MACs and indexes compare equal.
    pub fn state(&self, ns: &str) -> Value {
        let links = ip_json(ns, &["-d", "link", "show"]);
        let addrs = ip_json(ns, &["addr", "show"]);
        let routes = ip_json(ns, &["route", "show", "table", "all"]);
        let routes6 = ip_json(ns, &["-6", "route", "show", "table", "all"]);
        let mut out_links: Vec<Value> = entries(&links).map(link_state).collect();
        out_links.sort_by_key(|v| v["name"].as_str().unwrap_or("").to_string());
        let mut out_addrs = Vec::new();
        for l in entries(&addrs) {
            for a in entries(&l["addr_info"]) {
                if a["scope"] == "link" && a["family"] == "inet6" {
                    continue;
                }
                out_addrs.push(format!(
                    "{} {}/{}",
                    norm_name(l["ifname"].as_str().unwrap_or("")),
                    a["local"].as_str().unwrap_or(""),
                    a["prefixlen"]
                ));
            }
        }
        out_addrs.sort();
        let mut out_routes: Vec<String> = entries(&routes)
            .chain(entries(&routes6))
            .filter_map(route_state)
            .collect();
        out_routes.sort();
        json!({ "links": out_links, "addresses": out_addrs, "routes": out_routes })
    }
}

fn entries(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

/// One link of `ip -j -d link`, without what differs between runs.
fn link_state(l: &Value) -> Value {
    let flags: Vec<&str> = entries(&l["flags"]).filter_map(Value::as_str).collect();
    json!({
        "name": norm_name(l["ifname"].as_str().unwrap_or("")),
        "kind": l.pointer("/linkinfo/info_kind").cloned().unwrap_or(Value::Null),
        "mtu": l["mtu"],
        "txqlen": l.get("txqlen").cloned().unwrap_or(json!(0)),
        "up": flags.contains(&"UP"),
        "master": l.get("master").and_then(Value::as_str).map(norm_name),
        "promisc": l["promiscuity"].as_u64().unwrap_or(0) > 0 && l.get("master").is_none(),
        "hairpin": l.pointer("/linkinfo/info_slave_data/hairpin").cloned().unwrap_or(Value::Null),
        "macvlan_mode": l.pointer("/linkinfo/info_data/mode").cloned().unwrap_or(Value::Null),
    })
}

/// One route of `ip -j route show table all`; `None` for the kernel's own
/// (link-local, multicast, local table).
fn route_state(r: &Value) -> Option<String> {
    let dst = r["dst"].as_str().unwrap_or("");
    if dst.starts_with("fe80::") || r["type"] == "multicast" || r["table"] == "local" {
        return None;
    }
    Some(format!(
        "{dst} via {} dev {} scope {} table {}",
        r["gateway"].as_str().unwrap_or("-"),
        norm_name(r["dev"].as_str().unwrap_or("")),
        r["scope"].as_str().unwrap_or("global"),
        r["table"].as_str().unwrap_or("main"),
    ))
}

impl Default for TestNet {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        for ns in self.namespaces.drain(..).rev() {
            // Quietly: a test may have deleted a namespace itself.
            let _ = Command::new("ip").args(["netns", "del", &ns]).output();
        }
    }
}

/// What a plugin run printed and how it exited.
#[derive(Debug, Clone)]
pub struct PluginRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl PluginRun {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "plugin stdout is not JSON ({e}): {:?}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    /// The printed result of a run that must have succeeded; `Null` when
    /// it printed nothing (DEL, CHECK).
    pub fn ok_json(&self) -> Value {
        self.assert_ok();
        if self.stdout.trim().is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }

    pub fn assert_ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "plugin failed: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Host veth names differ between implementations (random in the reference,
/// derived in ours): both become `veth*`.
pub fn norm_name(name: &str) -> String {
    let is_generated_veth = name.len() == 12
        && name.starts_with("veth")
        && name[4..].chars().all(|c| c.is_ascii_hexdigit());
    if is_generated_veth {
        "veth*".to_string()
    } else {
        name.to_string()
    }
}

/// A result with MACs and generated host veth names blanked, for comparing
/// ours with the reference's.
pub fn normalize_result(mut result: Value) -> Value {
    if let Some(ifaces) = result.get_mut("interfaces").and_then(Value::as_array_mut) {
        for i in ifaces {
            if let Some(obj) = i.as_object_mut() {
                obj.remove("mac");
                if let Some(name) = obj.get("name").and_then(Value::as_str) {
                    let n = norm_name(name);
                    obj.insert("name".into(), Value::String(n));
                }
            }
        }
    }
    result
}

/// `ip -n <ns> <args>`, which must succeed.
pub fn ip_ok(ns: &str, args: &[&str]) {
    run_ok(Command::new("ip").args(["-n", ns]).args(args));
}

/// What a program prints when run inside namespace `ns` (exit status not
/// checked: "nothing there" may be an error exit).
pub fn in_ns_output(ns: &str, program: &str, args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, program])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program} in {ns}: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `<program> <args>` inside namespace `ns`, which must succeed.
pub fn in_ns_ok(ns: &str, program: &str, args: &[&str]) {
    run_ok(
        Command::new("ip")
            .args(["netns", "exec", ns, program])
            .args(args),
    );
}

/// The addresses of a result's `ips`, without their prefix length.
pub fn result_addrs(result: &Value) -> Vec<String> {
    entries(&result["ips"])
        .filter_map(|ip| ip["address"].as_str())
        .map(|cidr| cidr.split('/').next().unwrap_or(cidr).to_string())
        .collect()
}

/// The host end of the container's veth in a (bridge or ptp) result: its
/// host interface named `veth...`.
pub fn result_host_veth(result: &Value) -> String {
    entries(&result["interfaces"])
        .filter(|i| i.get("sandbox").is_none())
        .filter_map(|i| i["name"].as_str())
        .find(|n| n.starts_with("veth"))
        .unwrap_or_else(|| panic!("no host veth in the result: {result}"))
        .to_string()
}

/// `nft list ruleset` in `ns`.
pub fn nft_ruleset(ns: &str) -> String {
    in_ns_output(ns, "nft", &["list", "ruleset"])
}

/// The rules of `nft -j list ruleset` in `ns`, each as its JSON object.
pub fn nft_rules(ns: &str) -> Vec<Value> {
    let text = in_ns_output(ns, "nft", &["-j", "list", "ruleset"]);
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    entries(&v["nftables"])
        .filter_map(|e| e.get("rule").cloned())
        .collect()
}

/// `tc -j <args>` in `ns`, parsed (an empty list when tc prints nothing).
pub fn tc_json(ns: &str, args: &[&str]) -> Value {
    let mut full = vec!["-j"];
    full.extend_from_slice(args);
    let text = in_ns_output(ns, "tc", &full);
    serde_json::from_str(&text).unwrap_or(Value::Array(vec![]))
}

/// Every qdisc of `ns` as tc shows it, without counters, generated veth
/// names blanked, sorted.
pub fn qdisc_state(ns: &str) -> Vec<Value> {
    let shown = tc_json(ns, &["qdisc", "show"]);
    let mut out: Vec<Value> = entries(&shown)
        .map(|q| {
            json!({"dev": norm_name(q["dev"].as_str().unwrap_or_default()),
                "kind": q["kind"], "handle": q["handle"], "root": q["root"],
                "parent": q["parent"], "options": q["options"]})
        })
        .collect();
    out.sort_by_key(Value::to_string);
    out
}

/// A sysctl in `ns` (`key` as a path under /proc/sys), trimmed.
pub fn sysctl(ns: &str, key: &str) -> String {
    in_ns_output(ns, "cat", &[&format!("/proc/sys/{key}")])
        .trim()
        .to_string()
}

/// `ip -n <ns> -j <args>`, parsed (an empty list when ip prints nothing).
pub fn ip_json(ns: &str, args: &[&str]) -> Value {
    let out = Command::new("ip")
        .args(["-n", ns, "-j"])
        .args(args)
        .output()
        .expect("running ip");
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Array(vec![]))
}

/// The names of the links of `ns`, sorted.
pub fn link_names(ns: &str) -> Vec<String> {
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

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().expect("running command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
