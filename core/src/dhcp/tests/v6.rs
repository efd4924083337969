//! DHCPv6: acquire, renew at T1, rebind at T2, expiry, status codes, release,
//! foreign and malformed messages.

use super::v6_sim::{Mode, Net, Sent, Server};
use super::{at, options, secs, T0};
use crate::dhcp::v6::{Action, Client, Destination, Lease, State};
use crate::dhcp::Time;
use dhcproto::v6::{DhcpOption, MessageType, OptionCode, ORO};
use std::net::Ipv6Addr;

fn addr(s: &str) -> Ipv6Addr {
    s.parse().expect("test address")
}

fn within(t: Time, from: f64, to: f64) -> bool {
    t >= at(from) && t <= at(to)
}

#[test]
fn dhcp_v6_acquire_solicit_advertise_request_reply() {
    let opts = options(1);
    let mut net = Net::one(opts);
    let lease = net.bound();
    let duid = net.client.duid().to_vec();
    let iaid = net.client.iaid();

    assert_eq!(net.sent.len(), 2);
    let (solicit, request) = (&net.sent[0], &net.sent[1]);
    assert_eq!(solicit.kind(), MessageType::Solicit);
    assert_eq!(solicit.at, T0);
    assert_eq!(solicit.to, Destination::AllServers);
    assert_eq!(solicit.server_id(), None);
    assert_eq!(solicit.ia().id, iaid);
    assert_eq!((solicit.ia().t1, solicit.ia().t2), (0, 0));
    assert_eq!(solicit.ia_addr(), None);
    for s in [solicit, request] {
        assert_eq!(
            s.opt(OptionCode::ClientId),
            Some(&DhcpOption::ClientId(duid.clone()))
        );
        assert_eq!(s.elapsed(), 0);
        assert_eq!(
            s.opt(OptionCode::ORO),
            Some(&DhcpOption::ORO(ORO {
                opts: vec![OptionCode::DomainNameServers, OptionCode::DomainSearchList]
            }))
        );
    }
    // ADVERTISEs are collected for the first RT (1 s, +0..10 %), then the REQUEST.
    assert!(within(request.at, 1.001, 1.1), "{:?}", request.at.since(T0));
    assert_eq!(request.kind(), MessageType::Request);
    assert_eq!(request.to, Destination::AllServers);
    assert_eq!(request.server_id(), Some(&net.servers[0].duid[..]));
    assert_eq!(request.ia_addr(), Some(addr("fd00:1::100")));
    assert_ne!(request.msg.xid(), solicit.msg.xid());

    assert_eq!(
        lease,
        Lease {
            address: addr("fd00:1::100"),
            iaid,
            server_id: net.servers[0].duid.clone(),
            server_addr: None,
            dns_servers: vec![addr("fd00::53")],
            domain_search: vec!["example.org".into(), "svc.example.org".into()],
            preferred: secs(3600),
            valid: secs(7200),
            t1: secs(1800),
            t2: secs(2880),
            acquired_at: request.at,
        }
    );
    assert_eq!(net.client.state(), State::Bound);
    assert_eq!(net.client.next_timer(), Some(request.at.after(secs(1800))));
    let json = serde_json::to_string(&lease).expect("serialize");
    assert_eq!(
        serde_json::from_str::<Lease>(&json).expect("deserialize"),
        lease
    );
}

#[test]
fn dhcp_v6_preference_255_is_taken_at_once() {
    let mut net = Net::one(options(2));
    net.server().preference = Some(255);
    let lease = net.bound();
    assert_eq!(net.sent[1].kind(), MessageType::Request);
    assert_eq!(net.sent[1].at, T0);
    assert_eq!(lease.acquired_at, T0);
}

#[test]
fn dhcp_v6_highest_preference_wins() {
    let mut low = Server::new(1);
    low.preference = Some(10);
    let mut high = Server::new(2);
    high.preference = Some(200);
    let mut net = Net::new(options(3), vec![low, high]);
    let lease = net.bound();
    assert_eq!(lease.server_id, net.servers[1].duid);
    assert_eq!(lease.address, addr("fd00:2::100"));
    assert!(net.servers[0].bindings.is_empty());
}

