//! The cluster allocator past this machine, by simulation: H hosts each
//! running ADDs against one in-memory store, every store call costing a
//! modelled round trip in virtual time. Each host is a thread running the
//! real allocator; a conductor serves their calls strictly in virtual-time
//! order, so the result is deterministic and independent of this machine.
//!
//! Compared with the same workload behind one global lock (whereabouts'
//! design: take the lock, read, write, release).
//!
//! `cargo test -p cni-core --test cluster_sim -- --ignored --nocapture`
//! prints the curve recorded in the README; the plain run checks a small case.

mod cluster_support;

use cluster_support::{check_invariants, keys, set};
use cni_core::ipam::cluster::{Cluster, Entry, Kv, KvError, MemKv, Pace, Settings, Txn};
use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::sync::mpsc::{channel, Receiver, Sender};

/// Round trip to the store, microseconds (etcd: network + a raft commit).
const RTT_US: u64 = 2_000;

enum Req {
    Get(String),
    Range(String),
    Txn(Txn),
    Sleep(u64),
    Lock,
    Unlock,
    /// One ADD finished after `.0` µs.
    Done(u64),
    Exit,
}

enum Reply {
    Get(Option<Entry>),
    Range(Vec<(String, Entry)>),
    Txn(bool),
    Ok,
}

/// A host's view: its calls go to the conductor; its clock is virtual.
struct Link {
    id: usize,
    now: Rc<Cell<u64>>,
    tx: Sender<(usize, u64, Req)>,
    rx: Receiver<(u64, Reply)>,
}

impl Link {
    fn call(&self, req: Req) -> Reply {
        self.tx
            .send((self.id, self.now.get(), req))
            .expect("conductor");
        let (t, reply) = self.rx.recv().expect("conductor reply");
        self.now.set(t);
        reply
    }
}

struct SimKv(Rc<Link>);
struct SimPace(Rc<Link>);

impl Kv for SimKv {
    fn get(&mut self, key: &str) -> Result<Option<Entry>, KvError> {
        match self.0.call(Req::Get(key.into())) {
            Reply::Get(e) => Ok(e),
            _ => unreachable!(),
        }
    }
    fn range(&mut self, prefix: &str) -> Result<Vec<(String, Entry)>, KvError> {
        match self.0.call(Req::Range(prefix.into())) {
            Reply::Range(v) => Ok(v),
            _ => unreachable!(),
        }
    }
    fn txn(&mut self, txn: Txn) -> Result<bool, KvError> {
        match self.0.call(Req::Txn(txn)) {
            Reply::Txn(ok) => Ok(ok),
            _ => unreachable!(),
        }
    }
}

impl Pace for SimPace {
    fn now_ms(&mut self) -> u64 {
        self.0.now.get() / 1000
    }
    fn sleep_ms(&mut self, ms: u64) {
        self.0.call(Req::Sleep(ms * 1000));
    }
}

#[derive(Debug)]
struct Outcome {
    adds: usize,
    failed_txns: u64,
    makespan_us: u64,
    p50_us: u64,
    p99_us: u64,
}

