//! The configuration differential fuzzer, long run:
//! `config-diff [--cases N] [--seed S] [--plugins host-local,static,bridge,...]`
//! (our binaries from `CNI_RS_BIN_DIR` or `target/debug`, the reference's
//! from /usr/lib/cni; every plugin but host-local and static needs root;
//! the plugins are `config_diff::targets::ALL`). `--cases` is per
//! plugin. Prints a summary per plugin (with `--examples`, also the first
//! case of each reviewed difference); exits 1 when any difference is not on
//! the reviewed list.

use cni_conformance::config_diff::{fuzz, targets, Case, Difference, Report};
use std::time::Instant;

const USAGE: &str = "usage: config-diff [--cases N] [--seed S] [--plugins P,Q,...] [--examples]";

fn value<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let i = args.iter().position(|a| a == name)?;
    Some(args.get(i + 1).map(String::as_str).unwrap_or(""))
}

fn number(args: &[String], name: &str, default: u64) -> Result<u64, String> {
    value(args, name).map_or(Ok(default), |v| {
        v.parse().map_err(|_| format!("{name} needs a number"))
    })
}

fn fail(message: &str) -> ! {
    eprintln!("config-diff: {message}\n{USAGE}");
    std::process::exit(2);
}

fn show(label: &str, plugin: &str, case: &Case, d: &Difference) {
    println!(
        "{label} {plugin} {:?} at step {} {}: {}\n  config {}\n  CNI_IFNAME {} CNI_ARGS {:?}",
        d.kind, d.step, d.verb, d.detail, case.config, case.ifname, case.cni_args
    );
}

fn print(plugin: &str, seed: u64, secs: f64, report: &Report, examples: bool) {
    if examples {
        for (id, (case, d)) in &report.examples {
            show(&format!("EXAMPLE of {id}:"), plugin, case, d);
        }
    }
    for (case, d) in &report.unexplained {
        show("UNEXPLAINED", plugin, case, d);
    }
    println!(
        "{plugin}: {} cases (seed {seed}) in {secs:.1}s: {} same, deliberate {:?}, known bugs {:?}, {} unexplained",
        report.cases,
        report.same,
        report.deliberate,
        report.known_bugs,
        report.unexplained.len()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (cases, seed) = match (number(&args, "--cases", 1000), number(&args, "--seed", 1)) {
        (Ok(c), Ok(s)) => (c, s),
        (Err(e), _) | (_, Err(e)) => fail(&e),
    };
    let plugins = value(&args, "--plugins").unwrap_or("host-local,static");
    let mut unexplained = 0;
    for plugin in plugins.split(',') {
        let mut target = targets::by_name(plugin).unwrap_or_else(|e| fail(&e));
        let started = Instant::now();
        let report = fuzz(target.as_mut(), cases as usize, seed)
            .unwrap_or_else(|e| fail(&format!("running a plugin failed: {e}")));
        let examples = args.iter().any(|a| a == "--examples");
        print(
            plugin,
            seed,
            started.elapsed().as_secs_f64(),
            &report,
            examples,
        );
        unexplained += report.unexplained.len();
    }
    if unexplained > 0 {
        std::process::exit(1);
    }
}
