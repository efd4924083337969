//! portmap, firewall, tuning, bandwidth and sbr under the fuzzer: ADD,
//! CHECK, DEL, DEL again through our binary and the reference's, both
//! sides at once, each in its own namespaces (`crate::differential::Side`):
//! a namespace playing the host with the bridge [`BRIDGE`], and a container
//! namespace joined to it by a veth pair with the addresses and routes the
//! case's synthetic `prevResult` names. The container namespace and the
//! pair are made afresh for every case (so sysctls, rules and tables start
//! as the kernel's), the host's rules flushed. CHECK and DEL get the side's
//! ADD result as `prevResult`, as a runtime's cache hands it on.
//!
//! Compared: outcome and error class, the result (`Side::normalize`), and
//! after ADD and after the last DEL the kernel state the plugin changes
//! where both implementations keep it alike: tuning's container link and
//! sysctls, bandwidth's qdiscs and links, sbr's rules and routes. portmap
//! and firewall keep their rules in nftables (ours) and iptables (the
//! reference's), compared by behaviour elsewhere (`real_portmap.rs`,
//! `real_firewall.rs`): here outcome and result only.

use super::chained_grammar::{
    self, BRIDGE, BRIDGE_MAC, CONTAINER_MAC, HOST_MAC, HOST_VETH, SYSCTL_FILES, V4, V6,
};
use super::deliberate::without_empty_dns;
use super::exec::{classify, Outcome};
use super::rng::Rng;
use super::steps::{run_both, with_prev_result, KernelSide};
use super::{Case, Difference, Target};
use crate::differential::{link_names, Attachment, Impl, Side};
use crate::realns::{ip_json, our_plugin, qdisc_state, sysctl, TestNet};
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// `ip -n <ns> -batch -` with `lines`; each must succeed.
fn ip_batch(ns: &str, lines: &[String]) {
    let mut child = Command::new("ip")
        .args(["-n", ns, "-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running ip -batch");
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(lines.join("\n").as_bytes())
            .expect("writing ip -batch input");
    }
    let out = child.wait_with_output().expect("waiting for ip -batch");
    assert!(
        out.status.success(),
        "ip -n {ns} -batch {lines:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn entries(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

/// One implementation's namespaces, kept across cases.
struct Kernel {
    side: Side,
    plugin: PathBuf,
    container: String,
}

impl Kernel {
    fn new(imp: Impl, plugin: &str) -> Kernel {
        let mut side = Side::new(imp);
        let container = Side::ns_of(&side.container("c", "c1"));
        let plugin = match imp {
            Impl::Ours => our_plugin(plugin),
            Impl::Reference => PathBuf::from(super::targets::REFERENCE_DIR).join(plugin),
        };
        ip_batch(
            &side.host,
            &[
                format!("link add {BRIDGE} address {BRIDGE_MAC} type bridge"),
                format!("addr add {}/24 dev {BRIDGE}", V4.1),
                format!("addr add {}/64 dev {BRIDGE} nodad", V6.1),
                format!("link set {BRIDGE} up"),
            ],
        );
        Kernel {
            side,
            plugin,
            container,
        }
    }

    fn config(&self, case: &Case) -> String {
        case.config
            .replace("@DATADIR@", &self.side.data_dir().to_string_lossy())
            .replace("@NETNS@", &TestNet::path(&self.container))
    }
}

impl KernelSide for Kernel {
    /// A fresh container namespace joined to the bridge, as the case's
    /// `prevResult` describes it; no rules in the host, no saved state.
    fn reset(&self) {
        let host = &self.side.host;
        let stale: Vec<String> = link_names(host)
            .into_iter()
            .filter(|l| l != BRIDGE)
            .map(|l| format!("link del {l}"))
            .collect();
        if !stale.is_empty() {
            ip_batch(host, &stale);
        }
        let _ = Command::new("ip")
            .args(["netns", "exec", host, "nft", "flush", "ruleset"])
            .output();
        let ns = &self.container;
        let _ = Command::new("ip").args(["netns", "del", ns]).output();
        let made = Command::new("ip").args(["netns", "add", ns]).output();
        assert!(made.is_ok_and(|o| o.status.success()), "ip netns add {ns}");
        ip_batch(
            host,
            &[
                format!("link add {HOST_VETH} address {HOST_MAC} type veth peer name eth0 address {CONTAINER_MAC} netns {ns}"),
                format!("link set {HOST_VETH} master {BRIDGE}"),
                format!("link set {HOST_VETH} up"),
            ],
        );
        ip_batch(
            ns,
            &[
                "link set lo up".to_string(),
                format!("addr add {} dev eth0", V4.0),
                format!("addr add {} dev eth0 nodad", V6.0),
                "link set eth0 up".to_string(),
                format!("route add 0.0.0.0/0 via {}", V4.1),
                format!("route add ::/0 via {}", V6.1),
            ],
        );
        let data = self.side.data_dir();
        let _ = std::fs::remove_dir_all(&data);
        let _ = std::fs::create_dir_all(&data);
    }

    /// One verb; a result comes back normalized, with the raw one beside it.
    fn step(&self, case: &Case, verb: &str, prev: Option<&Value>) -> (Outcome, Option<Value>) {
        let mut conf = self.config(case);
        let has_prev = serde_json::from_str::<Value>(&conf)
            .is_ok_and(|c| c.get("prevResult").is_some_and(Value::is_object));
        if verb != "ADD" && has_prev {
            conf = with_prev_result(&conf, prev);
        }
        let att = Attachment {
            container_id: "c1".to_string(),
            ifname: case.ifname.to_string(),
            netns: TestNet::path(&self.container),
        };
        let cni_args = Some(case.cni_args.as_str()).filter(|a| !a.is_empty());
        let run = self
            .side
            .run_binary(&self.plugin, verb, conf.as_bytes(), &att, cni_args);
        match classify(run.code == 0, Some(run.code), run.stdout) {
            // The one reviewed difference of a passed-on result (an empty
            // `dns` left out at 1.x) is taken away, so later steps and the
            // state are still compared.
            Outcome::Ok(raw) => {
                let normalized = without_empty_dns(&self.side.normalize(&raw));
                (Outcome::Ok(normalized), Some(raw))
            }
            other => (other, None),
        }
    }

    /// What the plugin changes, where both implementations keep it alike.
    fn state(&self, case: &Case) -> Value {
        let state = match case.plugin {
            "tuning" => json!({
                "links": container_links(&self.container),
                "sysctls": SYSCTL_FILES.map(|k| sysctl(&self.container, k)),
            }),
            "bandwidth" => {
                let mut links = self.side.net.state(&self.side.host)["links"].take();
                // Deliberate: the ifb keeps the kernel's queue length.
                for link in links.as_array_mut().into_iter().flatten() {
                    link.as_object_mut().map(|o| o.remove("txqlen"));
                }
                json!({ "links": links, "qdiscs": qdisc_state(&self.side.host) })
            }
            "sbr" => json!({
                "rules": rules(&self.container),
                "routes": self.side.net.state(&self.container)["routes"],
            }),
            _ => Value::Null,
        };
        self.side.without_prefix(&state)
    }
}

/// The container's links as tuning changes them.
fn container_links(ns: &str) -> Vec<Value> {
    let shown = ip_json(ns, &["link", "show"]);
    entries(&shown)
        .map(|l| {
            let flags: Vec<&str> = entries(&l["flags"]).filter_map(Value::as_str).collect();
            json!({
                "name": l["ifname"], "mtu": l["mtu"], "mac": l["address"],
                "txqlen": l.get("txqlen").cloned().unwrap_or(json!(0)),
                "up": flags.contains(&"UP"), "promisc": flags.contains(&"PROMISC"),
                "allmulti": flags.contains(&"ALLMULTI"),
            })
        })
        .collect()
}

/// The policy rules of `ns`, both families, without the kernel's own.
fn rules(ns: &str) -> Vec<String> {
    let mut out: Vec<String> = ["-4", "-6"]
        .iter()
        .flat_map(|family| {
            let shown = ip_json(ns, &[family, "rule", "show"]);
            entries(&shown)
                .filter(|r| !matches!(r["table"].as_str(), Some("local" | "main" | "default")))
                .map(|r| {
                    format!(
                        "{} from {} to {} table {}",
                        r["priority"],
                        r["src"].as_str().unwrap_or("all"),
                        r["dst"].as_str().unwrap_or("all"),
                        r["table"]
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out
}

pub struct Chained {
    plugin: &'static str,
    ours: Kernel,
    reference: Kernel,
}

impl Chained {
    /// Makes both sides' namespaces (needs root and /usr/lib/cni).
    pub fn new(plugin: &'static str) -> Chained {
        Chained {
            plugin,
            ours: Kernel::new(Impl::Ours, plugin),
            reference: Kernel::new(Impl::Reference, plugin),
        }
    }
}

impl Target for Chained {
    fn name(&self) -> &'static str {
        self.plugin
    }

    fn generate(&self, rng: &mut Rng) -> Case {
        chained_grammar::generate(self.plugin, rng)
    }

    fn run(&mut self, case: &Case) -> std::io::Result<Option<Difference>> {
        Ok(run_both(&self.ours, &self.reference, case))
    }
}
