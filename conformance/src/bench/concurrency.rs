//! N ADDs started at once, as a node does when many pods land together: the
//! wall time until the last one finished, and each call's own time.

use super::attach::{Attacher, Container};
use super::measure::Stats;
use super::step::Probe;
use std::sync::Barrier;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct ConcurrencyRow {
    pub at_once: usize,
    pub implementation: String,
    pub wall: Duration,
    pub per_call: Stats,
}

/// One of the ADDs: when it started and ended, and what it printed.
struct TimedAdd {
    start: Instant,
    end: Instant,
    added: Vec<u8>,
}

pub fn measure(
    attacher: &dyn Attacher,
    containers: &[Container],
) -> Result<ConcurrencyRow, String> {
    let runs = add_all_at_once(attacher, containers);
    let mut spans = Vec::new();
    let mut first_error = None;
    for (&c, run) in containers.iter().zip(runs) {
        match run {
            Ok(TimedAdd { start, end, added }) => {
                spans.push((start, end));
                // Detached one by one, untimed: only the ADDs are measured.
                if let Err(e) = attacher.del(c, &added, Probe::Timed) {
                    first_error.get_or_insert(e);
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    let first_start = spans.iter().map(|s| s.0).min();
    let last_end = spans.iter().map(|s| s.1).max();
    let wall = match (first_start, last_end) {
        (Some(start), Some(end)) => end - start,
        _ => Duration::ZERO,
    };
    Ok(ConcurrencyRow {
        at_once: containers.len(),
        implementation: attacher.label().to_string(),
        wall,
        per_call: Stats::of_walls(spans.iter().map(|(s, e)| *e - *s).collect()),
    })
}

/// Every ADD on its own thread, released together by a barrier.
fn add_all_at_once(
    attacher: &dyn Attacher,
    containers: &[Container],
) -> Vec<Result<TimedAdd, String>> {
    let barrier = Barrier::new(containers.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = containers
            .iter()
            .map(|&c| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    let outcome = attacher.add(c, Probe::Timed)?;
                    Ok(TimedAdd {
                        start,
                        end: Instant::now(),
                        added: outcome.stdout,
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("an ADD thread panicked".into()))
            })
            .collect()
    })
}
