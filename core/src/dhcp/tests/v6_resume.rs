//! DHCPv6: a daemon restart mid-lease resumes the lease from its persisted form.

use super::v6_sim::{Net, Server};
use super::{at, options};
use crate::dhcp::v6::{Action, Client, Destination, Lease, State};
use dhcproto::v6::{Message, MessageType};
use dhcproto::{Decodable, Decoder};

/// A lease acquired at T0 (preference 255: no collecting), and its server.
fn acquired(n: u32) -> (Lease, Server) {
    let mut net = Net::one(options(n));
    net.server().preference = Some(255);
    let lease = net.bound();
    (lease, net.servers.remove(0))
}

fn persisted(lease: &Lease) -> Lease {
    let json = serde_json::to_vec(lease).expect("serialize");
    serde_json::from_slice(&json).expect("deserialize")
}

fn decode(action: &Action) -> (Destination, Message) {
    let Action::Send { to, packet } = action else {
        panic!("expected Send, got {action:?}");
    };
    (
        *to,
        Message::decode(&mut Decoder::new(packet)).expect("decodes"),
    )
}

#[test]
fn dhcp_v6_resume_before_t1_is_bound_until_t1() {
    let (lease, _) = acquired(50);
    let (client, actions) = Client::resume(options(50), persisted(&lease), at(1000.0));
    assert!(actions.is_empty());
    assert_eq!(client.state(), State::Bound);
    assert_eq!(client.lease(), Some(&lease));
    assert_eq!(client.next_timer(), Some(at(1800.0)));
}

#[test]
fn dhcp_v6_resume_past_t1_renews_at_once() {
    let (lease, server) = acquired(51);
    let (client, actions) = Client::resume(options(51), persisted(&lease), at(2000.0));
    assert_eq!(client.state(), State::Renewing);
    let (to, msg) = decode(&actions[0]);
    assert_eq!(to, Destination::AllServers);
    assert_eq!(msg.msg_type(), MessageType::Renew);
    let mut net = Net::with_client(client, vec![server], at(2000.0));
    net.apply(actions);
    let Some((when, Action::Renewed(renewed))) = net.events.last() else {
        panic!("expected Renewed, got {:?}", net.events);
    };
    assert_eq!(*when, at(2000.0));
    assert_eq!(renewed.address, lease.address);
    assert_eq!(renewed.acquired_at, at(2000.0));
}

#[test]
fn dhcp_v6_resume_past_t2_rebinds_at_once() {
    let (lease, _) = acquired(52);
    let (client, actions) = Client::resume(options(52), persisted(&lease), at(3000.0));
    assert_eq!(client.state(), State::Rebinding);
    let (to, msg) = decode(&actions[0]);
    assert_eq!(to, Destination::AllServers);
    assert_eq!(msg.msg_type(), MessageType::Rebind);
}

#[test]
fn dhcp_v6_resume_expired_is_lost_and_starts_over() {
    let (lease, _) = acquired(53);
    let (client, actions) = Client::resume(options(53), persisted(&lease), at(7200.0));
    assert_eq!(client.state(), State::Soliciting);
    assert!(matches!(&actions[0], Action::Lost { .. }));
    let (to, msg) = decode(&actions[1]);
    assert_eq!(to, Destination::AllServers);
    assert_eq!(msg.msg_type(), MessageType::Solicit);
}

#[test]
fn dhcp_v6_restart_mid_lease_resumes_renewal() {
    let (lease, server) = acquired(54);
    let (client, actions) = Client::resume(options(54), persisted(&lease), at(1000.0));
    let mut net = Net::with_client(client, vec![server], at(1000.0));
    net.apply(actions);
    let event = net.run_to_event(at(100_000.0)).expect("an event");
    assert_eq!(event.0, lease.renew_at());
    assert!(matches!(event.1, Action::Renewed(_)));
    let renew = &net.sent[0];
    assert_eq!(renew.kind(), MessageType::Renew);
    assert_eq!(renew.at, lease.renew_at());
    assert_eq!(renew.ia().id, lease.iaid);
    assert_eq!(renew.ia_addr(), Some(lease.address));
}
