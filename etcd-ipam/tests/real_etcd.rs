//! etcd-ipam's binary against real etcd servers started here: the verbs on
//! one member, 200 processes at once from 4 nodes, a leader killed mid-run,
//! quorum lost, GC and dead-node cleanup.

mod support;

use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use support::{dump, finish, have_etcd, netconf, run, spawn, Etcd};

const VERSIONS: [&str; 7] = [
    "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0",
];

fn with_prev(mut conf: Value, prev: &Value) -> Value {
    conf["prevResult"] = prev.clone();
    conf
}

#[test]
fn single_member_every_verb_every_version() {
    if !have_etcd("single_member_every_verb_every_version") {
        return;
    }
    let etcd = Etcd::start(1);
    let eps = etcd.endpoints();
    let ranges = json!({"ranges": [[{"subnet": "10.10.0.0/24"}], [{"subnet": "fd10::/120"}]],
                        "routes": [{"dst": "0.0.0.0/0"}]});
    let mut seen = HashSet::new();
    for v in VERSIONS {
        // Results before 0.3.0 carry one address per family: v4 only there.
        let ipam = if v.starts_with("0.1") || v.starts_with("0.2") {
            json!({"subnet": "10.10.0.0/24"})
        } else {
            ranges.clone()
        };
        let conf = netconf(v, "verbs", &eps, "node-a", ipam);
        let add = run("ADD", &format!("c-{v}"), &conf);
        assert!(add.ok, "ADD {v}: {} {}", add.json, add.stderr);
        let again = run("ADD", &format!("c-{v}"), &conf);
        assert_eq!(add.json, again.json, "retried ADD {v} differs");
        if v.starts_with("0.1") || v.starts_with("0.2") {
            let ip4 = add.json["ip4"]["ip"].as_str().unwrap().to_string();
            assert!(seen.insert(ip4));
        } else {
            for a in add.addrs() {
                assert!(seen.insert(a.clone()), "{a} handed out twice");
            }
            assert_eq!(add.addrs().len(), 2, "{}", add.json);
            assert_eq!(add.json["routes"][0]["dst"], "0.0.0.0/0");
        }
        if v >= "0.4.0" {
            let check = run(
                "CHECK",
                &format!("c-{v}"),
                &with_prev(conf.clone(), &add.json),
            );
            assert!(check.ok, "CHECK {v}: {}", check.json);
        }
    }
    let conf = netconf("1.1.0", "verbs", &eps, "node-a", ranges.clone());
    let status = run("STATUS", "", &conf);
    assert!(status.ok, "STATUS: {}", status.json);
    // CHECK of an attachment that holds nothing fails.
    let prev = run("ADD", "c-1.1.0", &conf).json;
    let check = run("CHECK", "nobody", &with_prev(conf.clone(), &prev));
    assert!(!check.ok && check.code() == 999, "{}", check.json);
    for v in VERSIONS {
        let c = netconf(v, "verbs", &eps, "node-a", ranges.clone());
        for _ in 0..2 {
            let del = run("DEL", &format!("c-{v}"), &c);
            assert!(del.ok, "DEL {v}: {}", del.json);
        }
    }
    assert_eq!(
        dump(&eps, "/cni-rs/ipam/verbs/"),
        Vec::<(String, String)>::new()
    );
}

/// Starts one ADD per container at once, spread over 4 nodes.
fn add_burst(eps: &[String], net: &str, ipam: &Value, ids: &[String]) -> Vec<support::Run> {
    let children: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let conf = netconf("1.0.0", net, eps, &format!("node-{}", i % 4), ipam.clone());
            spawn("ADD", id, &conf)
        })
        .collect();
    children.into_iter().map(finish).collect()
}

fn assert_distinct(runs: &[support::Run]) -> usize {
    let mut seen = HashSet::new();
    for r in runs.iter().filter(|r| r.ok) {
        for a in r.addrs() {
            assert!(seen.insert(a.clone()), "{a} handed out twice");
        }
    }
    seen.len()
}

