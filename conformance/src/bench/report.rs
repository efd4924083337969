//! The benchmark's table and ratios.

use super::measure::Stats;
use std::fmt;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Row {
    pub label: String,
    pub add: Stats,
    pub del: Stats,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub containers: usize,
    pub rows: Vec<Row>,
}

impl Report {
    fn row(&self, label: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.label.starts_with(label))
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ratio(a: Duration, b: Duration) -> f64 {
    if b.is_zero() {
        0.0
    } else {
        a.as_secs_f64() / b.as_secs_f64()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "bridge + host-local, {} containers, one run (median / mean per invocation)",
            self.containers
        )?;
        writeln!(f, "| implementation | ADD median ms | ADD mean ms | DEL median ms | DEL mean ms | peak RSS KiB |")?;
        writeln!(f, "|---|---|---|---|---|---|")?;
        for r in &self.rows {
            writeln!(
                f,
                "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
                r.label,
                ms(r.add.median),
                ms(r.add.mean),
                ms(r.del.median),
                ms(r.del.mean),
                r.add.max_rss_kib.max(r.del.max_rss_kib)
            )?;
        }
        let (Some(ours), Some(floor)) = (self.row("ours"), self.row("floor")) else {
            return Ok(());
        };
        writeln!(f)?;
        if let Some(reference) = self.row("reference") {
            writeln!(
                f,
                "speed-up over the reference (reference / ours, medians): ADD {:.2}x, DEL {:.2}x",
                ratio(reference.add.median, ours.add.median),
                ratio(reference.del.median, ours.del.median)
            )?;
            let rss_ours = ours.add.max_rss_kib.max(ours.del.max_rss_kib) as f64;
            let rss_ref = reference.add.max_rss_kib.max(reference.del.max_rss_kib) as f64;
            if rss_ref > 0.0 {
                writeln!(f, "peak RSS, ours / reference: {:.2}", rss_ours / rss_ref)?;
            }
        }
        writeln!(
            f,
            "distance from the kernel floor (ours / ip -batch, medians): ADD {:.2}x, DEL {:.2}x",
            ratio(ours.add.median, floor.add.median),
            ratio(ours.del.median, floor.del.median)
        )
    }
}
