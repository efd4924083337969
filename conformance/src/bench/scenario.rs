//! One benchmark run: every section, for our plugins, the reference plugins
//! and the kernel floor, in namespaces it makes (one plays the host) and
//! removes again, also on failure.

use super::attach::{Attacher, Container, PluginAttacher};
use super::chain::ChainAttacher;
use super::density::{Containers, DensityRow};
use super::dhcp::DhcpAttacher;
use super::floor::FloorAttacher;
use super::modes::{Lan, Mode};
use super::report::{Report, FLOOR};
use super::step::{Probe, Step};
use super::{concurrency, density, latency};
use cni_backend_linux::netns::{self, NetnsFile};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Containers per mode in the one-at-a-time section.
    pub containers: usize,
    pub modes: Vec<Mode>,
    /// How many ADDs start at once, one measurement each (bridge with ipMasq).
    pub concurrency: Vec<usize>,
    /// How many containers are already attached, one measurement each (plain bridge).
    pub density: Vec<usize>,
    /// Directory with our plugins.
    pub ours: PathBuf,
    /// Directory with the reference plugins; skipped when absent.
    pub reference: Option<PathBuf>,
}

/// Extra containers per implementation whose verbs run traced, for memory.
const TRACED_CONTAINERS: usize = 3;
/// Containers timed in the DHCP mode.
const DHCP_CONTAINERS: usize = 5;
/// Containers attached and detached (timed) on top of each density level:
/// enough that the median DEL is not one of the kernel's slow teardowns.
pub const DENSITY_PROBES: usize = 20;

pub fn run(cfg: &BenchConfig) -> Result<Report, String> {
    let prefix = format!("bn{}", std::process::id() % 100_000);
    let mut spaces = Namespaces {
        prefix: prefix.clone(),
        names: Vec::new(),
    };
    let (_, host) = spaces.create("host")?;
    // Only what the first sections use: each namespace is a mount under
    // /var/run/netns, and `ip -n` (the floor's) copies every mount, so the
    // density section's thousand exist only while it runs.
    let needed = [
        cfg.containers + TRACED_CONTAINERS,
        cfg.concurrency.iter().copied().max().unwrap_or(0),
    ];
    let names = spaces.create_containers(0..needed.into_iter().max().unwrap_or(0))?;
    let data = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let bench = Bench {
        cfg,
        // Only the one-at-a-time section runs host-device.
        latency_containers: cfg.containers + TRACED_CONTAINERS,
        prefix,
        data: data.path(),
        serial: AtomicUsize::new(0),
    };
    let mut report = netns::run_in(&host, || bench.sections(&containers(&names)))
        .map_err(|e| e.to_string())??;
    let most = cfg.density.iter().copied().max().unwrap_or(0);
    if most > 0 {
        let mut extra = Namespaces {
            prefix: spaces.prefix.clone(),
            names: Vec::new(),
        };
        let more = extra.create_containers(names.len()..most + DENSITY_PROBES)?;
        let all: Vec<String> = names.iter().chain(&more).cloned().collect();
        report.density = netns::run_in(&host, || bench.density(&containers(&all)))
            .map_err(|e| e.to_string())??;
    }
    Ok(report)
}

fn containers(names: &[String]) -> Vec<Container<'_>> {
    names
        .iter()
        .enumerate()
        .map(|(index, netns)| Container { index, netns })
        .collect()
}

struct Bench<'a> {
    cfg: &'a BenchConfig,
    /// Containers of the one-at-a-time section (a host device for each).
    latency_containers: usize,
    prefix: String,
    data: &'a Path,
    /// Numbers every attacher's bridge, table and `dataDir`.
    serial: AtomicUsize,
}

