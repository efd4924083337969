//! Differential runs: the same scenario through our plugin binaries and
//! through the reference ones, each side in its own set of namespaces (a
//! "host" namespace the plugins run in, container namespaces beside it) with
//! its own scratch directory for IPAM leases.
//!
//! Until our `host-local` exists, both sides use the reference `host-local`:
//! our side's `CNI_PATH` is a scratch directory holding links to our main
//! plugins and to the reference IPAM plugin only, so no other binary of the
//! shared target directory can be picked up by accident.

use crate::realns::{norm_name, our_plugin, reference_dir, PluginRun, TestNet};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The main plugins this harness runs.
pub const MAIN_PLUGINS: [&str; 4] = ["bridge", "ptp", "macvlan", "loopback"];

/// The chained plugins this harness runs after a main plugin.
pub const CHAINED_PLUGINS: [&str; 3] = ["tuning", "bandwidth", "firewall"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    Ours,
    Reference,
}

/// One container attachment: container ID, interface name, namespace.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub container_id: String,
    pub ifname: String,
    pub netns: String,
}

/// One implementation's namespaces and scratch space.
pub struct Side {
    pub imp: Impl,
    pub net: TestNet,
    pub host: String,
    scratch: PathBuf,
    bin_dir: PathBuf,
}

impl Side {
    pub fn new(imp: Impl) -> Side {
        let mut net = TestNet::new();
        let host = net.add_ns("host");
        let scratch = std::env::temp_dir().join(format!("cni-rs-{}", net.prefix));
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(scratch.join("data")).expect("creating scratch dir");
        let reference = reference_dir().expect("reference plugins in /usr/lib/cni");
        let bin_dir = match imp {
            Impl::Reference => reference.to_path_buf(),
            Impl::Ours => {
                let bin = scratch.join("bin");
                std::fs::create_dir_all(&bin).expect("creating bin dir");
                for name in MAIN_PLUGINS.iter().chain(&CHAINED_PLUGINS) {
                    std::os::unix::fs::symlink(our_plugin(name), bin.join(name))
                        .expect("linking our plugin");
                }
                std::os::unix::fs::symlink(reference.join("host-local"), bin.join("host-local"))
                    .expect("linking the reference host-local");
                std::os::unix::fs::symlink(our_plugin("static"), bin.join("static"))
                    .expect("linking our static");
                bin
            }
        };
        Side {
            imp,
            net,
            host,
            scratch,
            bin_dir,
        }
    }

    /// A new container namespace and an attachment `eth0` in it.
    pub fn container(&mut self, role: &str, container_id: &str) -> Attachment {
        let ns = self.net.add_ns(role);
        Attachment {
            container_id: container_id.to_string(),
            ifname: "eth0".to_string(),
            netns: TestNet::path(&ns),
        }
    }

