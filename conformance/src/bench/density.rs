//! ADD and DEL with many containers already attached to the same bridge:
//! the bridge's ports, the host's links and the leases held all grow, and a
//! plugin that scans any of them shows it here.

use super::attach::{Attacher, Container};
use super::measure::Stats;
use super::step::Probe;
use cni_backend_linux::LinuxBackend;
use cni_core::net::{NetBackend, NsRef};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct DensityRow {
    pub attached: usize,
    pub containers: Containers,
    pub implementation: String,
    pub add: Stats,
    pub del: Stats,
}

/// What the containers' own kernels do when their interface comes up: the
/// part of a denser bridge's cost that no plugin controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Containers {
    /// As a runtime leaves them: IPv6 on, so each new interface sends its
    /// link-local announcements (MLD reports, router solicitations, repeated
    /// for a while), and the bridge floods each to every port: with 1,000
    /// attached, a thousand copies, each received in its container.
    Default,
    /// IPv6 off in the containers' namespaces before the ADD (as a runtime
    /// can for IPv4-only containers): nothing to flood, so what is left is
    /// the plugin's and the bridge's own cost of one more port.
    Ipv6Off,
}

impl Containers {
    pub const ALL: [Containers; 2] = [Containers::Default, Containers::Ipv6Off];

    pub fn name(self) -> &'static str {
        match self {
            Containers::Default => "default",
            Containers::Ipv6Off => "IPv6 off",
        }
    }

    /// Puts `containers` in this state; undone when the guard drops.
    pub fn apply(self, containers: &[Container]) -> Result<ContainersGuard, String> {
        let guard = ContainersGuard {
            netns: containers.iter().map(|c| c.netns.to_string()).collect(),
            ipv6_off: self == Containers::Ipv6Off,
        };
        if guard.ipv6_off {
            guard.set_ipv6_off("1")?;
        }
        Ok(guard)
    }
}

pub struct ContainersGuard {
    netns: Vec<String>,
    ipv6_off: bool,
}

impl ContainersGuard {
    /// `all/disable_ipv6` also sets `default` and every link already there.
    fn set_ipv6_off(&self, value: &str) -> Result<(), String> {
        const KEY: &str = "net/ipv6/conf/all/disable_ipv6";
        for name in &self.netns {
            let path = PathBuf::from(cni_backend_linux::netns::NETNS_RUN_DIR).join(name);
            LinuxBackend::new()
                .open(&NsRef::Path(path))
                .and_then(|ns| ns.sysctl_set(KEY, value))
                .map_err(|e| format!("{KEY}={value} in {name}: {e}"))?;
        }
        Ok(())
    }
}

impl Drop for ContainersGuard {
    fn drop(&mut self) {
        if self.ipv6_off {
            if let Err(e) = self.set_ipv6_off("0") {
                eprintln!("cni-bench: turning IPv6 back on: {e}");
            }
        }
    }
}

/// Attaches and detaches the background with this many workers: it is not
/// measured, and the DELs mostly wait on the kernel's veth teardown.
const FILL_WORKERS: usize = 4;

pub fn measure(
    attacher: &dyn Attacher,
    containers: Containers,
    background: &[Container],
    probes: &[Container],
) -> Result<DensityRow, String> {
    let attached = in_parallel(background, |c| {
        attacher.add(*c, Probe::Timed).map(|o| o.stdout)
    })?;
    // The background's files (leases, state) go to disk before the probes:
    // the kernel writes them back at its own pace, and a probe's file
    // create that meets that writeback waits for it. A node with 1,000
    // attached has long written them; the probes pay for their own writes.
    nix::unistd::sync();
    let probed = probe(attacher, probes);
    let pairs: Vec<(Container, Vec<u8>)> = background.iter().copied().zip(attached).collect();
    let detached = in_parallel(&pairs, |(c, added)| {
        attacher.del(*c, added, Probe::Timed).map(|_| ())
    });
    let (add, del) = probed?;
    detached?;
    Ok(DensityRow {
        attached: background.len(),
        containers,
        implementation: attacher.label().to_string(),
        add: Stats::of_walls(add),
        del: Stats::of_walls(del),
    })
}

type Walls = Vec<std::time::Duration>;

fn probe(attacher: &dyn Attacher, probes: &[Container]) -> Result<(Walls, Walls), String> {
    let mut added = Vec::new();
    let mut add = Vec::new();
    for &c in probes {
        let outcome = attacher.add(c, Probe::Timed)?;
        add.push(outcome.wall);
        added.push(outcome.stdout);
    }
    let mut del = Vec::new();
    for (&c, result) in probes.iter().zip(&added) {
        del.push(attacher.del(c, result, Probe::Timed)?.wall);
    }
    Ok((add, del))
}

/// `work` on every item, by a few threads; results in the items' order.
fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> Result<R, String> + Sync,
) -> Result<Vec<R>, String> {
    let chunk = items.len().div_ceil(FILL_WORKERS).max(1);
    let parts: Vec<Result<Vec<R>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let work = &work;
                s.spawn(move || part.iter().map(work).collect())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a worker panicked".into())))
            .collect()
    });
    let mut all = Vec::with_capacity(items.len());
    for part in parts {
        all.extend(part?);
    }
    Ok(all)
}
