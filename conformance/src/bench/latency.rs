//! One container at a time: ADD, CHECK and DEL of every container in turn,
//! timed; then a few more containers through the same verbs under ptrace,
//! for peak memory. A failed ADD or DEL ends the run; a failed CHECK is
//! recorded and shown (the reference's portmap cannot CHECK an IPv4 chain),
//! since CHECK changes nothing and DEL still follows.

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
    /// Over the CHECKs that succeeded.
    pub check: Stats,
    pub check_failed: Option<CheckFailed>,
    pub del: Stats,
    /// The largest over ADD, CHECK and DEL.
    pub rss: PeakRss,
}

/// CHECKs that failed: how many of how many, and the first one's error.
#[derive(Debug, Clone)]
pub struct CheckFailed {
    pub count: usize,
    pub of: usize,
    pub error: String,
}

impl CheckFailed {
    fn record(this: &mut Option<CheckFailed>, of: usize, error: String) {
        match this {
            Some(failed) => failed.count += 1,
            None => {
                *this = Some(CheckFailed {
                    count: 1,
                    of,
                    error,
                })
            }
        }
    }
}

pub fn measure(
    mode: Mode,
    attacher: &dyn Attacher,
    timed: &[Container],
    traced: &[Container],
) -> Result<LatencyRow, String> {
    let timed = verbs(attacher, timed, Probe::Timed)?;
    let traced = verbs(attacher, traced, Probe::Traced)?;
    Ok(LatencyRow {
        mode,
        implementation: attacher.label().to_string(),
        add: Stats::of_walls(timed.add),
        check: Stats::of_walls(timed.check),
        check_failed: timed.check_failed,
        del: Stats::of_walls(timed.del),
        rss: traced.rss,
    })
}

#[derive(Default)]
struct Verbs {
    add: Vec<Duration>,
    check: Vec<Duration>,
    check_failed: Option<CheckFailed>,
    del: Vec<Duration>,
    rss: PeakRss,
}

/// Every ADD, then every CHECK, then every DEL, as a runtime would space them.
fn verbs(attacher: &dyn Attacher, containers: &[Container], probe: Probe) -> Result<Verbs, String> {
    let mut v = Verbs::default();
    let failed = |verb: &'static str, c: Container| {
        let label = attacher.label();
        move |e: String| format!("{label}: {verb} of container {}: {e}", c.index)
    };
    let mut added = Vec::new();
    for &c in containers {
        let outcome = attacher.add(c, probe).map_err(failed("ADD", c))?;
        v.add.push(outcome.wall);
        v.rss = v.rss.max(outcome.rss);
        added.push(outcome.stdout);
    }
    for (&c, result) in containers.iter().zip(&added) {
        match attacher.check(c, result, probe) {
            Ok(outcome) => {
                v.check.push(outcome.wall);
                v.rss = v.rss.max(outcome.rss);
            }
            Err(e) => CheckFailed::record(&mut v.check_failed, containers.len(), e),
        }
    }
    for (&c, result) in containers.iter().zip(&added) {
        let outcome = attacher.del(c, result, probe).map_err(failed("DEL", c))?;
        v.del.push(outcome.wall);
        v.rss = v.rss.max(outcome.rss);
    }
    Ok(v)
}