#[test]
fn two_hundred_processes_from_four_nodes() {
    if !have_etcd("two_hundred_processes_from_four_nodes") {
        return;
    }
    let etcd = Etcd::start(1);
    let eps = etcd.endpoints();
    let ids: Vec<String> = (0..200).map(|i| format!("burst-{i}")).collect();

    // Room for everyone: every ADD succeeds, all distinct.
    let started = Instant::now();
    let runs = add_burst(&eps, "roomy", &json!({"subnet": "10.20.0.0/24"}), &ids);
    let roomy = started.elapsed();
    for r in &runs {
        assert!(r.ok, "{} {}", r.json, r.stderr);
    }
    assert_eq!(assert_distinct(&runs), 200);

    // 150 addresses for 200 ADDs: exactly 150 succeed, the rest say so.
    let scarce =
        json!({"subnet": "10.21.0.0/24", "rangeStart": "10.21.0.2", "rangeEnd": "10.21.0.151"});
    let runs = add_burst(&eps, "scarce", &scarce, &ids);
    assert_eq!(assert_distinct(&runs), 150);
    let failed: Vec<_> = runs.iter().filter(|r| !r.ok).collect();
    assert_eq!(failed.len(), 50);
    for r in failed {
        assert_eq!(r.code(), 999, "{}", r.json);
        let msg = r.json["msg"].as_str().unwrap_or("");
        assert!(msg.contains("no IP addresses available"), "{msg}");
    }
    eprintln!("200 ADDs at once, 4 nodes, one member: {roomy:?}");
}

#[test]
fn three_members_leader_killed_mid_run() {
    if !have_etcd("three_members_leader_killed_mid_run") {
        return;
    }
    let mut etcd = Etcd::start(3);
    let eps = etcd.endpoints();
    let ipam = json!({"subnet": "10.30.0.0/24"});
    let ids: Vec<String> = (0..120).map(|i| format!("lk-{i}")).collect();
    // All started at once; the leader dies once a sixth have finished, so
    // some ADDs are done, some mid-transaction and some not yet connected.
    let mut children: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let node = format!("node-{}", i % 4);
            spawn(
                "ADD",
                id,
                &netconf("1.0.0", "leaderkill", &eps, &node, ipam.clone()),
            )
        })
        .collect();
    let started = Instant::now();
    let in_flight = loop {
        let running = children
            .iter_mut()
            .map(|c| c.try_wait())
            .filter(|w| matches!(w, Ok(None)))
            .count();
        if running <= 100 || started.elapsed() > Duration::from_secs(10) {
            break running;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let leader = etcd.leader().expect("a leader");
    etcd.kill(leader);
    eprintln!("leader {leader} killed with {in_flight} of 120 ADDs still running");
    // The kill must land mid-run, or this test proves nothing.
    assert!(
        in_flight > 0,
        "every ADD had finished before the leader died"
    );
    let runs: Vec<_> = children.into_iter().map(finish).collect();
    assert_distinct(&runs);
    let failed: Vec<&String> = ids
        .iter()
        .zip(&runs)
        .filter(|(_, r)| !r.ok)
        .map(|(id, _)| id)
        .collect();
    for r in runs.iter().filter(|r| !r.ok) {
        // Clean: "try again later", naming the store.
        assert_eq!(r.code(), 11, "{} {}", r.json, r.stderr);
    }
    eprintln!(
        "leader {leader} killed: {} of 120 ADDs failed cleanly",
        failed.len()
    );
    // The rerun (what a runtime does on 11) completes, and a retried ADD of
    // one that succeeded returns what it got.
    etcd.wait_healthy(Duration::from_secs(10));
    let conf = |i: usize| {
        netconf(
            "1.0.0",
            "leaderkill",
            &eps,
            &format!("node-{}", i % 4),
            ipam.clone(),
        )
    };
    let mut all = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let r = run("ADD", id, &conf(i));
        assert!(r.ok, "rerun {id}: {} {}", r.json, r.stderr);
        if runs[i].ok {
            assert_eq!(
                r.addrs(),
                runs[i].addrs(),
                "{id}: retry changed the address"
            );
        }
        all.push(r);
    }
    assert_eq!(assert_distinct(&all), 120);
    // Nothing half-made: 120 records and 120 address keys.
    let keys = dump(&eps, "/cni-rs/ipam/leaderkill/");
    assert_eq!(
        keys.iter().filter(|(k, _)| k.contains("/addr/")).count(),
        120
    );
    assert_eq!(
        keys.iter()
            .filter(|(k, _)| k.contains("/attachment/"))
            .count(),
        120
    );
}