#[test]
fn dhcp_v6_advertise_after_the_first_rt_is_taken_at_once() {
    let mut net = Net::one(options(4));
    net.server().mode = Mode::Silent;
    net.start();
    net.run_until(at(1.2));
    assert_eq!(net.sent.len(), 2); // SOLICIT, one retransmission
    net.server().mode = Mode::Normal;
    let event = net.run_to_event(at(60.0)).expect("an event");
    assert!(matches!(event.1, Action::Bound(_)));
    let request = &net.sent[3];
    assert_eq!(request.kind(), MessageType::Request);
    assert_eq!(request.at, net.sent[2].at);
    // Elapsed Time counts from the exchange's first SOLICIT, in 1/100 s.
    let centis = net.sent[2].at.since(T0).as_millis() / 10;
    assert_eq!(u128::from(net.sent[2].elapsed()), centis);
}

#[test]
fn dhcp_v6_renews_at_t1_by_unicast_when_the_server_allows_it() {
    let mut net = Net::one(options(5));
    net.server().unicast = true;
    let lease = net.bound();
    assert_eq!(lease.server_addr, Some(addr("fe80::1")));
    let event = net.run_to_event(at(100_000.0)).expect("an event");
    let Action::Renewed(renewed) = &event.1 else {
        panic!("expected Renewed, got {event:?}");
    };
    let renew = net.sent.last().expect("renew");
    assert_eq!(renew.kind(), MessageType::Renew);
    assert_eq!(renew.at, lease.renew_at());
    assert_eq!(renew.to, Destination::Unicast(addr("fe80::1")));
    assert_eq!(renew.server_id(), Some(&lease.server_id[..]));
    assert_eq!(renew.ia_addr(), Some(lease.address));
    assert_eq!(renew.ia().id, lease.iaid);
    assert_eq!(renew.elapsed(), 0);
    assert_eq!(renewed.acquired_at, lease.renew_at());
    assert_eq!(renewed.address, lease.address);
    assert_eq!(net.client.state(), State::Bound);
}

#[test]
fn dhcp_v6_renews_by_multicast_without_the_unicast_option() {
    let mut net = Net::one(options(6));
    let lease = net.bound();
    net.run_to_event(at(100_000.0)).expect("an event");
    let renew = net.sent.last().expect("renew");
    assert_eq!(renew.at, lease.renew_at());
    assert_eq!(renew.to, Destination::AllServers);
    assert_eq!(renew.server_id(), Some(&lease.server_id[..]));
}

#[test]
fn dhcp_v6_zero_t1_t2_are_half_and_four_fifths_of_preferred() {
    let mut net = Net::one(options(7));
    net.server().t1 = 0;
    net.server().t2 = 0;
    net.server().preferred = 1000;
    let lease = net.bound();
    assert_eq!((lease.t1, lease.t2), (secs(500), secs(800)));
    net.run_to_event(at(100_000.0)).expect("an event");
    assert_eq!(
        net.sent.last().expect("renew").at,
        lease.acquired_at.after(secs(500))
    );
}

#[test]
fn dhcp_v6_rebinds_at_t2_by_multicast_and_any_server_may_answer() {
    let mut a = Server::new(1);
    a.preference = Some(255);
    let mut b = Server::new(2);
    b.mode = Mode::Silent;
    let mut net = Net::new(options(8), vec![a, b]);
    let lease = net.bound();
    // A goes silent; B learns the binding (a failover partner).
    net.servers[0].mode = Mode::Silent;
    let bindings = net.servers[0].bindings.clone();
    net.servers[1].bindings = bindings;
    net.servers[1].mode = Mode::Normal;

    let event = net.run_to_event(at(100_000.0)).expect("an event");
    let renews: Vec<&Sent> = net
        .sent
        .iter()
        .filter(|s| s.kind() == MessageType::Renew)
        .collect();
    // RENEW at T1, then RT 10 s, 20 s, 40 s, then the 62 s cap (each ±10 %), until T2.
    assert_eq!(renews[0].at, lease.renew_at());
    let gaps: Vec<f64> = renews
        .windows(2)
        .map(|w| w[1].at.since(w[0].at).as_secs_f64())
        .collect();
    for (gap, base) in gaps.iter().zip([10.0, 20.0, 40.0, 62.0, 62.0]) {
        assert!((gap - base).abs() <= 0.1 * base + 4.0 + 0.001, "{gaps:?}");
    }
    assert!(
        gaps.iter().skip(4).all(|g| *g <= 62.0 * 1.1 + 0.001),
        "{gaps:?}"
    );
    assert!(renews.iter().all(|r| r.msg.xid() == renews[0].msg.xid()));
    let rebind = net.sent.last().expect("rebind");
    assert_eq!(rebind.kind(), MessageType::Rebind);
    assert_eq!(rebind.at, lease.rebind_at());
    assert_eq!(rebind.to, Destination::AllServers);
    assert_eq!(rebind.server_id(), None);
    assert_eq!(rebind.ia_addr(), Some(lease.address));
    let Action::Renewed(renewed) = event.1 else {
        panic!("expected Renewed, got {event:?}");
    };
    assert_eq!(event.0, lease.rebind_at());
    assert_eq!(renewed.server_id, net.servers[1].duid);
    assert_eq!(renewed.address, lease.address);
}

