//! One benchmark run: N containers attached to a bridge and detached again,
//! by our plugins, by the reference plugins and by `ip -batch` (the floor),
//! timed untraced; then a few more containers attached and detached under
//! ptrace, for peak memory only.

use super::masq::NftFloor;
use super::measure::{run_timed, Sample, Stats};
use super::memory::{run_traced, PeakRss};
use super::report::{Report, Row, FLOOR};
use cni_backend_linux::netns::{self, NetnsFile};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct BenchConfig {
    pub containers: usize,
    /// Directory with our `bridge` and `host-local`.
    pub ours: PathBuf,
    /// Directory with the reference plugins; skipped when absent.
    pub reference: Option<PathBuf>,
    /// Also measure every implementation with `ipMasq` (the floor with `nft`).
    pub ip_masq: bool,
}

/// Extra containers per implementation whose ADD and DEL run traced, for
/// memory; the peak over them is reported.
const TRACED_CONTAINERS: usize = 3;

/// Namespaces of one run, removed on drop (also on panic).
struct Namespaces {
    prefix: String,
    names: Vec<String>,
}

impl Namespaces {
    fn create(&mut self, role: &str) -> Result<(String, NetnsFile), String> {
        let name = format!("{}-{role}", self.prefix);
        let ns = netns::create_named(&name).map_err(|e| e.to_string())?;
        self.names.push(name.clone());
        Ok((name, ns))
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for n in self.names.drain(..).rev() {
            let _ = netns::delete_named(&n);
        }
    }
}

pub fn run(cfg: &BenchConfig) -> Result<Report, String> {
    let prefix = format!("bn{}", std::process::id() % 100_000);
    let mut spaces = Namespaces {
        prefix: prefix.clone(),
        names: Vec::new(),
    };
    let (_, host) = spaces.create("host")?;
    let mut timed = Vec::new();
    for i in 0..cfg.containers {
        timed.push(spaces.create(&format!("c{i}"))?.0);
    }
    let mut traced = Vec::new();
    for i in 0..TRACED_CONTAINERS {
        traced.push(spaces.create(&format!("m{i}"))?.0);
    }
    let containers = Containers {
        timed: &timed,
        traced: &traced,
    };
    let data = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let mut rows = Vec::new();

    let masq_modes: &[bool] = if cfg.ip_masq {
        &[false, true]
    } else {
        &[false]
    };
    for &ip_masq in masq_modes {
        let tag = if ip_masq { "m" } else { "" };
        let ours = PluginRun {
            label: Report::label("ours", ip_masq),
            dir: &cfg.ours,
            bridge: format!("{prefix}o{tag}"),
            subnet: "10.252.0.0/16",
            data_dir: data.path().join(format!("ours{tag}")),
            ip_masq,
        };
        rows.push(netns::run_in(&host, || ours.measure(&containers)).map_err(|e| e.to_string())??);
        if let Some(dir) = &cfg.reference {
            let reference = PluginRun {
                label: Report::label("reference", ip_masq),
                dir,
                bridge: format!("{prefix}r{tag}"),
                subnet: "10.253.0.0/16",
                data_dir: data.path().join(format!("reference{tag}")),
                ip_masq,
            };
            rows.push(
                netns::run_in(&host, || reference.measure(&containers))
                    .map_err(|e| e.to_string())??,
            );
        }
        let bridge = format!("{prefix}f{tag}");
        rows.push(
            netns::run_in(&host, || floor(&bridge, &containers, ip_masq))
                .map_err(|e| e.to_string())??,
        );
    }
    Ok(Report {
        containers: cfg.containers,
        rows,
    })
}

struct Containers<'a> {
    /// Timed, untraced.
    timed: &'a [String],
    /// Traced for memory, after the timed ones (indices follow theirs).
    traced: &'a [String],
}

struct PluginRun<'a> {
    label: String,
    dir: &'a Path,
    bridge: String,
    subnet: &'static str,
    data_dir: PathBuf,
    ip_masq: bool,
}