impl Bench<'_> {
    /// Runs on a thread inside the host namespace: every child inherits it.
    fn sections(&self, containers: &[Container]) -> Result<Report, String> {
        let parent = format!("{}par", self.prefix);
        // A veth pair: this kernel may have no dummy links.
        let setup = format!(
            "link add {parent} type veth peer name {}pap\nlink set {parent} up\n",
            self.prefix
        );
        Step::tool("/usr/sbin/ip", &["-batch", "-"], setup).run(Probe::Timed)?;
        let mut report = Report {
            containers: self.cfg.containers,
            ..Report::default()
        };
        let (timed, rest) = containers.split_at(self.cfg.containers);
        let traced = &rest[..TRACED_CONTAINERS];
        for &mode in &self.cfg.modes {
            // A reference DHCP ADD takes seconds: a few containers tell.
            let timed = match mode {
                Mode::BridgeDhcp => &timed[..timed.len().min(DHCP_CONTAINERS)],
                _ => timed,
            };
            for attacher in self.attachers(mode)? {
                let row = latency::measure(mode, attacher.as_ref(), timed, traced)?;
                report.latency.push(row);
            }
        }
        for &n in &self.cfg.concurrency {
            for attacher in self.attachers(Mode::BridgeMasq)? {
                let row = concurrency::measure(attacher.as_ref(), &containers[..n])?;
                report.concurrency.push(row);
            }
        }
        Ok(report)
    }

    /// The density section: `containers` holds the most it needs.
    fn density(&self, containers: &[Container]) -> Result<Vec<DensityRow>, String> {
        let mut rows = Vec::new();
        for &n in &self.cfg.density {
            let (background, rest) = containers.split_at(n);
            let probes = &rest[..DENSITY_PROBES];
            for variant in Containers::ALL {
                let _state = variant.apply(&containers[..n + DENSITY_PROBES])?;
                for attacher in self.attachers(Mode::Bridge)? {
                    rows.push(density::measure(
                        attacher.as_ref(),
                        variant,
                        background,
                        probes,
                    )?);
                }
            }
        }
        Ok(rows)
    }

    /// Ours, the reference (when present) and the floor (which has no
    /// chain), each on a fresh network of its own.
    fn attachers(&self, mode: Mode) -> Result<Vec<Box<dyn Attacher>>, String> {
        let mut all: Vec<Box<dyn Attacher>> = Vec::new();
        let plugins = |label: &str, dir: &Path, octet| -> Result<Box<dyn Attacher>, String> {
            let (label, lan) = (label.to_string(), self.lan(octet, mode)?);
            if mode.is_chain() {
                return Ok(Box::new(ChainAttacher::new(label, dir, lan)?));
            }
            let attacher = PluginAttacher {
                label,
                dir: dir.to_path_buf(),
                mode,
                lan,
            };
            if mode == Mode::BridgeDhcp {
                let ours = dir == self.cfg.ours.as_path();
                return Ok(Box::new(DhcpAttacher::start(attacher, ours)?));
            }
            Ok(Box::new(attacher))
        };
        all.push(plugins("ours", &self.cfg.ours, 252)?);
        if let Some(dir) = &self.cfg.reference {
            // The reference may lack a plugin (1.1.1 has no tap): no row.
            if dir.join(mode.plugin()).is_file() {
                all.push(plugins("reference", dir, 253)?);
            } else {
                eprintln!(
                    "cni-bench: {} has no {} plugin: no reference row for {}",
                    dir.display(),
                    mode.plugin(),
                    mode.name()
                );
            }
        }
        if mode.has_floor() {
            let floor = FloorAttacher::create(FLOOR.to_string(), mode, self.lan(251, mode)?)?;
            all.push(Box::new(floor));
        }
        Ok(all)
    }

    /// A fresh network for one attacher; in host-device mode with a host
    /// device for every container.
    fn lan(&self, octet: u8, mode: Mode) -> Result<Lan, String> {
        let n = self.serial.fetch_add(1, Ordering::Relaxed);
        let bridge = format!("{}b{n}", self.prefix);
        let lan = Lan {
            octet,
            data_dir: self.data.join(&bridge),
            bridge,
            parent: format!("{}par", self.prefix),
            host_netns: format!("{}-host", self.prefix),
            host_devices: if mode == Mode::HostDevice {
                self.latency_containers
            } else {
                0
            },
        };
        lan.create_host_devices()?;
        Ok(lan)
    }
}

/// Namespaces of one run, removed on drop (also on panic).
struct Namespaces {
    prefix: String,
    names: Vec<String>,
}

impl Namespaces {
    /// Container namespaces `c<i>` for every `i` in `range`.
    fn create_containers(&mut self, range: std::ops::Range<usize>) -> Result<Vec<String>, String> {
        range
            .map(|i| self.create(&format!("c{i}")).map(|(name, _)| name))
            .collect()
    }

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