    /// Runs a shell-free command inside the host namespace (test setup such
    /// as the parent link of a macvlan).
    pub fn in_host(&self, args: &[&str]) {
        let out = Command::new("ip")
            .args(["-n", &self.host])
            .args(args)
            .output()
            .expect("running ip");
        assert!(
            out.status.success(),
            "ip {args:?} in {}: {}",
            self.host,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A new container attached by `main` (a main plugin's config
    /// template, run at `version`) and `plugin`'s config to chain after it:
    /// `cniVersion` and `name` as `main`'s, `prevResult` its ADD result.
    /// Returns the attachment, the main config and the chained one.
    pub fn chained(
        &mut self,
        container_id: &str,
        main: &Value,
        version: &str,
        plugin: &Value,
    ) -> (Attachment, Value, Value) {
        let att = self.container(container_id, container_id);
        let main = self.conf(main, version);
        let prev = self.run("ADD", &main, &att).assert_ok().json();
        let mut conf = plugin.clone();
        conf["cniVersion"] = main["cniVersion"].clone();
        conf["name"] = main["name"].clone();
        conf["prevResult"] = prev;
        (att, main, conf)
    }

    /// The name of the namespace of `att` (made by [`Side::container`]).
    pub fn ns_of(att: &Attachment) -> String {
        att.netns.rsplit('/').next().unwrap_or_default().to_string()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.scratch.join("data")
    }

    /// This side's binary of `plugin` (to run it in another side's namespaces).
    pub fn plugin_path(&self, plugin: &str) -> PathBuf {
        self.bin_dir.join(plugin)
    }

    /// The scenario's config for this side: the version set, and host-local's
    /// `dataDir` pointed at this side's scratch space.
    pub fn conf(&self, template: &Value, version: &str) -> Value {
        let mut conf = template.clone();
        conf["cniVersion"] = Value::String(version.to_string());
        if conf.pointer("/ipam/type").and_then(Value::as_str) == Some("host-local") {
            conf["ipam"]["dataDir"] = Value::String(self.data_dir().display().to_string());
        }
        conf
    }

    pub fn run(&self, verb: &str, conf: &Value, att: &Attachment) -> PluginRun {
        self.run_raw(
            verb,
            conf.to_string().as_bytes(),
            att,
            conf["type"].as_str(),
        )
    }

    /// As `run`, with the config given as bytes (possibly malformed) and the
    /// plugin named separately.
    pub fn run_raw(
        &self,
        verb: &str,
        stdin: &[u8],
        att: &Attachment,
        plugin: Option<&str>,
    ) -> PluginRun {
        let plugin = plugin.expect("config has a type");
        self.run_with_args(verb, stdin, att, plugin, None)
    }

    /// As `run_raw`, with `CNI_ARGS` set when given.
    pub fn run_with_args(
        &self,
        verb: &str,
        stdin: &[u8],
        att: &Attachment,
        plugin: &str,
        cni_args: Option<&str>,
    ) -> PluginRun {
        self.run_binary(&self.bin_dir.join(plugin), verb, stdin, att, cni_args)
    }

    /// Runs `binary` (this side's or another implementation's, as a node
    /// switching implementations would) in this side's namespaces, with
    /// this side's `CNI_PATH`.
    pub fn run_binary(
        &self,
        binary: &Path,
        verb: &str,
        stdin: &[u8],
        att: &Attachment,
        cni_args: Option<&str>,
    ) -> PluginRun {
        let cni_path = self.bin_dir.display().to_string();
        let mut env = vec![
            ("CNI_COMMAND", verb),
            ("CNI_CONTAINERID", &att.container_id),
            ("CNI_NETNS", &att.netns),
            ("CNI_IFNAME", &att.ifname),
            ("CNI_PATH", &cni_path),
        ];
        env.extend(cni_args.map(|a| ("CNI_ARGS", a)));
        self.net.run_plugin(&self.host, binary, &env, stdin)
    }

    /// The addresses host-local holds leases for in `network`.
    pub fn leases(&self, network: &str) -> Vec<String> {
        let dir = self.data_dir().join(network);
        let mut out: Vec<String> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| name.parse::<std::net::IpAddr>().is_ok())
            .collect();
        out.sort();
        out
    }

    /// The masquerade rules this side installed for a container: ours live in
    /// the nftables table `inet cni_rs_nat`, the reference's in iptables chains.
    pub fn masquerade_rules(&self, network: &str, container_id: &str) -> Vec<String> {
        let (commands, tag): (&[&[&str]], String) = match self.imp {
            Impl::Ours => (
                &[&["nft", "list", "ruleset"]],
                format!("net={network} id={container_id}"),
            ),
            Impl::Reference => (
                &[
                    &["iptables-save", "-t", "nat"],
                    &["ip6tables-save", "-t", "nat"],
                ],
                format!("name: \\\"{network}\\\" id: \\\"{container_id}\\\""),
            ),
        };
        let mut rules = Vec::new();
        for cmd in commands {
            let out = Command::new("ip")
                .args(["netns", "exec", &self.host])
                .args(*cmd)
                .output()
                .expect("listing firewall rules");
            let text = String::from_utf8_lossy(&out.stdout);
            rules.extend(
                text.lines()
                    .filter(|l| l.contains(&tag))
                    .map(|l| l.trim().to_string()),
            );
        }
        rules
    }

    /// A result made comparable across sides: this side's namespace prefix
    /// replaced, MACs dropped, generated veth names blanked.
    pub fn normalize(&self, result: &Value) -> Value {
        crate::realns::normalize_result(self.without_prefix(result))
    }

    /// `v` with this side's namespace prefix replaced by `P`.
    pub fn without_prefix(&self, v: &Value) -> Value {
        let text = v.to_string().replace(&self.net.prefix, "P");
        serde_json::from_str(&text).expect("re-parsing JSON")
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// `ip -d link show dev <name>` in `ns`, as text.
pub fn link_details(ns: &str, name: &str) -> String {
    let out = Command::new("ip")
        .args(["-n", ns, "-d", "link", "show", "dev", name])
        .output()
        .expect("running ip");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The MAC of a link, read from the kernel.
pub fn link_mac(ns: &str, name: &str) -> String {
    let out = Command::new("ip")
        .args(["-n", ns, "-j", "link", "show", "dev", name])
        .output()
        .expect("running ip");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v.pointer("/0/address")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Global IPv6 addresses in `ns` with whether each was added with `nodad`.
pub fn ipv6_nodad(ns: &str) -> Vec<(String, bool)> {
    let out = Command::new("ip")
        .args(["-n", ns, "-j", "-6", "addr", "show", "scope", "global"])
        .output()
        .expect("running ip");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let mut found = Vec::new();
    for link in v.as_array().into_iter().flatten() {
        // `ip -j` prints `{}` for each address the filter left out.
        for a in link["addr_info"].as_array().into_iter().flatten() {
            if a.get("local").is_none() {
                continue;
            }
            found.push((
                a["local"].as_str().unwrap_or_default().to_string(),
                a["nodad"].as_bool().unwrap_or(false),
            ));
        }
    }
    found
}

/// `net.ipv4.ip_forward` and `net.ipv6.conf.all.forwarding` in `ns`.
pub fn forwarding(ns: &str) -> (String, String) {
    let read = |key: &str| {
        let out = Command::new("ip")
            .args(["netns", "exec", ns, "cat"])
            .arg(Path::new("/proc/sys").join(key))
            .output()
            .expect("reading sysctl");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    (
        read("net/ipv4/ip_forward"),
        read("net/ipv6/conf/all/forwarding"),
    )
}

/// The names of the links in `ns` other than `lo`, unnormalized.
pub fn link_names(ns: &str) -> Vec<String> {
    let out = Command::new("ip")
        .args(["-n", ns, "-j", "link", "show"])
        .output()
        .expect("running ip");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["ifname"].as_str())
        .filter(|n| *n != "lo")
        .map(str::to_string)
        .collect()
}

/// Whether a name is one both sides generate differently (host veths).
pub fn is_generated(name: &str) -> bool {
    norm_name(name) != name
}