impl PluginRun<'_> {
    fn config(&self) -> Vec<u8> {
        serde_json::json!({
            "cniVersion": "1.0.0",
            "name": "bench",
            "type": "bridge",
            "bridge": self.bridge,
            "isGateway": true,
            "ipMasq": self.ip_masq,
            "ipam": {"type": "host-local", "subnet": self.subnet, "dataDir": self.data_dir}
        })
        .to_string()
        .into_bytes()
    }

    fn env(&self, verb: &str, i: usize, ns: &str) -> Vec<(String, String)> {
        [
            ("CNI_COMMAND", verb.to_string()),
            ("CNI_CONTAINERID", format!("bench{i}")),
            ("CNI_NETNS", format!("/var/run/netns/{ns}")),
            ("CNI_IFNAME", "eth0".to_string()),
            ("CNI_PATH", self.dir.display().to_string()),
            ("PATH", "/usr/sbin:/usr/bin:/sbin:/bin".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Runs on a thread inside the host namespace: children inherit it.
    fn measure(&self, containers: &Containers) -> Result<Row, String> {
        let plugin = self.dir.join("bridge");
        let conf = self.config();
        let mut add = Vec::new();
        for (i, ns) in containers.timed.iter().enumerate() {
            add.push(run_timed(&plugin, &[], &self.env("ADD", i, ns), &conf)?);
        }
        let mut del = Vec::new();
        for (i, ns) in containers.timed.iter().enumerate() {
            del.push(run_timed(&plugin, &[], &self.env("DEL", i, ns), &conf)?);
        }
        let first = containers.timed.len();
        let mut add_rss = PeakRss::default();
        for (i, ns) in containers.traced.iter().enumerate() {
            let env = self.env("ADD", first + i, ns);
            add_rss = add_rss.max(run_traced(&plugin, &[], &env, &conf)?);
        }
        let mut del_rss = PeakRss::default();
        for (i, ns) in containers.traced.iter().enumerate() {
            let env = self.env("DEL", first + i, ns);
            del_rss = del_rss.max(run_traced(&plugin, &[], &env, &conf)?);
        }
        let _ = run_timed(
            Path::new("/usr/sbin/ip"),
            &["link", "del", &self.bridge],
            &[],
            b"",
        );
        Ok(Row::new(&self.label, &add, &del, add_rss, del_rss))
    }
}

/// The kernel floor: the same links, addresses and routes made by `ip -batch`
/// (one batch in the host, one in the container), removed by `ip link del`;
/// with `ip_masq`, each container's masquerade rule added and deleted by `nft`.
fn floor(bridge: &str, containers: &Containers, ip_masq: bool) -> Result<Row, String> {
    let ip = Path::new("/usr/sbin/ip");
    let setup = format!("link add {bridge} type bridge\naddr add 10.251.0.1/16 dev {bridge}\nlink set {bridge} up\n");
    run_timed(ip, &["-batch", "-"], &[], setup.as_bytes())?;
    let nft = if ip_masq {
        Some(NftFloor::create("10.251.0.0/16")?)
    } else {
        None
    };
    let floor = Floor {
        ip,
        bridge,
        nft: nft.as_ref(),
    };
    let (add, del) = floor.timed(containers.timed)?;
    let (add_rss, del_rss) = floor.traced(containers.timed.len(), containers.traced)?;
    let _ = run_timed(ip, &["link", "del", bridge], &[], b"");
    let label = Report::label(FLOOR, ip_masq);
    Ok(Row::new(&label, &add, &del, add_rss, del_rss))
}

struct Floor<'a> {
    ip: &'a Path,
    bridge: &'a str,
    nft: Option<&'a NftFloor>,
}

impl Floor<'_> {
    fn addr(i: usize) -> String {
        format!("10.251.1.{}", i + 2)
    }

    /// The host's batch and the container's batch of container `i`.
    fn batches(&self, i: usize, ns: &str) -> (String, String) {
        let bridge = self.bridge;
        let host_side = format!(
            "link add vfl{i} type veth peer name eth0 netns {ns}\nlink set vfl{i} master {bridge} up\n"
        );
        let container_side = format!(
            "addr add {}/16 dev eth0\nlink set eth0 up\nroute add default via 10.251.0.1\n",
            Self::addr(i)
        );
        (host_side, container_side)
    }

    fn timed(&self, names: &[String]) -> Result<(Vec<Sample>, Vec<Sample>), String> {
        let mut add = Vec::new();
        let mut handles = Vec::new();
        for (i, ns) in names.iter().enumerate() {
            let (host_side, container_side) = self.batches(i, ns);
            let a = run_timed(self.ip, &["-batch", "-"], &[], host_side.as_bytes())?;
            let b = run_timed(
                self.ip,
                &["-n", ns, "-batch", "-"],
                &[],
                container_side.as_bytes(),
            )?;
            let mut wall = a.wall + b.wall;
            if let Some(nft) = self.nft {
                let (c, handle) = nft.add(&Self::addr(i), i)?;
                wall += c.wall;
                handles.push(handle);
            }
            add.push(Sample { wall });
        }
        let mut del = Vec::new();
        for (i, ns) in names.iter().enumerate() {
            let mut wall = run_timed(self.ip, &["-n", ns, "link", "del", "eth0"], &[], b"")?.wall;
            if let (Some(nft), Some(handle)) = (self.nft, handles.get(i)) {
                wall += nft.del(*handle)?.wall;
            }
            del.push(Sample { wall });
        }
        Ok((add, del))
    }

    /// Peak memory: ADD and DEL are processes one after the other, so their
    /// peak is the largest.
    fn traced(&self, first: usize, names: &[String]) -> Result<(PeakRss, PeakRss), String> {
        let mut add_rss = PeakRss::default();
        for (i, ns) in names.iter().enumerate() {
            let (host_side, container_side) = self.batches(first + i, ns);
            add_rss = add_rss
                .max(run_traced(
                    self.ip,
                    &["-batch", "-"],
                    &[],
                    host_side.as_bytes(),
                )?)
                .max(run_traced(
                    self.ip,
                    &["-n", ns, "-batch", "-"],
                    &[],
                    container_side.as_bytes(),
                )?);
            if let Some(nft) = self.nft {
                add_rss = add_rss.max(nft.add_traced(&Self::addr(first + i), first + i)?);
            }
        }
        let mut del_rss = PeakRss::default();
        for ns in names {
            del_rss = del_rss.max(run_traced(
                self.ip,
                &["-n", ns, "link", "del", "eth0"],
                &[],
                b"",
            )?);
        }
        if let Some(nft) = self.nft {
            del_rss = del_rss.max(nft.del_rest_traced()?);
        }
        Ok((add_rss, del_rss))
    }
}

impl Row {
    fn new(label: &str, add: &[Sample], del: &[Sample], add_rss: PeakRss, del_rss: PeakRss) -> Row {
        Row {
            label: label.to_string(),
            add: Stats::of(add),
            del: Stats::of(del),
            add_rss,
            del_rss,
        }
    }
}
