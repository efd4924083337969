//! The configuration differential fuzzer, long run:
//! `config-diff [--cases N] [--seed S]` (our binaries from `CNI_RS_BIN_DIR`
//! or `target/debug`, the reference's from /usr/lib/cni). Prints a summary;
//! exits 1 when any difference is not on the reviewed list.

use cni_conformance::config_diff::{fuzz, host_local::HostLocal};
use cni_conformance::realns::our_plugin;
use std::path::PathBuf;
use std::time::Instant;

fn arg(args: &[String], name: &str, default: u64) -> Result<u64, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{name} needs a number")),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (cases, seed) = match (arg(&args, "--cases", 1000), arg(&args, "--seed", 1)) {
        (Ok(c), Ok(s)) => (c, s),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("config-diff: {e}\nusage: config-diff [--cases N] [--seed S]");
            std::process::exit(2);
        }
    };
    let target = HostLocal::new(
        our_plugin("host-local"),
        PathBuf::from("/usr/lib/cni/host-local"),
    );
    let started = Instant::now();
    let report = match fuzz(&target, cases as usize, seed) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("config-diff: running a plugin failed: {e}");
            std::process::exit(2);
        }
    };
    for (case, d) in &report.unexplained {
        println!(
            "UNEXPLAINED {:?} at step {} {}: {}\n  config {}\n  CNI_ARGS {:?}",
            d.kind, d.step, d.verb, d.detail, case.config, case.cni_args
        );
    }
    println!(
        "host-local: {} cases (seed {seed}) in {:.1}s: {} same, deliberate {:?}, {} unexplained",
        report.cases,
        started.elapsed().as_secs_f64(),
        report.same,
        report.deliberate,
        report.unexplained.len()
    );
    if !report.unexplained.is_empty() {
        std::process::exit(1);
    }
}
