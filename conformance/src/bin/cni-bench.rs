//! `cni-bench`: ADD, CHECK and DEL of bridge (plain, ipMasq, dual stack), ptp,
//! macvlan and loopback with host-local, and of Podman's default chain
//! (bridge, portmap, firewall, tuning) through our libcni; ADDs at once; ADD and DEL with many
//! containers attached; peak RSS of each plugin. Ours vs the reference vs
//! `ip -batch`, as ratios, in one run. Needs root; everything happens in
//! namespaces it makes and removes.

use cni_conformance::bench::modes::Mode;
use cni_conformance::bench::{run, BenchConfig};
use std::path::PathBuf;

const USAGE: &str = "usage: cni-bench [--containers N] [--modes M,M,...] [--concurrency N,N,...]
                 [--density N,N,...] [--ours DIR] [--reference DIR | --no-reference] [--json FILE]
  --containers   containers per mode, one at a time (default 20)
  --modes        bridge, masq, dual, ptp, macvlan, loopback, host-device, podman, dhcp (default: all)
  --concurrency  ADDs started at once, bridge with ipMasq (default 1,10,50; 0 or '' skips)
  --density      containers already attached to the bridge (default 10,300; e.g. 10,300,1000)
  --ours DIR     our plugins (default: this binary's directory)
  --json FILE    also write the report as JSON";

fn main() {
    let mut cfg = BenchConfig {
        containers: 20,
        modes: Mode::ALL.to_vec(),
        concurrency: vec![1, 10, 50],
        density: vec![10, 300],
        ours: std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(".")),
        reference: Some(PathBuf::from("/usr/lib/cni")).filter(|p| p.join("bridge").exists()),
    };
    let mut json_out = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--containers" => cfg.containers = number(&value(), &a),
            "--modes" => cfg.modes = modes(&value()),
            "--concurrency" => cfg.concurrency = numbers(&value(), &a),
            "--density" => cfg.density = numbers(&value(), &a),
            "--ours" => cfg.ours = PathBuf::from(value()),
            "--reference" => cfg.reference = Some(PathBuf::from(value())),
            "--no-reference" => cfg.reference = None,
            "--json" => json_out = Some(PathBuf::from(value())),
            // Kept for old command lines: ipMasq is one of the default modes.
            "--ip-masq" if !cfg.modes.contains(&Mode::BridgeMasq) => {
                cfg.modes.push(Mode::BridgeMasq)
            }
            "--ip-masq" => {}
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let report = run(&cfg).unwrap_or_else(|e| {
        eprintln!("cni-bench: {e}");
        std::process::exit(1);
    });
    print!("{report}");
    if let Some(path) = json_out {
        let text = format!("{:#}\n", report.to_json());
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("cni-bench: writing {}: {e}", path.display());
            std::process::exit(1);
        }
    }
}

fn number(text: &str, flag: &str) -> usize {
    text.parse()
        .unwrap_or_else(|_| usage(&format!("{flag} takes a number, not {text:?}")))
}

/// A comma-separated list; zeros and empty items are dropped, so `0` skips a section.
fn numbers(text: &str, flag: &str) -> Vec<usize> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| number(s.trim(), flag))
        .filter(|&n| n > 0)
        .collect()
}

fn modes(text: &str) -> Vec<Mode> {
    text.split(',')
        .map(|s| Mode::parse(s.trim()).unwrap_or_else(|| usage(&format!("unknown mode {s:?}"))))
        .collect()
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("cni-bench: {problem}");
    }
    eprintln!("{USAGE}");
    std::process::exit(if problem.is_empty() { 0 } else { 2 })
}
