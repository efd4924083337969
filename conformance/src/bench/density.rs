//! ADD and DEL with many containers already attached to the same bridge:
//! the bridge's ports, the host's links and the leases held all grow, and a
//! plugin that scans any of them shows it here.

use super::attach::{Attacher, Container};
use super::measure::Stats;
use super::step::Probe;

#[derive(Debug, Clone)]
pub struct DensityRow {
    pub attached: usize,
    pub implementation: String,
    pub add: Stats,
    pub del: Stats,
}

/// Attaches and detaches the background with this many workers: it is not
/// measured, and the DELs mostly wait on the kernel's veth teardown.
const FILL_WORKERS: usize = 4;

pub fn measure(
    attacher: &dyn Attacher,
    background: &[Container],
    probes: &[Container],
) -> Result<DensityRow, String> {
    let attached = in_parallel(background, |c| {
        attacher.add(*c, Probe::Timed).map(|o| o.stdout)
    })?;
    let probed = probe(attacher, probes);
    let pairs: Vec<(Container, Vec<u8>)> = background.iter().copied().zip(attached).collect();
    let detached = in_parallel(&pairs, |(c, added)| {
        attacher.del(*c, added, Probe::Timed).map(|_| ())
    });
    let (add, del) = probed?;
    detached?;
    Ok(DensityRow {
        attached: background.len(),
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
