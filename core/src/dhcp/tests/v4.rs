//! DHCPv4: acquire, renew at T1, rebind at T2, expiry, NAK, release, option
//! 121, foreign and malformed packets.

use super::v4_sim::{Mode, Net, Sent, Server};
use super::{at, options, secs, T0};
use crate::dhcp::v4::{Action, Client, Destination, Lease, State};
use crate::dhcp::Time;
use dhcproto::v4::{DhcpOption, MessageType, OptionCode};
use dhcproto::Name;
use std::net::Ipv4Addr;
use std::str::FromStr;

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

fn bound(net: &mut Net) -> Lease {
    net.start();
    match net.events.last() {
        Some((_, Action::Bound(lease))) => lease.clone(),
        other => panic!("expected Bound, got {other:?}"),
    }
}

fn requested_ip(s: &Sent) -> Option<Ipv4Addr> {
    match s.opt(OptionCode::RequestedIpAddress) {
        Some(DhcpOption::RequestedIpAddress(ip)) => Some(*ip),
        _ => None,
    }
}

fn server_id(s: &Sent) -> Option<Ipv4Addr> {
    match s.opt(OptionCode::ServerIdentifier) {
        Some(DhcpOption::ServerIdentifier(ip)) => Some(*ip),
        _ => None,
    }
}

