//! The benchmark recorded in the README: ADDs per second and p50/p99 ADD
//! latency of the etcd-ipam binary with 1, 8 and 32 processes at once,
//! against one and three etcd members, the pool 10% and 90% full; our
//! host-local on the same machine as the baseline.
//!
//! `HOST_LOCAL=target/release/host-local cargo test --release -p cni-etcd-ipam
//!  --test bench -- --ignored --nocapture`

mod support;

use cni_core::ipam::cluster::{Cluster, RealPace};
use cni_core::spec::config::Attachment;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::{have_etcd, netconf, Etcd};

/// Timed ADDs per cell.
const ADDS: usize = 64;
/// A /22: 1021 addresses besides the gateway.
const SUBNET: &str = "10.60.0.0/22";
const POOL: usize = 1021;

fn time_adds(
    bin: &Path,
    conf: &Value,
    prefix: &str,
    concurrency: usize,
) -> (f64, Duration, Duration) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let lat = std::sync::Mutex::new(Vec::new());
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..concurrency {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= ADDS {
                    break;
                }
                let t = Instant::now();
                let r = run_bin(bin, "ADD", &format!("{prefix}-{i}"), conf);
                assert!(r, "ADD {prefix}-{i} failed");
                lat.lock().unwrap().push(t.elapsed());
            });
        }
    });
    let wall = start.elapsed();
    let mut lat = lat.into_inner().unwrap();
    lat.sort();
    let pct = |p: usize| lat[(lat.len() * p / 100).min(lat.len() - 1)];
    (ADDS as f64 / wall.as_secs_f64(), pct(50), pct(99))
}

fn run_bin(bin: &Path, cmd: &str, id: &str, conf: &Value) -> bool {
    support::finish(support::spawn_bin(bin, cmd, id, conf, "")).ok
}

fn row(what: &str, members: &str, fill: usize, c: usize, r: (f64, Duration, Duration)) {
    println!(
        "| {what} | {members} | {fill}% | {c} | {:.0} | {:.1} | {:.1} |",
        r.0,
        r.1.as_secs_f64() * 1e3,
        r.2.as_secs_f64() * 1e3
    );
}

#[test]
#[ignore = "benchmark: prints the README's table"]
fn bench() {
    if !have_etcd("bench") {
        return;
    }
    println!("| plugin | etcd members | pool full | processes | ADDs/s | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let bin = support::plugin();
    for members in [1, 3] {
        let etcd = Etcd::start(members);
        let eps = etcd.endpoints();
        for fill in [10, 90] {
            let net = format!("bench{fill}");
            let conf = netconf("1.0.0", &net, &eps, "bench-node", json!({"subnet": SUBNET}));
            // Fill in process, through the same allocator.
            let parsed =
                cni_etcd_ipam::config::EtcdConf::parse(conf.to_string().as_bytes()).unwrap();
            let sets = parsed.net.ranges().unwrap();
            cni_etcd_ipam::plugin::with_cluster(&parsed, |c: &mut Cluster<'_, _, RealPace>| {
                for i in 0..POOL * fill / 100 {
                    c.add(&Attachment::new(format!("fill-{i}"), "eth0"), &sets, &[])?;
                }
                Ok(())
            })
            .unwrap();
            for c in [1, 8, 32] {
                let prefix = format!("m{members}-c{c}");
                row(
                    "etcd-ipam",
                    &members.to_string(),
                    fill,
                    c,
                    time_adds(&bin, &conf, &prefix, c),
                );
                for i in 0..ADDS {
                    assert!(run_bin(&bin, "DEL", &format!("{prefix}-{i}"), &conf));
                }
            }
        }
    }
    let host_local = std::env::var_os("HOST_LOCAL").map(PathBuf::from);
    let Some(host_local) = host_local.filter(|p| p.exists()) else {
        println!("(host-local baseline skipped: set HOST_LOCAL to our host-local binary)");
        return;
    };
    for fill in [10, 90] {
        let dir = tempfile::tempdir().unwrap();
        let conf = json!({"cniVersion": "1.0.0", "name": format!("hl{fill}"), "type": "bridge",
            "ipam": {"type": "host-local", "subnet": SUBNET, "dataDir": dir.path()}});
        for i in 0..POOL * fill / 100 {
            assert!(run_bin(&host_local, "ADD", &format!("fill-{i}"), &conf));
        }
        for c in [1, 8, 32] {
            let prefix = format!("hl-c{c}");
            row(
                "host-local",
                "-",
                fill,
                c,
                time_adds(&host_local, &conf, &prefix, c),
            );
            for i in 0..ADDS {
                assert!(run_bin(&host_local, "DEL", &format!("{prefix}-{i}"), &conf));
            }
        }
    }
}
