//! The benchmark's tables and ratios, as text and as JSON.

use super::concurrency::ConcurrencyRow;
use super::density::{Containers, DensityRow};
use super::goals::{self, Goal};
use super::latency::LatencyRow;
use super::measure::Stats;
use super::modes::Mode;
use serde_json::{json, Value};
use std::fmt;
use std::time::Duration;

/// The floor's label: the same netlink work as `ip -batch`.
pub const FLOOR: &str = "floor (ip -batch)";

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub containers: usize,
    pub latency: Vec<LatencyRow>,
    pub concurrency: Vec<ConcurrencyRow>,
    pub density: Vec<DensityRow>,
}

impl Report {
    pub fn latency_row(&self, mode: Mode, implementation: &str) -> Option<&LatencyRow> {
        self.latency
            .iter()
            .find(|r| r.mode == mode && r.implementation == implementation)
    }

    pub fn concurrency_row(&self, at_once: usize, implementation: &str) -> Option<&ConcurrencyRow> {
        self.concurrency
            .iter()
            .find(|r| r.at_once == at_once && r.implementation == implementation)
    }

    /// The fewest and the most containers attached in the density section,
    /// when it measured two levels or more.
    pub fn density_levels(&self) -> Option<(usize, usize)> {
        let levels = self.density.iter().map(|r| r.attached);
        let (low, high) = (levels.clone().min()?, levels.max()?);
        (low < high).then_some((low, high))
    }

    pub fn density_row(
        &self,
        attached: usize,
        containers: Containers,
        implementation: &str,
    ) -> Option<&DensityRow> {
        self.density.iter().find(|r| {
            r.attached == attached
                && r.containers == containers
                && r.implementation == implementation
        })
    }

    pub fn to_json(&self) -> Value {
        let stats = |s: &Stats| json!({"median_ms": ms(s.median), "mean_ms": ms(s.mean), "p99_ms": ms(s.p99)});
        json!({
            "containers": self.containers,
            "latency": self.latency.iter().map(|r| json!({
                "mode": r.mode.name(), "implementation": r.implementation,
                "add": stats(&r.add), "del": stats(&r.del),
                "check": match &r.check_failed {
                    None => stats(&r.check),
                    Some(f) => json!({"failed": f.count, "of": f.of, "error": f.error}),
                },
                "peak_rss_kib": {"plugin": r.rss.main_kib, "tree": r.rss.tree_kib},
            })).collect::<Vec<_>>(),
            "concurrency": self.concurrency.iter().map(|r| json!({
                "mode": Mode::BridgeMasq.name(), "at_once": r.at_once,
                "implementation": r.implementation, "wall_ms": ms(r.wall), "per_call": stats(&r.per_call),
            })).collect::<Vec<_>>(),
            "density": self.density.iter().map(|r| json!({
                "mode": Mode::Bridge.name(), "attached": r.attached,
                "containers": r.containers.name(), "implementation": r.implementation, "add": stats(&r.add), "del": stats(&r.del),
            })).collect::<Vec<_>>(),
            "goals": goals::evaluate(self).iter().map(Goal::to_json).collect::<Vec<_>>(),
        })
    }

    fn latency_table(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "One container at a time, {} per mode (ms per invocation: median / p99)",
            self.containers
        )?;
        writeln!(
            f,
            "| mode | implementation | ADD | CHECK | DEL | peak RSS KiB plugin / tree |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|")?;
        for r in &self.latency {
            writeln!(
                f,
                "| {} | {} | {} | {} | {} | {} / {} |",
                r.mode.name(),
                r.implementation,
                median_p99(&r.add),
                check_cell(r),
                median_p99(&r.del),
                r.rss.main_kib,
                r.rss.tree_kib
            )?;
        }
        writeln!(
            f,
            "(peak RSS: VmHWM at exit, largest over ADD, CHECK and DEL of traced extra containers; \
             plugin = the process started, tree = largest of it and every process it started)"
        )?;
        for r in &self.latency {
            if let Some(failed) = &r.check_failed {
                writeln!(
                    f,
                    "(CHECK failed, {}, {}: {})",
                    r.mode.name(),
                    r.implementation,
                    failed.error.trim()
                )?;
            }
        }
        Ok(())
    }

    fn concurrency_table(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.concurrency.is_empty() {
            return Ok(());
        }
        writeln!(
            f,
            "\nADDs started at once, {} (ms)",
            Mode::BridgeMasq.name()
        )?;
        writeln!(
            f,
            "| at once | implementation | wall | per call median | per call p99 |"
        )?;
        writeln!(f, "|---|---|---|---|---|")?;
        for r in &self.concurrency {
            writeln!(
                f,
                "| {} | {} | {:.2} | {:.2} | {:.2} |",
                r.at_once,
                r.implementation,
                ms(r.wall),
                ms(r.per_call.median),
                ms(r.per_call.p99)
            )?;
        }
        Ok(())
    }

    fn density_table(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.density.is_empty() {
            return Ok(());
        }
        writeln!(
            f,
            "\n{} more containers with N already attached to the same {} (ms: median / p99)",
            super::scenario::DENSITY_PROBES,
            Mode::Bridge.name()
        )?;
        writeln!(f, "| attached | containers | implementation | ADD | DEL |")?;
        writeln!(f, "|---|---|---|---|---|")?;
        for r in &self.density {
            writeln!(
                f,
                "| {} | {} | {} | {} | {} |",
                r.attached,
                r.containers.name(),
                r.implementation,
                median_p99(&r.add),
                median_p99(&r.del)
            )?;
        }
        Ok(())
    }
}

pub fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

/// The CHECK column: its times, or how many failed (times of the rest, if any).
fn check_cell(r: &LatencyRow) -> String {
    match &r.check_failed {
        None => median_p99(&r.check),
        Some(f) if f.count == f.of => "failed".into(),
        Some(f) => format!("{} ({} of {} failed)", median_p99(&r.check), f.count, f.of),
    }
}

fn median_p99(s: &Stats) -> String {
    format!("{:.2} / {:.2}", ms(s.median), ms(s.p99))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.latency_table(f)?;
        self.concurrency_table(f)?;
        self.density_table(f)?;
        writeln!(f)?;
        super::ratios::write(self, f)?;
        writeln!(f, "\nGoals (ratios from this run):")?;
        for goal in goals::evaluate(self) {
            writeln!(f, "{goal}")?;
        }
        Ok(())
    }
}
