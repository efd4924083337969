//! `cni-bench [--containers N] [--ours DIR] [--reference DIR] [--ip-masq]`:
//! ADD/DEL of bridge + host-local, ours vs the reference vs `ip -batch`, as
//! ratios; `--ip-masq` measures each again with `ipMasq` (the floor with `nft`).
//! Needs root; everything happens in namespaces it makes and removes.

use cni_conformance::bench::{run, BenchConfig};
use std::path::PathBuf;

fn main() {
    let mut cfg = BenchConfig {
        containers: 20,
        ours: std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("target/release")),
        reference: Some(PathBuf::from("/usr/lib/cni")).filter(|p| p.join("bridge").exists()),
        ip_masq: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--containers" => {
                cfg.containers = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--containers takes a number"))
            }
            "--ours" => cfg.ours = PathBuf::from(value()),
            "--reference" => cfg.reference = Some(PathBuf::from(value())),
            "--no-reference" => cfg.reference = None,
            "--ip-masq" => cfg.ip_masq = true,
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    match run(&cfg) {
        Ok(report) => print!("{report}"),
        Err(e) => {
            eprintln!("cni-bench: {e}");
            std::process::exit(1);
        }
    }
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("cni-bench: {problem}");
    }
    eprintln!("usage: cni-bench [--containers N] [--ours DIR] [--reference DIR | --no-reference] [--ip-masq]");
    eprintln!("  DIR holds bridge and host-local; ours defaults to this binary's directory.");
    std::process::exit(if problem.is_empty() { 0 } else { 2 })
}
