//! DHCPv4: a daemon restart mid-lease resumes the lease from its persisted form.

use super::v4_sim::{Net, Server};
use super::{at, options};
use crate::dhcp::v4::{Action, Client, Destination, Lease, State};
use dhcproto::v4::{DhcpOption, MessageType, OptionCode};
use dhcproto::{Decodable, Decoder};
use std::net::Ipv4Addr;

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

/// A lease acquired at T0 (T1 1800 s, T2 3150 s, 3600 s), and the server that holds it.
fn acquired(n: u32) -> (Lease, Server) {
    let mut net = Net::one(options(n));
    net.start();
    let lease = net.client.lease().cloned().expect("bound");
    (lease, net.servers.remove(0))
}

/// The lease as the daemon persists and reads it back.
fn persisted(lease: &Lease) -> Lease {
    let json = serde_json::to_vec(lease).expect("serialize");
    serde_json::from_slice(&json).expect("deserialize")
}

fn decode(action: &Action) -> (Destination, dhcproto::v4::Message) {
    let Action::Send { to, packet } = action else {
        panic!("expected Send, got {action:?}");
    };
    let msg = dhcproto::v4::Message::decode(&mut Decoder::new(packet)).expect("decodes");
    (*to, msg)
}

#[test]
fn dhcp_v4_resume_before_t1_is_bound_until_t1() {
    let (lease, _) = acquired(40);
    let (client, actions) = Client::resume(options(40), persisted(&lease), at(1000.0));
    assert!(actions.is_empty());
    assert_eq!(client.state(), State::Bound);
    assert_eq!(client.lease(), Some(&lease));
    assert_eq!(client.next_timer(), Some(at(1800.0)));
}

#[test]
fn dhcp_v4_resume_past_t1_renews_at_once() {
    let (lease, server) = acquired(41);
    let (client, actions) = Client::resume(options(41), persisted(&lease), at(2000.0));
    assert_eq!(client.state(), State::Renewing);
    assert_eq!(actions.len(), 1);
    let (to, msg) = decode(&actions[0]);
    assert_eq!(to, Destination::Unicast(SERVER));
    assert_eq!(msg.opts().msg_type(), Some(MessageType::Request));
    assert_eq!(msg.ciaddr(), lease.address.addr());
    // Carried through the server that holds the binding: Renewed.
    let mut net = Net::with_client(client, vec![server], at(2000.0));
    net.apply(actions);
    let Some((when, Action::Renewed(renewed))) = net.events.last() else {
        panic!("expected Renewed, got {:?}", net.events);
    };
    assert_eq!(*when, at(2000.0));
    assert_eq!(renewed.acquired_at, at(2000.0));
    assert_eq!(renewed.address, lease.address);
}

#[test]
fn dhcp_v4_resume_past_t2_rebinds_at_once() {
    let (lease, _) = acquired(42);
    let (client, actions) = Client::resume(options(42), persisted(&lease), at(3200.0));
    assert_eq!(client.state(), State::Rebinding);
    let (to, msg) = decode(&actions[0]);
    assert_eq!(to, Destination::Broadcast);
    assert_eq!(msg.ciaddr(), lease.address.addr());
    assert!(msg.opts().get(OptionCode::ServerIdentifier).is_none());
    assert_eq!(client.next_timer(), Some(at(3400.0)));
}

#[test]
fn dhcp_v4_resume_expired_is_lost_and_starts_over() {
    let (lease, _) = acquired(43);
    let (client, actions) = Client::resume(options(43), persisted(&lease), at(3600.0));
    assert_eq!(client.state(), State::Selecting);
    assert_eq!(client.lease(), None);
    assert!(matches!(&actions[0], Action::Lost { reason } if reason.contains("expired")));
    let (to, msg) = decode(&actions[1]);
    assert_eq!(to, Destination::Broadcast);
    assert_eq!(msg.opts().msg_type(), Some(MessageType::Discover));
    assert_eq!(
        msg.opts().get(OptionCode::RequestedIpAddress),
        Some(&DhcpOption::RequestedIpAddress(lease.address.addr()))
    );
}

#[test]
fn dhcp_v4_restart_mid_lease_resumes_renewal() {
    let mut net = Net::one(options(44));
    net.start();
    net.run_until(at(1000.0));
    let lease = net.lease();
    let server = net.servers.remove(0);
    drop(net); // the daemon goes away...

    // ...and a new one, with the same options, resumes from the persisted lease.
    let (client, actions) = Client::resume(options(44), persisted(&lease), at(1500.0));
    let mut net = Net::with_client(client, vec![server], at(1500.0));
    net.apply(actions);
    assert!(net.sent.is_empty());
    let event = net.run_to_event(at(10_000.0)).expect("an event");
    assert_eq!(event.0, at(1800.0));
    assert!(matches!(event.1, Action::Renewed(_)));
    let renew = &net.sent[0];
    assert_eq!(renew.at, lease.renew_at());
    assert_eq!(renew.to, Destination::Unicast(SERVER));
    assert_eq!(renew.msg.ciaddr(), lease.address.addr());
    assert_eq!(net.lease().address, lease.address);
    assert_eq!(net.client.next_timer(), Some(at(3600.0)));
}