#[test]
fn dhcp_v6_lease_expires_exactly_and_starts_over_with_a_hint() {
    let mut net = Net::one(options(9));
    let lease = net.bound();
    net.server().mode = Mode::Silent;
    let event = net.run_to_event(at(100_000.0)).expect("an event");
    assert_eq!(event.0, lease.expires_at());
    assert!(matches!(&event.1, Action::Lost { reason } if reason.contains("valid lifetime")));
    let rebinds: Vec<&Sent> = net
        .sent
        .iter()
        .filter(|s| s.kind() == MessageType::Rebind)
        .collect();
    assert_eq!(rebinds[0].at, lease.rebind_at());
    assert!(rebinds.iter().all(|r| r.at < lease.expires_at()));
    let solicit = net.sent.last().expect("solicit");
    assert_eq!(solicit.kind(), MessageType::Solicit);
    assert_eq!(solicit.at, lease.expires_at());
    assert_eq!(solicit.ia_addr(), Some(lease.address));
    assert_eq!(net.client.state(), State::Soliciting);
    assert_eq!(net.client.lease(), None);
    // No deadline after a loss; when the server is back, the same address.
    net.run_until(lease.expires_at().after(secs(600)));
    assert_eq!(net.events.len(), 2);
    net.server().mode = Mode::Normal;
    let event = net.run_to_event(at(100_000.0)).expect("an event");
    let Action::Bound(again) = event.1 else {
        panic!("expected Bound, got {event:?}");
    };
    assert_eq!(again.address, lease.address);
}

#[test]
fn dhcp_v6_no_binding_in_renew_is_lost_and_starts_over() {
    let mut net = Net::one(options(10));
    let lease = net.bound();
    net.server().mode = Mode::NoBinding;
    let event = net.run_to_event(at(100_000.0)).expect("an event");
    assert_eq!(event.0, lease.renew_at());
    assert!(matches!(&event.1, Action::Lost { reason } if reason.contains("NoBinding")));
    let solicit = net.sent.last().expect("solicit");
    assert_eq!(solicit.kind(), MessageType::Solicit);
    assert_eq!(solicit.ia_addr(), Some(lease.address));
}

#[test]
fn dhcp_v6_withdrawn_address_is_lost() {
    let mut net = Net::one(options(11));
    let lease = net.bound();
    net.server().mode = Mode::Withdraw;
    let event = net.run_to_event(at(100_000.0)).expect("an event");
    assert_eq!(event.0, lease.renew_at());
    assert!(matches!(&event.1, Action::Lost { reason } if reason.contains("withdrew")));
    assert_eq!(net.sent.last().expect("solicit").ia_addr(), None);
}

#[test]
fn dhcp_v6_no_addrs_avail_advertise_is_ignored_then_gives_up() {
    let mut net = Net::one(options(12));
    net.server().mode = Mode::NoAddrs;
    net.start();
    let event = net.run_to_event(at(100.0)).expect("an event");
    assert_eq!(event.0, at(10.0));
    assert!(matches!(&event.1, Action::GaveUp { reason } if reason.contains("ADVERTISE")));
    assert_eq!(net.client.state(), State::Failed);
    assert_eq!(net.client.next_timer(), None);
    assert!(net.sent.iter().all(|s| s.kind() == MessageType::Solicit));
    // SOLICIT retransmissions: RT 1 s (+0..10 %), then doubling ±10 %.
    let times: Vec<Time> = net.sent.iter().map(|s| s.at).collect();
    assert!(within(times[1], 1.001, 1.1));
    for w in times.windows(3) {
        let (prev, next) = (
            w[1].since(w[0]).as_secs_f64(),
            w[2].since(w[1]).as_secs_f64(),
        );
        assert!(
            next >= 1.9 * prev - 0.002 && next <= 2.1 * prev + 0.002,
            "{prev} {next}"
        );
    }
}