#[test]
fn dhcp_v4_acquire_discover_offer_request_ack() {
    let opts = options(1);
    let mut net = Net::one(opts.clone());
    net.server().extra.extend([
        DhcpOption::DomainName("example.org".into()),
        DhcpOption::DomainSearch(vec![
            Name::from_str("example.org.").expect("name"),
            Name::from_str("svc.example.org.").expect("name"),
        ]),
        DhcpOption::InterfaceMtu(1450),
        DhcpOption::StaticRoutingTable(vec![(
            Ipv4Addr::new(192, 168, 0, 0),
            Ipv4Addr::new(10, 0, 0, 2),
        )]),
    ]);
    let lease = bound(&mut net);

    assert_eq!(net.sent.len(), 2);
    let (discover, request) = (&net.sent[0], &net.sent[1]);
    for s in [discover, request] {
        assert_eq!(s.at, T0);
        assert_eq!(s.to, Destination::Broadcast);
        assert_eq!(s.msg.opcode(), dhcproto::v4::Opcode::BootRequest);
        assert!(s.msg.flags().broadcast());
        assert_eq!(s.msg.chaddr(), &opts.hwaddr[..]);
        assert_eq!(s.msg.ciaddr(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(
            s.opt(OptionCode::ClientIdentifier),
            Some(&DhcpOption::ClientIdentifier(opts.client_id.clone()))
        );
        let list: Vec<u8> = match s.opt(OptionCode::ParameterRequestList) {
            Some(DhcpOption::ParameterRequestList(l)) => l.iter().map(|c| u8::from(*c)).collect(),
            other => panic!("no parameter request list: {other:?}"),
        };
        assert_eq!(list, opts.request);
        assert_eq!(
            s.opt(OptionCode::MaxMessageSize),
            Some(&DhcpOption::MaxMessageSize(1500))
        );
        assert_eq!(
            s.opt(OptionCode::Hostname),
            Some(&DhcpOption::Hostname("pod-1".into()))
        );
    }
    assert_eq!(discover.kind(), MessageType::Discover);
    assert_eq!(requested_ip(discover), None);
    assert_eq!(server_id(discover), None);
    assert_eq!(request.kind(), MessageType::Request);
    assert_eq!(request.msg.xid(), discover.msg.xid());
    assert_eq!(requested_ip(request), Some(Ipv4Addr::new(10, 0, 0, 10)));
    assert_eq!(server_id(request), Some(SERVER));

    assert_eq!(
        lease,
        Lease {
            address: "10.0.0.10/16".parse().expect("net"),
            server_id: SERVER,
            routers: vec![SERVER],
            dns_servers: vec![Ipv4Addr::new(10, 0, 0, 53), Ipv4Addr::new(10, 0, 1, 53)],
            domain_name: Some("example.org".into()),
            domain_search: vec!["example.org".into(), "svc.example.org".into()],
            classless_routes: vec![],
            static_routes: vec![(Ipv4Addr::new(192, 168, 0, 0), Ipv4Addr::new(10, 0, 0, 2))],
            mtu: Some(1450),
            lease_time: secs(3600),
            t1: secs(1800),
            t2: secs(3150),
            acquired_at: T0,
        }
    );
    assert_eq!(net.client.state(), State::Bound);
    assert_eq!(net.client.lease(), Some(&lease));
    assert_eq!(net.client.next_timer(), Some(at(1800.0)));
    // A persisted lease reads back the same.
    let json = serde_json::to_string(&lease).expect("serialize");
    assert_eq!(
        serde_json::from_str::<Lease>(&json).expect("deserialize"),
        lease
    );
}

#[test]
fn dhcp_v4_default_t1_t2_and_classful_mask_without_option_1() {
    let mut net = Net::one(options(2));
    net.server().t1 = None;
    net.server().t2 = None;
    net.server().send_mask = false;
    net.server().echo_client_id = false;
    net.server().lease_time = 1000;
    let lease = bound(&mut net);
    assert_eq!(lease.address, "10.0.0.10/8".parse().expect("net"));
    assert_eq!((lease.t1, lease.t2), (secs(500), secs(875)));
    assert_eq!(lease.renew_at(), at(500.0));
    assert_eq!(lease.rebind_at(), at(875.0));
    assert_eq!(lease.expires_at(), at(1000.0));
}

#[test]
fn dhcp_v4_renews_at_t1_by_unicast_with_ciaddr() {
    let mut net = Net::one(options(3));
    let first = bound(&mut net);
    let xid_before = net.sent[1].msg.xid();

    let event = net.run_to_event(at(10_000.0)).expect("an event");
    let Action::Renewed(renewed) = &event.1 else {
        panic!("expected Renewed, got {event:?}");
    };
    let renew = &net.sent[2];
    assert_eq!(renew.at, first.renew_at());
    assert_eq!(renew.at, at(1800.0));
    assert_eq!(renew.to, Destination::Unicast(SERVER));
    assert_eq!(renew.kind(), MessageType::Request);
    assert_eq!(renew.msg.ciaddr(), first.address.addr());
    assert_eq!(requested_ip(renew), None);
    assert_eq!(server_id(renew), None);
    assert_ne!(renew.msg.xid(), xid_before);
    assert_eq!(renew.msg.secs(), 0);

    assert_eq!(renewed.acquired_at, at(1800.0));
    assert_eq!(renewed.address, first.address);
    assert_eq!(event.0, at(1800.0));
    assert_eq!(net.client.state(), State::Bound);
    assert_eq!(net.client.next_timer(), Some(at(3600.0)));

    // And again, every T1, for a day.
    net.run_until(at(86_400.0));
    let renews: Vec<Time> = net
        .sent
        .iter()
        .filter(|s| s.msg.ciaddr() != Ipv4Addr::UNSPECIFIED)
        .map(|s| s.at)
        .collect();
    let expected: Vec<Time> = (1..=48).map(|k| at(1800.0 * k as f64)).collect();
    assert_eq!(renews, expected);
    assert!(net
        .events
        .iter()
        .all(|(_, a)| matches!(a, Action::Bound(_) | Action::Renewed(_))));
}

#[test]
fn dhcp_v4_rebinds_at_t2_by_broadcast_when_the_server_is_silent() {
    let mut net = Net::one(options(4));
    bound(&mut net);
    net.server().mode = Mode::Silent;
    net.run_until(at(3149.999));
    // RENEWING: at T1, then half the time left to T2 each time, at least 60 s.
    let renewing: Vec<&Sent> = net.sent_since(at(1.0));
    let times: Vec<Time> = renewing.iter().map(|s| s.at).collect();
    assert_eq!(
        times,
        [1800.0, 2475.0, 2812.5, 2981.25, 3065.625, 3125.625].map(at)
    );
    let renew_xid = renewing[0].msg.xid();
    for s in &renewing {
        assert_eq!(s.to, Destination::Unicast(SERVER));
        assert_eq!(s.msg.xid(), renew_xid);
    }
    assert_eq!(renewing[1].msg.secs(), 675);
    assert_eq!(net.client.state(), State::Renewing);
    assert_eq!(net.client.next_timer(), Some(at(3150.0)));

    // REBINDING at T2 exactly: broadcast, ciaddr, no server id, new xid.
    net.server().mode = Mode::Normal;
    let event = net.run_to_event(at(3600.0)).expect("an event");
    let rebind = net.sent.last().expect("rebind sent");
    assert_eq!(rebind.at, at(3150.0));
    assert_eq!(rebind.to, Destination::Broadcast);
    assert_eq!(rebind.msg.ciaddr(), Ipv4Addr::new(10, 0, 0, 10));
    assert_eq!(server_id(rebind), None);
    assert_eq!(requested_ip(rebind), None);
    assert_ne!(rebind.msg.xid(), renew_xid);
    let Action::Renewed(lease) = event.1 else {
        panic!("expected Renewed, got {event:?}");
    };
    assert_eq!(lease.acquired_at, at(3150.0));
    assert_eq!(net.client.state(), State::Bound);
}

#[test]
fn dhcp_v4_lease_expires_exactly_and_starts_over() {
    let mut net = Net::one(options(5));
    let lease = bound(&mut net);
    net.server().mode = Mode::Silent;
    let event = net.run_to_event(at(100_000.0)).expect("an event");
    assert_eq!(event.0, lease.expires_at());
    assert_eq!(event.0, at(3600.0));
    assert!(matches!(&event.1, Action::Lost { reason } if reason.contains("expired")));
    // REBINDING retransmissions: half the time left, at least 60 s, capped by expiry.
    let rebinding: Vec<Time> = net
        .sent_since(at(3150.0))
        .iter()
        .filter(|s| s.msg.ciaddr() != Ipv4Addr::UNSPECIFIED)
        .map(|s| s.at)
        .collect();
    assert_eq!(rebinding, [3150.0, 3375.0, 3487.5, 3547.5].map(at));
    // Starts over at once, asking for the old address.
    let discover = net.sent.last().expect("discover");
    assert_eq!(discover.at, at(3600.0));
    assert_eq!(discover.kind(), MessageType::Discover);
    assert_eq!(requested_ip(discover), Some(lease.address.addr()));
    assert_eq!(net.client.state(), State::Selecting);
    assert_eq!(net.client.lease(), None);
    // No acquire deadline after a loss: it keeps trying, at most resend_max (+1 s) apart.
    net.run_until(at(3600.0 + 1800.0));
    assert_eq!(net.events.len(), 2);
    let discovers: Vec<Time> = net.sent_since(at(3600.0)).iter().map(|s| s.at).collect();
    assert!(discovers.len() > 25, "{}", discovers.len());
    for w in discovers.windows(2) {
        assert!(w[1].since(w[0]) <= secs(63), "{:?}", w[1].since(w[0]));
    }
    // The server comes back: a new lease, reported as Bound, with the old address.
    net.server().mode = Mode::Normal;
    let event = net.run_to_event(at(10_000.0)).expect("an event");
    let Action::Bound(again) = event.1 else {
        panic!("expected Bound, got {event:?}");
    };
    assert_eq!(again.address, lease.address);
}

#[test]
fn dhcp_v4_retransmits_discover_with_backoff_then_gives_up() {
    let mut opts = options(6);
    opts.acquire_timeout = secs(200);
    let mut net = Net::one(opts);
    net.server().mode = Mode::Silent;
    net.start();
    let event = net.run_to_event(at(1000.0)).expect("an event");
    assert_eq!(event.0, at(200.0));
    assert!(matches!(&event.1, Action::GaveUp { reason } if reason.contains("DHCPOFFER")));
    assert_eq!(net.client.state(), State::Failed);
    assert_eq!(net.client.next_timer(), None);
    let times: Vec<Time> = net.sent.iter().map(|s| s.at).collect();
    let gaps: Vec<_> = times.windows(2).map(|w| w[1].since(w[0])).collect();
    for (gap, base) in gaps.iter().zip([4, 8, 16, 32, 62, 62]) {
        assert!(
            *gap >= secs(base - 1) && *gap <= secs(base + 1),
            "{gap:?} vs {base}"
        );
    }
    let xid = net.sent[0].msg.xid();
    assert!(net.sent.iter().all(|s| s.msg.xid() == xid));
    let secs_field: Vec<u16> = net.sent.iter().map(|s| s.msg.secs()).collect();
    assert_eq!(secs_field[0], 0);
    assert!(secs_field.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn dhcp_v4_gives_up_after_the_default_acquire_timeout() {
    let mut net = Net::one(options(7));
    net.server().mode = Mode::Silent;
    net.start();
    let event = net.run_to_event(at(100.0)).expect("an event");
    assert_eq!(event.0, at(10.0));
    assert!(matches!(event.1, Action::GaveUp { .. }));
    // Failed machines ignore everything, and may be started again.
    assert!(net.client.on_timer(at(500.0)).is_empty());
    net.server().mode = Mode::Normal;
    net.now = at(500.0);
    net.start();
    assert!(matches!(net.events.last(), Some((_, Action::Bound(_)))));
}

#[test]
fn dhcp_v4_nak_while_requesting_starts_over_then_gives_up() {
    let mut net = Net::one(options(8));
    net.server().mode = Mode::Nak;
    net.start();
    // The first NAK starts over at once: DISCOVER, OFFER, REQUEST, NAK again.
    let kinds: Vec<MessageType> = net.sent.iter().map(Sent::kind).collect();
    use MessageType::{Discover, Request};
    assert_eq!(kinds, [Discover, Request, Discover, Request]);
    assert!(net.sent.iter().all(|s| s.at == T0));
    assert_ne!(net.sent[0].msg.xid(), net.sent[2].msg.xid());
    // After the second NAK it waits in INIT.
    assert_eq!(net.client.state(), State::Init);
    let wait = net.client.next_timer().expect("timer").since(T0);
    assert!(wait >= secs(3) && wait <= secs(5), "{wait:?}");
    let event = net.run_to_event(at(100.0)).expect("an event");
    assert_eq!(event.0, at(10.0));
    let Action::GaveUp { reason } = &event.1 else {
        panic!("expected GaveUp, got {event:?}");
    };
    assert!(reason.contains("DHCPNAK"), "{reason}");
    assert!(reason.contains("address not available"), "{reason}");
    assert_eq!(net.client.state(), State::Failed);
}

#[test]
fn dhcp_v4_nak_while_renewing_is_lost_and_starts_over() {
    let mut net = Net::one(options(9));
    let lease = bound(&mut net);
    net.server().mode = Mode::Nak;
    let event = net.run_to_event(at(10_000.0)).expect("an event");
    assert_eq!(event.0, lease.renew_at());
    let Action::Lost { reason } = &event.1 else {
        panic!("expected Lost, got {event:?}");
    };
    assert!(
        reason.contains("DHCPNAK") && reason.contains("renewing"),
        "{reason}"
    );
    // Starts over at once, without asking for the refused address; the server
    // (still NAKing) refuses twice more and the client waits in INIT.
    let after = net.sent_since(lease.renew_at());
    let kinds: Vec<MessageType> = after.iter().map(|s| s.kind()).collect();
    use MessageType::{Discover, Request};
    assert_eq!(kinds, [Request, Discover, Request, Discover, Request]);
    assert_eq!(after[1].at, lease.renew_at());
    assert_eq!(requested_ip(after[1]), None);
    assert_eq!(net.client.lease(), None);
    assert_eq!(net.client.state(), State::Init);
    // No acquire deadline after a loss: once the server relents, Bound again.
    net.server().mode = Mode::Normal;
    let event = net.run_to_event(at(10_000.0)).expect("an event");
    assert!(matches!(event.1, Action::Bound(_)), "{event:?}");
}

#[test]
fn dhcp_v4_nak_while_rebinding_is_lost() {
    let mut net = Net::one(options(10));
    bound(&mut net);
    net.server().mode = Mode::Silent;
    net.run_until(at(3149.0));
    net.server().mode = Mode::Nak;
    let event = net.run_to_event(at(10_000.0)).expect("an event");
    assert_eq!(event.0, at(3150.0));
    assert!(matches!(&event.1, Action::Lost { reason } if reason.contains("rebinding")));
}

#[test]
fn dhcp_v4_release_unicasts_to_the_server_and_stops() {
    let mut net = Net::one(options(11));
    let lease = bound(&mut net);
    net.now = at(100.0);
    let actions = net.client.release(net.now);
    net.apply(actions);
    let release = net.sent.last().expect("release");
    assert_eq!(release.kind(), MessageType::Release);
    assert_eq!(release.to, Destination::Unicast(SERVER));
    assert_eq!(release.msg.ciaddr(), lease.address.addr());
    assert_eq!(server_id(release), Some(SERVER));
    assert!(release.opt(OptionCode::ClientIdentifier).is_some());
    assert!(release.opt(OptionCode::ParameterRequestList).is_none());
    assert!(!release.msg.flags().broadcast());
    assert_eq!(
        net.server().released,
        vec![(at(100.0), lease.address.addr())]
    );
    assert!(net.server().bindings.is_empty());
    assert_eq!(net.client.state(), State::Released);
    assert_eq!(net.client.next_timer(), None);
    assert_eq!(net.client.lease(), None);
    let sent = net.sent.len();
    net.run_until(at(100_000.0));
    assert_eq!(net.sent.len(), sent);
    // Releasing again, or without a lease, sends nothing.
    assert!(net.client.release(net.now).is_empty());
    let mut idle = Client::new(options(12));
    assert!(idle.release(T0).is_empty());
    assert_eq!(idle.state(), State::Released);
}

#[test]
fn dhcp_v4_option_121_routes_and_rfc3442_precedence() {
    let mut net = Net::one(options(13));
    net.server()
        .extra
        .push(DhcpOption::ClasslessStaticRoute(vec![
            (
                "0.0.0.0/0".parse().expect("net"),
                Ipv4Addr::new(10, 0, 0, 254),
            ),
            (
                "192.168.7.7/32".parse().expect("net"),
                Ipv4Addr::new(10, 0, 0, 2),
            ),
            ("172.16.0.0/12".parse().expect("net"), Ipv4Addr::UNSPECIFIED),
        ]));
    let lease = bound(&mut net);
    assert_eq!(
        lease.classless_routes,
        vec![
            (
                "0.0.0.0/0".parse().expect("net"),
                Ipv4Addr::new(10, 0, 0, 254)
            ),
            (
                "192.168.7.7/32".parse().expect("net"),
                Ipv4Addr::new(10, 0, 0, 2)
            ),
            ("172.16.0.0/12".parse().expect("net"), Ipv4Addr::UNSPECIFIED),
        ]
    );
    // Option 3 is still reported, but RFC 3442 says not to use it.
    assert_eq!(lease.routers, vec![SERVER]);
    assert!(lease.gateways().is_empty());
}

#[test]
fn dhcp_v4_malformed_option_121_is_dropped_not_the_lease() {
    for bad in [
        vec![33, 10, 0, 0, 0, 1, 2, 3, 4],
        vec![24, 10, 0],
        vec![0, 10, 0, 0],
    ] {
        let mut net = Net::one(options(14));
        net.server().raw.push((121, bad.clone()));
        let lease = bound(&mut net);
        assert!(lease.classless_routes.is_empty(), "{bad:?}");
        assert_eq!(lease.routers, vec![SERVER]);
        assert_eq!(lease.gateways(), &[SERVER]);
        assert_eq!(lease.dns_servers.len(), 2);
    }
}

#[test]
fn dhcp_v4_first_offer_wins() {
    let second = Ipv4Addr::new(10, 1, 0, 1);
    let mut net = Net::new(
        options(15),
        vec![
            Server::new(SERVER, "10.0.0.0/16"),
            Server::new(second, "10.1.0.0/16"),
        ],
    );
    let lease = bound(&mut net);
    assert_eq!(lease.server_id, SERVER);
    assert_eq!(server_id(&net.sent[1]), Some(SERVER));
    // The other server saw the REQUEST naming the first and stayed quiet.
    assert!(net.servers[1].bindings.is_empty());
    assert_eq!(net.servers[1].received.len(), 2);
}

#[test]
fn dhcp_v4_foreign_and_malformed_packets_are_ignored() {
    let opts = options(16);
    let mut net = Net::one(opts.clone());
    net.server().mode = Mode::Silent;
    net.start();
    let discover = net.sent[0].msg.clone();
    let timer = net.client.next_timer();

    // A genuine OFFER for this DISCOVER, built by a server that answers.
    let mut answering = Server::new(SERVER, "10.0.0.0/16");
    let packet = dhcproto::Encodable::to_vec(&discover).expect("encode");
    let offer = answering
        .handle(net.now, Destination::Broadcast, &packet)
        .expect("offer");

    let mut variants: Vec<Vec<u8>> = Vec::new();
    let mut wrong_xid = offer.clone();
    wrong_xid[4] ^= 0xff;
    variants.push(wrong_xid);
    let mut wrong_chaddr = offer.clone();
    wrong_chaddr[33] ^= 0xff;
    variants.push(wrong_chaddr);
    let mut request_op = offer.clone();
    request_op[0] = 1;
    variants.push(request_op);
    let mut no_cookie = offer.clone();
    no_cookie[236] = 0;
    variants.push(no_cookie);
    variants.push(offer[..239].to_vec());
    variants.push(offer[..242].to_vec()); // an option cut short
    variants.push(Vec::new());
    // Another client's identifier echoed back.
    let mut other = Server::new(SERVER, "10.0.0.0/16");
    let mut foreign = discover.clone();
    foreign
        .opts_mut()
        .insert(DhcpOption::ClientIdentifier(b"\0someone-else".to_vec()));
    let foreign = dhcproto::Encodable::to_vec(&foreign).expect("encode");
    variants.push(
        other
            .handle(net.now, Destination::Broadcast, &foreign)
            .expect("offer"),
    );
    // An ACK where an OFFER is expected.
    let mut ack = offer.clone();
    let pos = ack[240..]
        .windows(3)
        .position(|w| w == [53, 1, 2])
        .expect("type option");
    ack[240 + pos + 2] = 5;
    variants.push(ack);

    for v in &variants {
        assert!(net.deliver(v).is_empty(), "{v:?}");
        assert_eq!(net.client.state(), State::Selecting);
        assert_eq!(net.client.next_timer(), timer);
    }
    // The genuine one is taken.
    let actions = net.deliver(&offer);
    assert!(matches!(actions.as_slice(), [Action::Send { .. }]));
    assert_eq!(net.client.state(), State::Requesting);
    assert_eq!(opts.hwaddr, net.sent[0].msg.chaddr()[..6]);
}

#[test]
fn dhcp_v4_client_id_and_chaddr_are_stable_across_machines() {
    let mut a = options(17);
    let mut b = options(17);
    a.seed = 1;
    b.seed = 2;
    let mut na = Net::one(a);
    let mut nb = Net::one(b);
    let la = bound(&mut na);
    let lb = bound(&mut nb);
    let (da, db) = (&na.sent[0], &nb.sent[0]);
    assert_eq!(
        da.opt(OptionCode::ClientIdentifier),
        db.opt(OptionCode::ClientIdentifier)
    );
    assert_eq!(da.msg.chaddr(), db.msg.chaddr());
    // Different seeds, different transaction ids.
    assert_ne!(da.msg.xid(), db.msg.xid());
    // The same server gives both the same address: it is the same client.
    let mut server = Server::new(SERVER, "10.0.0.0/16");
    for n in [&na, &nb] {
        for s in &n.sent {
            let p = dhcproto::Encodable::to_vec(&s.msg).expect("encode");
            server.handle(s.at, s.to, &p);
        }
    }
    assert_eq!(server.bindings.len(), 1);
    assert_eq!(la.address, lb.address);
}

#[test]
fn dhcp_v4_broadcast_flag_follows_the_options() {
    let mut opts = options(18);
    opts.broadcast = false;
    let mut net = Net::one(opts);
    bound(&mut net);
    assert!(net.sent.iter().all(|s| !s.msg.flags().broadcast()));
}

#[test]
fn dhcp_v4_early_timer_calls_do_nothing() {
    let mut net = Net::one(options(19));
    bound(&mut net);
    assert!(net.client.on_timer(at(1799.999)).is_empty());
    assert_eq!(net.client.state(), State::Bound);
    // A late call jumps straight to the state the clock says.
    let actions = net.client.on_timer(at(3200.0));
    assert_eq!(net.client.state(), State::Rebinding);
    assert!(matches!(
        actions.as_slice(),
        [Action::Send {
            to: Destination::Broadcast,
            ..
        }]
    ));
}
