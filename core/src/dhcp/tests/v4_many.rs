//! DHCPv4 at scale: 1,000 clients against one simulated server on one clock,
//! every renewal sent exactly at its T1.

use super::v4_sim::Server;
use super::{ms, options, secs, T0};
use crate::dhcp::v4::{Action, Client, Lease};
use crate::dhcp::Time;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::Ipv4Addr;

const CLIENTS: u32 = 1000;

#[derive(Default)]
struct Log {
    /// Every lease the client was given (Bound, then each Renewed).
    leases: Vec<Lease>,
    /// When each renewal REQUEST (ciaddr set) went out.
    renewals: Vec<Time>,
    other_events: Vec<Action>,
}

#[test]
fn dhcp_v4_thousand_clients_all_renew_on_time() {
    let mut server = Server::new(Ipv4Addr::new(10, 0, 0, 1), "10.0.0.0/16");
    server.record = false;
    server.lease_time = 600;
    server.t1 = None; // the client's default, 300 s
    server.t2 = None;

    let mut clients: Vec<Client> = (0..CLIENTS).map(|n| Client::new(options(n))).collect();
    let mut logs: Vec<Log> = (0..CLIENTS).map(|_| Log::default()).collect();
    let mut timers = BinaryHeap::new();
    // Starts spread over the first 10 s, so T1s are all different.
    for (i, client) in clients.iter_mut().enumerate() {
        let now = T0.after(ms(i as u64 * 10 + 1));
        let actions = client.start(now);
        exchange(now, client, &mut server, &mut logs[i], actions);
        timers.push(Reverse((client.next_timer().expect("timer"), i)));
    }

    let end = T0.after(secs(2 * 3600));
    while let Some(Reverse((t, i))) = timers.pop() {
        if t > end {
            break;
        }
        // Stale entries (the timer moved since it was queued) are skipped.
        if clients[i].next_timer() != Some(t) {
            continue;
        }
        let actions = clients[i].on_timer(t);
        exchange(t, &mut clients[i], &mut server, &mut logs[i], actions);
        if let Some(next) = clients[i].next_timer() {
            timers.push(Reverse((next, i)));
        }
    }

    assert_eq!(server.bindings.len(), CLIENTS as usize);
    for (i, log) in logs.iter().enumerate() {
        assert!(
            log.other_events.is_empty(),
            "client {i}: {:?}",
            log.other_events
        );
        // Two hours of 300 s T1s: 24 renewals (the last within the final T1).
        assert!(
            log.renewals.len() >= 23,
            "client {i}: {}",
            log.renewals.len()
        );
        assert_eq!(log.leases.len(), log.renewals.len() + 1, "client {i}");
        for (k, sent) in log.renewals.iter().enumerate() {
            let due = log.leases[k].renew_at();
            assert_eq!(*sent, due, "client {i} renewal {k}");
            assert_eq!(log.leases[k + 1].acquired_at, due);
        }
    }
}

/// Delivers a client's sends to the server and the replies back, at `now`.
fn exchange(
    now: Time,
    client: &mut Client,
    server: &mut Server,
    log: &mut Log,
    actions: Vec<Action>,
) {
    let mut queue = actions;
    while let Some(action) = queue.pop() {
        match action {
            Action::Send { to, packet } => {
                if packet[12..16] != [0, 0, 0, 0] {
                    log.renewals.push(now);
                }
                if let Some(reply) = server.handle(now, to, &packet) {
                    queue.extend(client.on_packet(now, &reply));
                }
            }
            Action::Bound(lease) | Action::Renewed(lease) => log.leases.push(lease),
            other => log.other_events.push(other),
        }
    }
}