#[test]
fn dhcp_v6_refused_request_starts_over_then_gives_up() {
    let mut net = Net::one(options(13));
    net.server().mode = Mode::RefuseRequests;
    net.server().preference = Some(255);
    net.start();
    use MessageType::{Request, Solicit};
    let kinds: Vec<MessageType> = net.sent.iter().map(Sent::kind).collect();
    assert_eq!(kinds, [Solicit, Request, Solicit, Request]);
    assert_eq!(net.client.state(), State::Init);
    let event = net.run_to_event(at(100.0)).expect("an event");
    assert_eq!(event.0, at(10.0));
    assert!(matches!(&event.1, Action::GaveUp { reason } if reason.contains("NoAddrsAvail")));
}

#[test]
fn dhcp_v6_request_retransmits_ten_times_then_solicits_again() {
    let mut opts = options(14);
    opts.acquire_timeout = secs(0); // never give up
    let mut net = Net::one(opts);
    net.server().mode = Mode::IgnoreRequests;
    net.server().preference = Some(255);
    net.start();
    net.run_until(at(600.0));
    let kinds: Vec<MessageType> = net.sent.iter().map(Sent::kind).collect();
    assert_eq!(kinds[0], MessageType::Solicit);
    assert!(
        kinds[1..11].iter().all(|k| *k == MessageType::Request),
        "{kinds:?}"
    );
    assert_eq!(kinds[11], MessageType::Solicit);
    // REQUEST's RT is capped at REQ_MAX_RT, 30 s (±10 %).
    let gaps: Vec<f64> = net.sent[1..11]
        .windows(2)
        .map(|w| w[1].at.since(w[0].at).as_secs_f64())
        .collect();
    assert!(gaps.iter().all(|g| *g <= 33.0), "{gaps:?}");
    assert!(gaps.iter().rev().take(3).all(|g| *g >= 27.0), "{gaps:?}");
    assert!(net.events.is_empty());
}

#[test]
fn dhcp_v6_use_multicast_resends_by_multicast_at_once() {
    let mut net = Net::one(options(15));
    net.server().unicast = true;
    let lease = net.bound();
    net.server().mode = Mode::UseMulticast;
    let event = net.run_to_event(at(100_000.0)).expect("an event");
    assert!(matches!(event.1, Action::Renewed(_)), "{event:?}");
    let renews: Vec<&Sent> = net.sent_since(lease.renew_at());
    assert_eq!(renews.len(), 2);
    assert_eq!(renews[0].to, Destination::Unicast(addr("fe80::1")));
    assert_eq!(renews[1].to, Destination::AllServers);
    assert_eq!(renews[1].at, lease.renew_at());
    assert_eq!(renews[1].msg.xid(), renews[0].msg.xid());
}

#[test]
fn dhcp_v6_release_until_reply() {
    let mut net = Net::one(options(16));
    net.server().unicast = true;
    let lease = net.bound();
    net.now = at(100.0);
    let actions = net.client.release(net.now);
    net.apply(actions);
    let release = net.sent.last().expect("release");
    assert_eq!(release.kind(), MessageType::Release);
    assert_eq!(release.to, Destination::Unicast(addr("fe80::1")));
    assert_eq!(release.server_id(), Some(&lease.server_id[..]));
    assert_eq!(release.ia_addr(), Some(lease.address));
    assert!(release.opt(OptionCode::ORO).is_none());
    assert_eq!(net.server().released, vec![(at(100.0), lease.address)]);
    assert!(net.client.release(net.now).is_empty());
    assert_eq!(net.client.state(), State::Released);
    assert_eq!(net.client.lease(), None);
    assert_eq!(net.client.next_timer(), None);
}

