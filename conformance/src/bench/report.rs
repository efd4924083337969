//! The benchmark's table and ratios.

use super::measure::Stats;
use super::memory::PeakRss;
use std::fmt;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Row {
    pub label: String,
    pub add: Stats,
    pub del: Stats,
    pub add_rss: PeakRss,
    pub del_rss: PeakRss,
}

impl Row {
    fn rss(&self) -> PeakRss {
        self.add_rss.max(self.del_rss)
    }
}

/// The floor's label: the same netlink work as one `ip -batch`.
pub const FLOOR: &str = "floor (ip -batch)";
const WITH_MASQ: &str = " + ipMasq";

#[derive(Debug, Clone)]
pub struct Report {
    pub containers: usize,
    pub rows: Vec<Row>,
}

impl Report {
    /// A row's label: the implementation, marked when it ran with `ipMasq`.
    pub fn label(implementation: &str, ip_masq: bool) -> String {
        let mark = if ip_masq { WITH_MASQ } else { "" };
        format!("{implementation}{mark}")
    }

    fn row(&self, implementation: &str, ip_masq: bool) -> Option<&Row> {
        let label = Self::label(implementation, ip_masq);
        self.rows.iter().find(|r| r.label == label)
    }

    /// With / without `ipMasq`, for every implementation measured both ways.
    fn masq_cost(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for implementation in ["ours", "reference", FLOOR] {
            let (Some(plain), Some(masq)) = (
                self.row(implementation, false),
                self.row(implementation, true),
            ) else {
                continue;
            };
            writeln!(
                f,
                "ipMasq cost, {implementation} (with / without, medians): ADD {:.2}x, DEL {:.2}x",
                ratio(masq.add.median, plain.add.median),
                ratio(masq.del.median, plain.del.median)
            )?;
        }
        Ok(())
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn kib_ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
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
        writeln!(f, "| implementation | ADD median ms | ADD mean ms | DEL median ms | DEL mean ms | ADD peak RSS KiB plugin / tree | DEL peak RSS KiB plugin / tree |")?;
        writeln!(f, "|---|---|---|---|---|---|---|")?;
        for r in &self.rows {
            writeln!(
                f,
                "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {} / {} | {} / {} |",
                r.label,
                ms(r.add.median),
                ms(r.add.mean),
                ms(r.del.median),
                ms(r.del.mean),
                r.add_rss.main_kib,
                r.add_rss.tree_kib,
                r.del_rss.main_kib,
                r.del_rss.tree_kib,
            )?;
        }
        writeln!(
            f,
            "(peak RSS: VmHWM at exit of traced extra invocations, not the timed ones; \
             plugin = the process started, tree = largest of it and every process it started)"
        )?;
        let (Some(ours), Some(floor)) = (self.row("ours", false), self.row(FLOOR, false)) else {
            return Ok(());
        };
        writeln!(f)?;
        self.masq_cost(f)?;
        if let Some(reference) = self.row("reference", false) {
            writeln!(
                f,
                "speed-up over the reference (reference / ours, medians): ADD {:.2}x, DEL {:.2}x",
                ratio(reference.add.median, ours.add.median),
                ratio(reference.del.median, ours.del.median)
            )?;
            let (o, r) = (ours.rss(), reference.rss());
            writeln!(
                f,
                "peak RSS, ours / reference: plugin process {:.2}, invocation tree {:.2}",
                kib_ratio(o.main_kib, r.main_kib),
                kib_ratio(o.tree_kib, r.tree_kib)
            )?;
        }
        writeln!(
            f,
            "distance from the kernel floor (ours / ip -batch, medians): ADD {:.2}x, DEL {:.2}x",
            ratio(ours.add.median, floor.add.median),
            ratio(ours.del.median, floor.del.median)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(label: &str, add_ms: u64, del_ms: u64, main_kib: u64, tree_kib: u64) -> Row {
        let stats = |ms| Stats {
            median: Duration::from_millis(ms),
            mean: Duration::from_millis(ms),
        };
        Row {
            label: label.to_string(),
            add: stats(add_ms),
            del: stats(del_ms),
            add_rss: PeakRss { main_kib, tree_kib },
            // DEL peaks lower: the ratios must take the larger of the two.
            del_rss: PeakRss {
                main_kib: main_kib / 2,
                tree_kib: tree_kib / 2,
            },
        }
    }

    #[test]
    fn ratios_compare_medians_and_the_larger_peak_of_add_and_del() {
        let report = Report {
            containers: 3,
            rows: vec![
                row("ours", 2, 20, 3000, 3000),
                row("reference", 8, 20, 6000, 12000),
                row(FLOOR, 4, 10, 2000, 2000),
            ],
        };
        let text = report.to_string();
        assert!(
            text.contains("| ours | 2.00 | 2.00 | 20.00 | 20.00 | 3000 / 3000 | 1500 / 1500 |"),
            "{text}"
        );
        assert!(text.contains("ADD 4.00x, DEL 1.00x"), "{text}");
        assert!(
            text.contains("plugin process 0.50, invocation tree 0.25"),
            "{text}"
        );
        assert!(
            text.contains("(ours / ip -batch, medians): ADD 0.50x, DEL 2.00x"),
            "{text}"
        );
    }

    #[test]
    fn masq_rows_are_compared_with_the_same_implementation_without_masq() {
        let report = Report {
            containers: 3,
            rows: vec![
                row("ours", 4, 20, 3000, 3000),
                row("reference", 8, 20, 6000, 12000),
                row(FLOOR, 4, 10, 2000, 2000),
                row(&Report::label("ours", true), 5, 22, 3000, 3000),
                row(&Report::label(FLOOR, true), 8, 20, 2000, 2000),
            ],
        };
        let text = report.to_string();
        assert!(
            text.contains("ipMasq cost, ours (with / without, medians): ADD 1.25x, DEL 1.10x"),
            "{text}"
        );
        assert!(
            text.contains(
                "ipMasq cost, floor (ip -batch) (with / without, medians): ADD 2.00x, DEL 2.00x"
            ),
            "{text}"
        );
        assert!(!text.contains("ipMasq cost, reference"), "{text}");
        // The plain ratios still compare the plain rows.
        assert!(
            text.contains("(ours / ip -batch, medians): ADD 1.00x, DEL 2.00x"),
            "{text}"
        );
    }
}
