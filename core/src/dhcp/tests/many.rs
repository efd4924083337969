//! At scale: 1,000 clients against one simulated server on one clock, every
//! renewal sent exactly at its T1, none missed; for both families.

use super::{ms, options, secs, T0};
use crate::dhcp::Time;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const CLIENTS: u32 = 1000;
/// Simulated time: two hours.
const HOURS: u64 = 2;

/// What the load driver needs of a machine and its server.
trait Harness {
    type Lease: Clone;
    fn start(&mut self, i: usize, now: Time);
    fn on_timer(&mut self, i: usize, now: Time);
    fn next_timer(&self, i: usize) -> Option<Time>;
}

/// Runs every client's timers in time order until `end`.
fn drive<H: Harness>(h: &mut H, end: Time) {
    let mut timers = BinaryHeap::new();
    for i in 0..CLIENTS as usize {
        // Starts spread over the first 10 s, so the T1s all differ.
        let now = T0.after(ms(i as u64 * 10 + 1));
        h.start(i, now);
        timers.push(Reverse((h.next_timer(i).expect("timer"), i)));
    }
    while let Some(Reverse((t, i))) = timers.pop() {
        if t > end {
            break;
        }
        // A stale entry (the timer moved since it was queued) is skipped.
        if h.next_timer(i) != Some(t) {
            continue;
        }
        h.on_timer(i, t);
        if let Some(next) = h.next_timer(i) {
            timers.push(Reverse((next, i)));
        }
    }
}

/// One client's history.
struct Log<L> {
    leases: Vec<L>,
    /// When each renewal went out.
    renewals: Vec<Time>,
    other_events: Vec<String>,
}

impl<L> Default for Log<L> {
    fn default() -> Self {
        Log {
            leases: Vec::new(),
            renewals: Vec::new(),
            other_events: Vec::new(),
        }
    }
}

/// Every renewal went out exactly at the previous lease's T1 and was answered.
fn check<L>(logs: &[Log<L>], renew_at: impl Fn(&L) -> Time, acquired_at: impl Fn(&L) -> Time) {
    for (i, log) in logs.iter().enumerate() {
        assert!(
            log.other_events.is_empty(),
            "client {i}: {:?}",
            log.other_events
        );
        // Two hours of 300 s (v4) or 1800 s (v6) T1s, the last cut by the end.
        assert!(!log.renewals.is_empty(), "client {i}");
        assert_eq!(log.leases.len(), log.renewals.len() + 1, "client {i}");
        for (k, sent) in log.renewals.iter().enumerate() {
            let due = renew_at(&log.leases[k]);
            assert_eq!(*sent, due, "client {i} renewal {k}");
            assert_eq!(
                acquired_at(&log.leases[k + 1]),
                due,
                "client {i} renewal {k}"
            );
        }
    }
}

mod v4 {
    use super::super::v4_sim::Server;
    use super::*;
    use crate::dhcp::v4::{Action, Client, Lease};
    use std::net::Ipv4Addr;

    struct H {
        clients: Vec<Client>,
        logs: Vec<Log<Lease>>,
        server: Server,
    }

    impl H {
        fn exchange(&mut self, i: usize, now: Time, mut queue: Vec<Action>) {
            while let Some(action) = queue.pop() {
                let log = &mut self.logs[i];
                match action {
                    Action::Send { to, packet } => {
                        if packet[12..16] != [0, 0, 0, 0] {
                            log.renewals.push(now); // ciaddr set: renewing
                        }
                        if let Some(reply) = self.server.handle(now, to, &packet) {
                            queue.extend(self.clients[i].on_packet(now, &reply));
                        }
                    }
                    Action::Bound(l) | Action::Renewed(l) => log.leases.push(l),
                    other => log.other_events.push(format!("{other:?}")),
                }
            }
        }
    }

    impl Harness for H {
        type Lease = Lease;
        fn start(&mut self, i: usize, now: Time) {
            let actions = self.clients[i].start(now);
            self.exchange(i, now, actions);
        }
        fn on_timer(&mut self, i: usize, now: Time) {
            let actions = self.clients[i].on_timer(now);
            self.exchange(i, now, actions);
        }
        fn next_timer(&self, i: usize) -> Option<Time> {
            self.clients[i].next_timer()
        }
    }

    #[test]
    fn dhcp_v4_thousand_clients_all_renew_on_time() {
        let mut server = Server::new(Ipv4Addr::new(10, 0, 0, 1), "10.0.0.0/16");
        server.record = false;
        server.lease_time = 600;
        server.t1 = None; // the client's default, 300 s
        server.t2 = None;
        let mut h = H {
            clients: (0..CLIENTS).map(|n| Client::new(options(n))).collect(),
            logs: (0..CLIENTS).map(|_| Log::default()).collect(),
            server,
        };
        drive(&mut h, T0.after(secs(HOURS * 3600)));
        assert_eq!(h.server.bindings.len(), CLIENTS as usize);
        check(&h.logs, Lease::renew_at, |l| l.acquired_at);
        assert!(h.logs.iter().all(|l| l.renewals.len() >= 23));
    }
}

mod v6 {
    use super::super::v6_sim::Server;
    use super::*;
    use crate::dhcp::v6::{Action, Client, Lease};

    struct H {
        clients: Vec<Client>,
        logs: Vec<Log<Lease>>,
        server: Server,
    }

    impl H {
        fn exchange(&mut self, i: usize, now: Time, mut queue: Vec<Action>) {
            while let Some(action) = queue.pop() {
                let log = &mut self.logs[i];
                match action {
                    Action::Send { to, packet } => {
                        if packet[0] == 5 {
                            log.renewals.push(now); // RENEW
                        }
                        if let Some(reply) = self.server.handle(now, to, &packet) {
                            queue.extend(self.clients[i].on_packet(now, &reply));
                        }
                    }
                    Action::Bound(l) | Action::Renewed(l) => log.leases.push(l),
                    other => log.other_events.push(format!("{other:?}")),
                }
            }
        }
    }

    impl Harness for H {
        type Lease = Lease;
        fn start(&mut self, i: usize, now: Time) {
            let actions = self.clients[i].start(now);
            self.exchange(i, now, actions);
        }
        fn on_timer(&mut self, i: usize, now: Time) {
            let actions = self.clients[i].on_timer(now);
            self.exchange(i, now, actions);
        }
        fn next_timer(&self, i: usize) -> Option<Time> {
            self.clients[i].next_timer()
        }
    }

    #[test]
    fn dhcp_v6_thousand_clients_all_renew_on_time() {
        let mut server = Server::new(1);
        server.record = false;
        server.t1 = 300;
        server.t2 = 480;
        server.preferred = 600;
        server.valid = 900;
        let mut h = H {
            clients: (0..CLIENTS).map(|n| Client::new(options(n))).collect(),
            logs: (0..CLIENTS).map(|_| Log::default()).collect(),
            server,
        };
        drive(&mut h, T0.after(secs(HOURS * 3600)));
        assert_eq!(h.server.bindings.len(), CLIENTS as usize);
        check(&h.logs, Lease::renew_at, |l| l.acquired_at);
        assert!(h.logs.iter().all(|l| l.renewals.len() >= 23));
    }
}