#[test]
fn dhcp_v6_release_retransmits_four_times_without_reply() {
    let mut net = Net::one(options(17));
    let lease = net.bound();
    net.server().mode = Mode::Silent;
    net.now = at(100.0);
    let actions = net.client.release(net.now);
    net.apply(actions);
    let timer = net.client.next_timer();
    assert!(timer.is_some());
    // Releasing again does not cut the retransmissions short.
    assert!(net.client.release(net.now).is_empty());
    assert_eq!(net.client.next_timer(), timer);
    net.run_until(at(1000.0));
    let releases: Vec<&Sent> = net.sent_since(at(100.0));
    assert_eq!(releases.len(), 4);
    assert!(releases.iter().all(|r| r.kind() == MessageType::Release));
    assert!(releases.iter().all(|r| r.to == Destination::AllServers));
    assert!(releases.iter().all(|r| r.ia_addr() == Some(lease.address)));
    assert_eq!(net.client.next_timer(), None);
    assert_eq!(net.client.state(), State::Released);
    // And nothing more, ever.
    assert!(net.client.on_timer(at(10_000.0)).is_empty());
    // Idle machines release nothing.
    let mut idle = Client::new(options(18));
    assert!(idle.release(T0).is_empty());
    assert_eq!(idle.next_timer(), None);
}

#[test]
fn dhcp_v6_foreign_and_malformed_messages_are_ignored() {
    let mut net = Net::one(options(19));
    net.server().mode = Mode::Silent;
    net.start();
    let timer = net.client.next_timer();
    let solicit = net.sent[0].msg.clone();
    let packet = dhcproto::Encodable::to_vec(&solicit).expect("encode");
    let mut answering = Server::new(1);
    answering.preference = Some(255);
    let advertise = answering
        .handle(net.now, Destination::AllServers, &packet)
        .expect("advertise");

    let mut variants: Vec<Vec<u8>> = Vec::new();
    let mut wrong_xid = advertise.clone();
    wrong_xid[3] ^= 0xff;
    variants.push(wrong_xid);
    let mut reply_type = advertise.clone();
    reply_type[0] = 7;
    variants.push(reply_type);
    variants.push(advertise[..advertise.len() - 1].to_vec());
    variants.push(advertise[..3].to_vec());
    variants.push(Vec::new());
    // Another client's identifier.
    let mut foreign = solicit.clone();
    foreign.opts_mut().remove(OptionCode::ClientId);
    foreign
        .opts_mut()
        .insert(DhcpOption::ClientId(b"\0\x04someone-else!!".to_vec()));
    let foreign = dhcproto::Encodable::to_vec(&foreign).expect("encode");
    variants.push(
        answering
            .handle(net.now, Destination::AllServers, &foreign)
            .expect("adv"),
    );
    // No Server Identifier.
    let mut parsed =
        <dhcproto::v6::Message as dhcproto::Decodable>::from_bytes(&advertise).expect("decodes");
    parsed.opts_mut().remove(OptionCode::ServerId);
    variants.push(dhcproto::Encodable::to_vec(&parsed).expect("encode"));

    for v in &variants {
        assert!(net.deliver(v).is_empty(), "{v:?}");
        assert_eq!(net.client.state(), State::Soliciting);
        assert_eq!(net.client.next_timer(), timer);
    }
    let actions = net.deliver(&advertise);
    assert!(matches!(actions.as_slice(), [Action::Send { .. }]));
    assert_eq!(net.client.state(), State::Requesting);
}

#[test]
fn dhcp_v6_duid_and_iaid_are_stable_across_machines() {
    let mut a = options(20);
    let mut b = options(20);
    a.seed = 1;
    b.seed = 2;
    let (ca, cb) = (Client::new(a), Client::new(b));
    assert_eq!(ca.duid(), cb.duid());
    assert_eq!(ca.iaid(), cb.iaid());
    assert_eq!(&ca.duid()[..2], &[0, 4]); // DUID-UUID
    assert_ne!(Client::new(options(21)).duid(), ca.duid());
    let mut na = Net::with_client(ca, vec![Server::new(1)], T0);
    let mut nb = Net::with_client(cb, vec![Server::new(1)], T0);
    na.start();
    nb.start();
    assert_ne!(na.sent[0].msg.xid(), nb.sent[0].msg.xid());
}
