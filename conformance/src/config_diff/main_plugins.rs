//! bridge, ptp and macvlan under the fuzzer: ADD, CHECK (with the ADD's
//! result as `prevResult`), DEL, DEL again, through our binary and the
//! reference's, both sides at once (`steps::run_both`), each in its own
//! namespaces (`crate::differential::Side`: a namespace playing the host
//! with a veth `parent0` for macvlan, one container namespace). The namespaces are made once per target and
//! cleaned between cases. Compared: outcome and error class, the result as
//! `crate::realns::normalize_result` normalizes it, and the kernel state of
//! both namespaces (as `TestNet::state` normalizes it) after ADD and after
//! the last DEL.

use super::exec::{classify, Outcome};
use super::rng::Rng;
use super::steps::{run_both, with_prev_result, KernelSide};
use super::{main_grammar, reference_seeds, Case, Difference, Target};
use crate::differential::{link_names, Attachment, Impl, Side};
use serde_json::Value;
use std::process::Command;

/// The macvlan parent in each host namespace.
const MASTER: &str = "parent0";
const MASTER_PEER: &str = "parent0p";

/// One implementation's namespaces, kept across cases.
struct Kernel {
    side: Side,
    container_ns: String,
}

impl Kernel {
    fn new(imp: Impl) -> Kernel {
        let mut side = Side::new(imp);
        let att = side.container("c", "c1");
        let container_ns = att.netns.trim_start_matches("/var/run/netns/").to_string();
        Kernel { side, container_ns }
    }

    fn config(&self, case: &Case) -> String {
        case.config
            .replace("@DATADIR@", &self.side.data_dir().to_string_lossy())
            .replace("@MASTER@", MASTER)
    }
}

impl KernelSide for Kernel {
    /// Back to an empty host (but for a fresh `parent0`), an empty container
    /// namespace, no firewall rules and no leases.
    fn reset(&self) {
        for ns in [&self.side.host, &self.container_ns] {
            for name in link_names(ns) {
                quietly(Command::new("ip").args(["-n", ns, "link", "del", &name]));
            }
        }
        // A veth pair: the machine may have no dummy driver.
        self.side
            .in_host(&["link", "add", MASTER, "type", "veth", "peer", MASTER_PEER]);
        self.side.in_host(&["link", "set", MASTER, "up"]);
        let host = &self.side.host;
        for cmd in [
            &["nft", "flush", "ruleset"][..],
            &["iptables", "-t", "nat", "-F"],
            &["iptables", "-t", "nat", "-X"],
            &["ip6tables", "-t", "nat", "-F"],
            &["ip6tables", "-t", "nat", "-X"],
        ] {
            quietly(Command::new("ip").args(["netns", "exec", host]).args(cmd));
        }
        let data = self.side.data_dir();
        let _ = std::fs::remove_dir_all(&data);
        let _ = std::fs::create_dir_all(&data);
    }

    /// One verb; a result comes back normalized, with the raw one beside it.
    fn step(&self, case: &Case, verb: &str, prev: Option<&Value>) -> (Outcome, Option<Value>) {
        let mut conf = self.config(case);
        if verb == "CHECK" {
            conf = with_prev_result(&conf, prev);
        }
        let att = Attachment {
            container_id: "c1".to_string(),
            ifname: case.ifname.to_string(),
            netns: format!("/var/run/netns/{}", self.container_ns),
        };
        let cni_args = Some(case.cni_args.as_str()).filter(|a| !a.is_empty());
        let run = self
            .side
            .run_with_args(verb, conf.as_bytes(), &att, case.plugin, cni_args);
        match classify(run.code == 0, Some(run.code), run.stdout) {
            Outcome::Ok(raw) => (Outcome::Ok(self.side.normalize(&raw)), Some(raw)),
            other => (other, None),
        }
    }

    /// Both namespaces, normalized; txqueuelen left out (deliberate: every
    /// link we create gets 1000, the reference's 0).
    fn state(&self, _: &Case) -> Value {
        let mut both = serde_json::json!({
            "host": self.side.net.state(&self.side.host),
            "container": self.side.net.state(&self.container_ns),
        });
        for ns in ["host", "container"] {
            for link in both[ns]["links"].as_array_mut().into_iter().flatten() {
                link.as_object_mut().map(|o| o.remove("txqlen"));
            }
        }
        self.side.without_prefix(&both)
    }
}

fn quietly(cmd: &mut Command) {
    let _ = cmd.output();
}

pub struct MainPlugins {
    plugin: &'static str,
    seeds: Vec<Value>,
    ours: Kernel,
    reference: Kernel,
}

impl MainPlugins {
    /// Makes both sides' namespaces (needs root and /usr/lib/cni).
    pub fn new(plugin: &'static str) -> MainPlugins {
        MainPlugins {
            plugin,
            seeds: reference_seeds::of(plugin),
            ours: Kernel::new(Impl::Ours),
            reference: Kernel::new(Impl::Reference),
        }
    }
}

impl Target for MainPlugins {
    fn name(&self) -> &'static str {
        self.plugin
    }

    /// Four in five cases from the grammar, the rest mutated reference tests.
    fn generate(&self, rng: &mut Rng) -> Case {
        let mut case = main_grammar::generate(self.plugin, rng);
        if rng.chance(20) {
            let version = case.version();
            if let Some(conf) = reference_seeds::mutate(&self.seeds, &version, rng) {
                case.config = conf.to_string();
                case.cni_args.clear();
            }
        }
        case
    }

    fn run(&mut self, case: &Case) -> std::io::Result<Option<Difference>> {
        Ok(run_both(&self.ours, &self.reference, case))
    }
}
