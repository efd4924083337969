//! host-local ADD and DEL time with 10, 1,000 and 10,000 leases already held,
//! ours side by side with the reference, as ratios.
//!
//! `cargo build --release -p cni-plugins -p cni-conformance &&
//!  target/release/bench-host-local [--ours PATH] [--reference PATH] [--iterations N]`
//!
//! Leases are pre-filled by writing lease files directly, as the reference
//! writes them, so our first invocation also pays its one-off index rebuild;
//! that is reported on its own line and kept out of the per-operation times.

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SIZES: [u32; 3] = [10, 1_000, 10_000];
const BASE: u32 = 0x0a80_0000; // 10.128.0.0/16

struct Opts {
    ours: PathBuf,
    reference: PathBuf,
    iterations: usize,
}

fn opts() -> Result<Opts, String> {
    let mut ours = std::env::current_exe()
        .map_err(|e| format!("locating myself: {e}"))?
        .with_file_name("host-local");
    let mut reference = PathBuf::from("/usr/lib/cni/host-local");
    let mut iterations = 30;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--ours" => ours = PathBuf::from(val()?),
            "--reference" => reference = PathBuf::from(val()?),
            "--iterations" => {
                iterations = val()?.parse().map_err(|e| format!("--iterations: {e}"))?
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    for p in [&ours, &reference] {
        if !p.exists() {
            return Err(format!("{} not found", p.display()));
        }
    }
    Ok(Opts {
        ours,
        reference,
        iterations,
    })
}

fn conf(data_dir: &Path) -> String {
    format!(
        r#"{{"cniVersion":"1.0.0","name":"bench","type":"bridge","ipam":{{"type":"host-local","subnet":"10.128.0.0/16","dataDir":"{}"}}}}"#,
        data_dir.display()
    )
}

fn invoke(bin: &Path, verb: &str, id: &str, conf: &str) -> Result<Duration, String> {
    let start = Instant::now();
    let mut child = Command::new(bin)
        .env_clear()
        .env("CNI_COMMAND", verb)
        .env("CNI_CONTAINERID", id)
        .env("CNI_NETNS", "/var/run/netns/bench")
        .env("CNI_IFNAME", "eth0")
        .env("CNI_PATH", "/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("running {}: {e}", bin.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(conf.as_bytes())
            .map_err(|e| format!("writing stdin: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("waiting for {}: {e}", bin.display()))?;
    let took = start.elapsed();
    if !out.status.success() {
        return Err(format!(
            "{} {verb} {id} failed: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    Ok(took)
}

fn prefill(data_dir: &Path, leases: u32) -> Result<(), String> {
    let net = data_dir.join("bench");
    std::fs::create_dir_all(&net).map_err(|e| format!("creating {}: {e}", net.display()))?;
    for i in 0..leases {
        let ip = Ipv4Addr::from(BASE + 2 + i);
        std::fs::write(net.join(ip.to_string()), format!("pre{i}\r\neth0"))
            .map_err(|e| format!("writing lease {ip}: {e}"))?;
    }
    let last = Ipv4Addr::from(BASE + 1 + leases);
    std::fs::write(net.join("last_reserved_ip.0"), last.to_string())
        .map_err(|e| format!("writing last_reserved_ip.0: {e}"))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

struct Times {
    first: Duration,
    add: Duration,
    del: Duration,
}

fn measure(bin: &Path, dir: &Path, leases: u32, iterations: usize) -> Result<Times, String> {
    let _ = std::fs::remove_dir_all(dir);
    prefill(dir, leases)?;
    let c = conf(dir);
    // The first call after someone else wrote the leases (our index rebuild).
    let first = invoke(bin, "ADD", "warmup", &c)?;
    invoke(bin, "DEL", "warmup", &c)?;
    let mut adds = Vec::with_capacity(iterations);
    let mut dels = Vec::with_capacity(iterations);
    for i in 0..iterations {
        let id = format!("bench{i}");
        adds.push(invoke(bin, "ADD", &id, &c)?);
        dels.push(invoke(bin, "DEL", &id, &c)?);
    }
    let _ = std::fs::remove_dir_all(dir);
    Ok(Times {
        first,
        add: median(adds),
        del: median(dels),
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let o = match opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench-host-local: {e}");
            std::process::exit(2);
        }
    };
    let root = std::env::temp_dir().join(format!("bench-host-local-{}", std::process::id()));
    println!(
        "host-local, median of {} ADD and {} DEL per size (ms); ratio = reference / ours",
        o.iterations, o.iterations
    );
    println!(
        "{:>7} | {:>8} {:>8} {:>6} | {:>8} {:>8} {:>6} | {:>12}",
        "leases", "ref ADD", "our ADD", "ratio", "ref DEL", "our DEL", "ratio", "our 1st ADD"
    );
    for n in SIZES {
        let r = measure(&o.reference, &root.join("ref"), n, o.iterations);
        let us = measure(&o.ours, &root.join("ours"), n, o.iterations);
        match (r, us) {
            (Ok(r), Ok(us)) => println!(
                "{:>7} | {:>8.2} {:>8.2} {:>5.1}x | {:>8.2} {:>8.2} {:>5.1}x | {:>12.2}",
                n,
                ms(r.add),
                ms(us.add),
                ms(r.add) / ms(us.add),
                ms(r.del),
                ms(us.del),
                ms(r.del) / ms(us.del),
                ms(us.first),
            ),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("bench-host-local: {e}");
                let _ = std::fs::remove_dir_all(&root);
                std::process::exit(1);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&root);
}