#[test]
fn quorum_lost_fails_closed() {
    if !have_etcd("quorum_lost_fails_closed") {
        return;
    }
    let mut etcd = Etcd::start(3);
    let eps = etcd.endpoints();
    let ipam = json!({"subnet": "10.40.0.0/24"});
    let conf = netconf("1.1.0", "quorum", &eps, "node-a", ipam.clone());
    assert!(run("ADD", "before", &conf).ok);
    etcd.kill(0);
    etcd.kill(1);
    let started = Instant::now();
    let add = run("ADD", "during", &conf);
    assert!(!add.ok);
    assert_eq!(add.code(), 11, "{}", add.json);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let msg = add.json["msg"].as_str().unwrap_or("");
    assert!(msg.contains("store unavailable"), "{msg}");
    let status = run("STATUS", "", &conf);
    assert_eq!(status.code(), 50, "{}", status.json);
    // Quorum back: the failed ADD left nothing behind.
    etcd.restart(0);
    etcd.wait_healthy(Duration::from_secs(15));
    let keys = dump(&eps, "/cni-rs/ipam/quorum/");
    assert!(keys.iter().all(|(k, _)| !k.contains("during")), "{keys:?}");
    assert_eq!(keys.len(), 2, "{keys:?}");

    // No endpoint at all answers: 11 too.
    drop(etcd);
    let add = run("ADD", "nobody-home", &conf);
    assert_eq!(add.code(), 11, "{}", add.json);
}

#[test]
fn gc_and_dead_node_free_exactly_theirs() {
    if !have_etcd("gc_and_dead_node_free_exactly_theirs") {
        return;
    }
    let etcd = Etcd::start(1);
    let eps = etcd.endpoints();
    let ipam = json!({"subnet": "10.50.0.0/24"});
    let a = netconf("1.1.0", "gcnet", &eps, "node-a", ipam.clone());
    let b = netconf("1.1.0", "gcnet", &eps, "node-b", ipam.clone());
    for id in ["a1", "a2", "a3"] {
        assert!(run("ADD", id, &a).ok);
    }
    for id in ["b1", "b2"] {
        assert!(run("ADD", id, &b).ok);
    }
    let mut gc = a.clone();
    gc["cni.dev/valid-attachments"] = json!([{"containerID": "a2", "ifname": "eth0"}]);
    let r = run("GC", "", &gc);
    assert!(r.ok, "{}", r.json);
    let held = |eps: &[String]| -> Vec<String> {
        dump(eps, "/cni-rs/ipam/gcnet/attachment/")
            .into_iter()
            .map(|(k, _)| k.rsplit('/').nth(1).unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(held(&eps), ["a2", "b1", "b2"]);
    // node-b died: an operator frees what it held.
    let out = std::process::Command::new(support::plugin())
        .args(["release-node", "node-b"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(b.to_string().as_bytes())?;
            c.wait_with_output()
        })
        .expect("release-node");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "released b1 eth0\nreleased b2 eth0\n"
    );
    assert_eq!(held(&eps), ["a2"]);
    assert_eq!(dump(&eps, "/cni-rs/ipam/gcnet/addr/").len(), 1);
}

#[test]
fn freed_address_stays_quarantined() {
    if !have_etcd("freed_address_stays_quarantined") {
        return;
    }
    let etcd = Etcd::start(1);
    let eps = etcd.endpoints();
    let ipam = json!({"subnet": "10.80.0.0/24", "quarantineSeconds": 1});
    let conf = netconf("1.0.0", "quar", &eps, "node-a", ipam);
    let first = support::finish(support::spawn_args("ADD", "q1", &conf, "IP=10.80.0.9"));
    assert!(first.ok, "{}", first.json);
    let freed = Instant::now();
    assert!(run("DEL", "q1", &conf).ok);
    let again = support::finish(support::spawn_args("ADD", "q2", &conf, "IP=10.80.0.9"));
    if freed.elapsed() < Duration::from_millis(900) {
        assert_eq!(again.code(), 999, "{}", again.json);
        let msg = again.json["msg"].as_str().unwrap_or("");
        assert!(msg.contains("quarantined"), "{msg}");
    }
    std::thread::sleep(Duration::from_millis(1100));
    let later = support::finish(support::spawn_args("ADD", "q2", &conf, "IP=10.80.0.9"));
    assert_eq!(later.addrs(), ["10.80.0.9/24"], "{}", later.json);
    // The expired entry was consumed by the claim.
    assert!(dump(&eps, "/cni-rs/ipam/quar/quarantine/").is_empty());
}
