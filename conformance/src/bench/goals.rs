//! The project's performance goals, read as ratios of this run.

use super::density::Containers;
use super::modes::Mode;
use super::ratios::{kib_ratio, ratio};
use super::report::{Report, FLOOR};
use serde_json::{json, Value};
use std::fmt;

#[derive(Debug, Clone)]
pub struct Goal {
    pub what: String,
    pub value: f64,
    pub limit: f64,
    /// `true`: the value must be at most the limit; `false`: at least.
    pub at_most: bool,
}

impl Goal {
    fn at_most(what: String, value: f64, limit: f64) -> Goal {
        Goal {
            what,
            value,
            limit,
            at_most: true,
        }
    }

    fn at_least(what: String, value: f64, limit: f64) -> Goal {
        Goal {
            what,
            value,
            limit,
            at_most: false,
        }
    }

    pub fn met(&self) -> bool {
        if self.at_most {
            self.value <= self.limit
        } else {
            self.value >= self.limit
        }
    }

    pub fn to_json(&self) -> Value {
        json!({"goal": self.what, "value": (self.value * 100.0).round() / 100.0,
               "limit": self.limit, "at_most": self.at_most, "met": self.met()})
    }
}

impl fmt::Display for Goal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.at_most { "<=" } else { ">=" };
        let verdict = if self.met() { "met" } else { "NOT met" };
        write!(
            f,
            "- {}: {:.2}x ({sign} {:.2}x) {verdict}",
            self.what, self.value, self.limit
        )
    }
}

/// Every goal this run has the rows for.
pub fn evaluate(report: &Report) -> Vec<Goal> {
    let mut goals = masq_goals(report);
    goals.extend(chain_goal(report));
    goals.extend(dhcp_goal(report));
    if let Some(n) = report.concurrency.iter().map(|r| r.at_once).max() {
        if let (Some(ours), Some(reference)) = (
            report.concurrency_row(n, "ours"),
            report.concurrency_row(n, "reference"),
        ) {
            let what = format!("{n} ADDs at once with ipMasq, reference / ours wall");
            goals.push(Goal::at_least(what, ratio(reference.wall, ours.wall), 3.0));
        }
    }
    goals.extend(density_goals(report));
    for mode in Mode::ALL {
        let Some(ours) = report.latency_row(mode, "ours") else {
            continue;
        };
        if let Some(reference) = report.latency_row(mode, "reference") {
            let what = format!(
                "{} peak RSS, ours / reference (plugin process)",
                mode.name()
            );
            goals.push(Goal::at_most(
                what,
                kib_ratio(ours.rss.main_kib, reference.rss.main_kib),
                0.4,
            ));
        }
        if let Some(floor) = report.latency_row(mode, FLOOR) {
            let what = format!("{} ADD, ours / floor", mode.name());
            goals.push(Goal::at_most(
                what,
                ratio(ours.add.median, floor.add.median),
                1.0,
            ));
        }
    }
    goals
}

fn masq_goals(report: &Report) -> Vec<Goal> {
    let mut goals = Vec::new();
    let Some(masq) = report.latency_row(Mode::BridgeMasq, "ours") else {
        return goals;
    };
    if let Some(plain) = report.latency_row(Mode::Bridge, "ours") {
        let add = ratio(masq.add.median, plain.add.median);
        goals.push(Goal::at_most(
            "ADD with ipMasq / plain ADD".into(),
            add,
            1.3,
        ));
        let del = ratio(masq.del.median, plain.del.median);
        goals.push(Goal::at_most(
            "DEL with ipMasq / plain DEL".into(),
            del,
            1.15,
        ));
    }
    if let Some(reference) = report.latency_row(Mode::BridgeMasq, "reference") {
        let speedup = ratio(reference.add.median, masq.add.median);
        goals.push(Goal::at_least(
            "ADD with ipMasq, reference / ours".into(),
            speedup,
            4.0,
        ));
    }
    goals
}

/// Issue #12: Podman's default chain through libcni, ADD on our plugins at
/// most a third of the reference's.
fn chain_goal(report: &Report) -> Option<Goal> {
    let mode = Mode::PodmanChain;
    let ours = report.latency_row(mode, "ours")?;
    let reference = report.latency_row(mode, "reference")?;
    Some(Goal::at_most(
        format!("{} ADD, ours / reference", mode.name()),
        ratio(ours.add.median, reference.add.median),
        1.0 / 3.0,
    ))
}

/// Issue #13: a bridge ADD with dhcp IPAM against dnsmasq, ours at most a
/// tenth of the reference's.
fn dhcp_goal(report: &Report) -> Option<Goal> {
    let mode = Mode::BridgeDhcp;
    let ours = report.latency_row(mode, "ours")?;
    let reference = report.latency_row(mode, "reference")?;
    Some(Goal::at_most(
        format!("{} ADD, ours / reference", mode.name()),
        ratio(ours.add.median, reference.add.median),
        0.1,
    ))
}

fn density_goals(report: &Report) -> Vec<Goal> {
    let Some((low, high)) = report.density_levels() else {
        return Vec::new();
    };
    let mut goals = Vec::new();
    for containers in Containers::ALL {
        let (Some(a), Some(b)) = (
            report.density_row(low, containers, "ours"),
            report.density_row(high, containers, "ours"),
        ) else {
            continue;
        };
        let which = containers.name();
        goals.push(Goal::at_most(
            format!("ADD at {high} attached / at {low}, {which} containers"),
            ratio(b.add.median, a.add.median),
            1.2,
        ));
        goals.push(Goal::at_most(
            format!("DEL at {high} attached / at {low}, {which} containers"),
            ratio(b.del.median, a.del.median),
            1.2,
        ));
    }
    goals
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::latency::LatencyRow;
    use crate::bench::measure::Stats;
    use std::time::Duration;

    fn row(mode: Mode, implementation: &str, add_ms: u64) -> LatencyRow {
        let add = Stats::of_walls(vec![Duration::from_millis(add_ms)]);
        LatencyRow {
            mode,
            implementation: implementation.into(),
            add,
            check: Stats::default(),
            check_failed: None,
            del: Stats::default(),
            rss: Default::default(),
        }
    }

    fn chain_goal_with(ours_ms: u64, reference_ms: u64) -> Goal {
        let report = Report {
            latency: vec![
                row(Mode::PodmanChain, "ours", ours_ms),
                row(Mode::PodmanChain, "reference", reference_ms),
            ],
            ..Report::default()
        };
        let goals = evaluate(&report);
        let chain = goals
            .iter()
            .find(|g| g.what.contains("ADD, ours / reference"));
        chain.expect("the chain's goal").clone()
    }

    #[test]
    fn the_chain_goal_is_a_third_of_the_references_add() {
        let met = chain_goal_with(10, 80);
        assert!(met.met(), "{met}");
        assert_eq!(met.to_json()["value"], 0.13);
        let missed = chain_goal_with(30, 80);
        assert!(!missed.met(), "{missed}");
    }
}
