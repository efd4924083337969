//! One container at a time: ADD, CHECK and DEL of every container in turn,
//! timed; then a few more containers through the same verbs under ptrace,
//! for peak memory.

use super::attach::{Attacher, Container};
use super::measure::Stats;
use super::memory::PeakRss;
use super::modes::Mode;
use super::step::Probe;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct LatencyRow {
    pub mode: Mode,
    pub implementation: String,
    pub add: Stats,
    pub check: Stats,
    pub del: Stats,
    /// The largest over ADD, CHECK and DEL.
    pub rss: PeakRss,
}

pub fn measure(
    mode: Mode,
    attacher: &dyn Attacher,
    timed: &[Container],
    traced: &[Container],
) -> Result<LatencyRow, String> {
    let (add, check, del, _) = verbs(attacher, timed, Probe::Timed)?;
    let (_, _, _, rss) = verbs(attacher, traced, Probe::Traced)?;
    Ok(LatencyRow {
        mode,
        implementation: attacher.label().to_string(),
        add: Stats::of_walls(add),
        check: Stats::of_walls(check),
        del: Stats::of_walls(del),
        rss,
    })
}

type Walls = Vec<Duration>;

/// Every ADD, then every CHECK, then every DEL, as a runtime would space them.
fn verbs(
    attacher: &dyn Attacher,
    containers: &[Container],
    probe: Probe,
) -> Result<(Walls, Walls, Walls, PeakRss), String> {
    let mut rss = PeakRss::default();
    let mut added = Vec::new();
    let mut add = Vec::new();
    for &c in containers {
        let outcome = attacher.add(c, probe)?;
        add.push(outcome.wall);
        rss = rss.max(outcome.rss);
        added.push(outcome.stdout);
    }
    let mut check = Vec::new();
    for (&c, result) in containers.iter().zip(&added) {
        let outcome = attacher.check(c, result, probe)?;
        check.push(outcome.wall);
        rss = rss.max(outcome.rss);
    }
    let mut del = Vec::new();
    for (&c, result) in containers.iter().zip(&added) {
        let outcome = attacher.del(c, result, probe)?;
        del.push(outcome.wall);
        rss = rss.max(outcome.rss);
    }
    Ok((add, check, del, rss))
}