/// `hosts` hosts, `per_host` ADDs each one after another, all starting at 0.
fn simulate(hosts: usize, per_host: usize, global_lock: bool) -> Outcome {
    let (tx, rx) = channel::<(usize, u64, Req)>();
    let mut replies = Vec::new();
    let mut threads = Vec::new();
    for id in 0..hosts {
        let (rtx, rrx) = channel();
        replies.push(rtx);
        let tx = tx.clone();
        threads.push(
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    let link = Rc::new(Link {
                        id,
                        now: Rc::new(Cell::new(0)),
                        tx,
                        rx: rrx,
                    });
                    let sets = vec![set("10.0.0.0/18")];
                    let keys = keys();
                    let settings = Settings::new(format!("host{id}"));
                    let (mut kv, mut pace) = (SimKv(link.clone()), SimPace(link.clone()));
                    for n in 0..per_host {
                        let start = link.now.get();
                        if global_lock {
                            link.call(Req::Lock);
                        }
                        let att =
                            cni_core::spec::config::Attachment::new(format!("h{id}-{n}"), "eth0");
                        let mut c = Cluster {
                            kv: &mut kv,
                            keys: &keys,
                            settings: &settings,
                            pace: &mut pace,
                        };
                        c.add(&att, &sets, &[]).expect("simulated ADD");
                        if global_lock {
                            link.call(Req::Unlock);
                        }
                        link.tx
                            .send((id, link.now.get(), Req::Done(link.now.get() - start)))
                            .expect("conductor");
                    }
                    link.tx
                        .send((id, link.now.get(), Req::Exit))
                        .expect("conductor");
                })
                .expect("host thread"),
        );
    }
    drop(tx);
    let mut store = MemKv::new();
    // Calls waiting to be served, by virtual time (then host, for determinism).
    let mut queue: BTreeMap<(u64, usize), Req> = BTreeMap::new();
    let mut active = hosts;
    let mut waiting = 0; // hosts with a call in `queue`
    let mut lock_holder: Option<usize> = None;
    let mut lock_queue: VecDeque<(usize, u64)> = VecDeque::new();
    let mut latencies = Vec::new();
    let mut end = 0;
    let half = RTT_US / 2;
    while active > 0 {
        // Every live host must be blocked before the earliest call is served.
        while waiting + lock_queue.len() < active {
            let (id, t, req) = rx.recv().expect("host");
            match req {
                Req::Done(lat) => latencies.push(lat),
                Req::Exit => {
                    active -= 1;
                    end = end.max(t);
                }
                req => {
                    let at = match &req {
                        Req::Sleep(us) => t + us,
                        _ => t + half,
                    };
                    queue.insert((at, id), req);
                    waiting += 1;
                }
            }
        }
        let Some(((at, id), req)) = queue.pop_first() else {
            continue;
        };
        waiting -= 1;
        let reply = |r: Reply, t: u64| replies[id].send((t, r)).expect("host");
        match req {
            Req::Get(k) => reply(Reply::Get(store.get(&k).expect("mem")), at + half),
            Req::Range(p) => reply(Reply::Range(store.range(&p).expect("mem")), at + half),
            Req::Txn(t) => reply(Reply::Txn(store.txn(t).expect("mem")), at + half),
            Req::Sleep(_) => reply(Reply::Ok, at),
            Req::Lock => {
                if lock_holder.is_none() {
                    lock_holder = Some(id);
                    reply(Reply::Ok, at + half);
                } else {
                    lock_queue.push_back((id, at));
                }
            }
            Req::Unlock => {
                lock_holder = None;
                reply(Reply::Ok, at + half);
                if let Some((next, _)) = lock_queue.pop_front() {
                    lock_holder = Some(next);
                    // The waiter learns of the release one half trip later.
                    replies[next].send((at + RTT_US, Reply::Ok)).expect("host");
                }
            }
            Req::Done(_) | Req::Exit => unreachable!(),
        }
    }
    for t in threads {
        t.join().expect("host thread");
    }
    let sets = vec![set("10.0.0.0/18")];
    let records = check_invariants(&store, &keys(), &sets);
    assert_eq!(records.len(), hosts * per_host);
    latencies.sort_unstable();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    Outcome {
        adds: latencies.len(),
        failed_txns: store.txn_counts().1,
        makespan_us: end,
        p50_us: pct(50),
        p99_us: pct(99),
    }
}

#[test]
fn fifty_hosts_all_distinct_and_faster_than_a_global_lock() {
    let free = simulate(50, 4, false);
    let locked = simulate(50, 4, true);
    assert_eq!(free.adds, 200);
    assert!(
        free.makespan_us * 5 < locked.makespan_us,
        "lock-free {free:?} vs global lock {locked:?}"
    );
}

#[test]
#[ignore = "prints the README's simulation table (a minute of CPU)"]
fn curve() {
    println!("| hosts | ADDs | design | conflicts/ADD | ADDs/s | p50 ms | p99 ms |");
    println!("|---:|---:|---|---:|---:|---:|---:|");
    for hosts in [10, 100, 250, 500, 1000] {
        for (lock, name) in [(false, "etcd-ipam (CAS)"), (true, "global lock")] {
            let o = simulate(hosts, 4, lock);
            println!(
                "| {hosts} | {} | {name} | {:.3} | {:.0} | {:.1} | {:.1} |",
                o.adds,
                o.failed_txns as f64 / o.adds as f64,
                o.adds as f64 / (o.makespan_us as f64 / 1e6),
                o.p50_us as f64 / 1000.0,
                o.p99_us as f64 / 1000.0,
            );
        }
    }
}
