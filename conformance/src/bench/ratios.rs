//! The ratios printed under the tables: ours against the reference and the
//! floor per mode, what ipMasq adds, ADDs at once, and growth with density.

use super::density::Containers;
use super::latency::LatencyRow;
use super::modes::Mode;
use super::report::{Report, FLOOR};
use std::fmt;
use std::time::Duration;

pub fn ratio(a: Duration, b: Duration) -> f64 {
    if b.is_zero() {
        0.0
    } else {
        a.as_secs_f64() / b.as_secs_f64()
    }
}

pub fn kib_ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

pub fn write(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    per_mode(report, f)?;
    masq_cost(report, f)?;
    at_once(report, f)?;
    density_growth(report, f)
}

fn per_mode(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for mode in Mode::ALL {
        let Some(ours) = report.latency_row(mode, "ours") else {
            continue;
        };
        if let Some(reference) = report.latency_row(mode, "reference") {
            writeln!(
                f,
                "{}: reference / ours (medians) ADD {:.2}x, CHECK {}, DEL {:.2}x; peak RSS ours / reference plugin {:.2}, tree {:.2}",
                mode.name(),
                ratio(reference.add.median, ours.add.median),
                check_ratio(reference, ours),
                ratio(reference.del.median, ours.del.median),
                kib_ratio(ours.rss.main_kib, reference.rss.main_kib),
                kib_ratio(ours.rss.tree_kib, reference.rss.tree_kib),
            )?;
        }
        if let Some(floor) = report.latency_row(mode, FLOOR) {
            writeln!(
                f,
                "{}: ours / floor (medians) ADD {:.2}x, CHECK {}, DEL {:.2}x",
                mode.name(),
                ratio(ours.add.median, floor.add.median),
                check_ratio(ours, floor),
                ratio(ours.del.median, floor.del.median),
            )?;
        }
    }
    Ok(())
}

/// `a / b` of the CHECK medians, or why there is none.
fn check_ratio(a: &LatencyRow, b: &LatencyRow) -> String {
    let failed = |r: &LatencyRow| {
        r.check_failed
            .as_ref()
            .map(|_| format!("- ({} failed)", r.implementation))
    };
    failed(a)
        .or_else(|| failed(b))
        .unwrap_or_else(|| format!("{:.2}x", ratio(a.check.median, b.check.median)))
}

fn masq_cost(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for implementation in ["ours", "reference", FLOOR] {
        let (Some(plain), Some(masq)) = (
            report.latency_row(Mode::Bridge, implementation),
            report.latency_row(Mode::BridgeMasq, implementation),
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

fn at_once(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut levels: Vec<usize> = report.concurrency.iter().map(|r| r.at_once).collect();
    levels.dedup();
    for n in levels {
        let Some(ours) = report.concurrency_row(n, "ours") else {
            continue;
        };
        let versus = |other: &str| {
            report
                .concurrency_row(n, other)
                .map(|r| format!("{:.2}x", ratio(r.wall, ours.wall)))
                .unwrap_or_else(|| "-".into())
        };
        writeln!(
            f,
            "{n} ADDs at once (wall): reference / ours {}, floor / ours {}",
            versus("reference"),
            versus(FLOOR)
        )?;
    }
    Ok(())
}

fn density_growth(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let Some((low, high)) = report.density_levels() else {
        return Ok(());
    };
    for containers in Containers::ALL {
        // ADD growth from `low` to `high`, in ms, of each implementation measured.
        let mut grew: Vec<(&str, f64)> = Vec::new();
        for implementation in ["ours", "reference", FLOOR] {
            let (Some(a), Some(b)) = (
                report.density_row(low, containers, implementation),
                report.density_row(high, containers, implementation),
            ) else {
                continue;
            };
            writeln!(
                f,
                "density, {} containers, {implementation} ({high} attached / {low} attached, medians): ADD {:.2}x, DEL {:.2}x",
                containers.name(),
                ratio(b.add.median, a.add.median),
                ratio(b.del.median, a.del.median)
            )?;
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            grew.push((implementation, ms(b.add.median) - ms(a.add.median)));
        }
        if grew.is_empty() {
            continue;
        }
        let mut growth: Vec<String> = grew.iter().map(|(i, ms)| format!("{i} {ms:+.2}")).collect();
        let of = |implementation: &str| grew.iter().find(|(i, _)| *i == implementation);
        if let (Some((_, ours)), Some((_, floor))) = (of("ours"), of(FLOOR)) {
            growth.push(format!("ours beyond the floor {:+.2}", ours - floor));
        }
        // The floor does only the kernel's work: what it gains is the
        // kernel's cost of one more port on a fuller bridge (and, with IPv6
        // on, of flooding the new container's announcements to every port),
        // which no plugin can avoid.
        writeln!(
            f,
            "density, {} containers, ADD growth from {low} to {high} attached (ms, medians; the floor's is the kernel's own): {}",
            containers.name(),
            growth.join(", ")
        )?;
    }
    Ok(())
}
