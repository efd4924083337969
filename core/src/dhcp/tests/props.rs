//! Properties: arbitrary bytes never panic a machine and never change its
//! state, in any state; mangled genuine replies never panic it; option 121
//! round-trips through dhcproto's encoder.

use super::{at, options};
use crate::dhcp::{v4, v6};
use proptest::prelude::*;

/// v4 machines in each state that listens: Selecting, Requesting, Bound,
/// Renewing, Rebinding; and the xid each expects.
fn v4_machines() -> Vec<(v4::Client, u32)> {
    use super::v4_sim::{Mode, Net};
    let mut out = Vec::new();
    let xid_of = |net: &Net| net.sent.last().map(|s| s.msg.xid()).unwrap_or(0);

    let mut net = Net::one(options(90));
    net.server().mode = Mode::Silent;
    net.start();
    out.push((net.client.clone(), xid_of(&net)));

    let mut net = Net::one(options(91));
    net.start();
    out.push((net.client.clone(), xid_of(&net)));
    net.server().mode = Mode::Silent;
    net.run_until(at(1800.0));
    out.push((net.client.clone(), xid_of(&net)));
    net.run_until(at(3150.0));
    out.push((net.client.clone(), xid_of(&net)));

    // Requesting: an OFFER in, the REQUEST unanswered.
    let mut net = Net::one(options(92));
    net.server().mode = Mode::Silent;
    net.start();
    let discover = dhcproto::Encodable::to_vec(&net.sent[0].msg).expect("encode");
    let mut answering =
        super::v4_sim::Server::new(std::net::Ipv4Addr::new(10, 0, 0, 1), "10.0.0.0/16");
    let offer = answering
        .handle(net.now, v4::Destination::Broadcast, &discover)
        .expect("offer");
    let actions = net.deliver(&offer);
    net.apply(actions);
    out.push((net.client.clone(), xid_of(&net)));
    let states: Vec<v4::State> = out.iter().map(|(c, _)| c.state()).collect();
    assert_eq!(
        states,
        [
            v4::State::Selecting,
            v4::State::Bound,
            v4::State::Renewing,
            v4::State::Rebinding,
            v4::State::Requesting
        ]
    );
    out
}

fn v6_machines() -> Vec<(v6::Client, u32)> {
    use super::v6_sim::{Mode, Net};
    let mut out = Vec::new();
    let xid_of = |net: &Net| net.sent.last().map(|s| s.msg.xid_num()).unwrap_or(0);

    let mut net = Net::one(options(93));
    net.server().mode = Mode::Silent;
    net.start();
    out.push((net.client.clone(), xid_of(&net)));

    let mut net = Net::one(options(94));
    net.server().preference = Some(255);
    net.bound();
    out.push((net.client.clone(), xid_of(&net)));
    net.server().mode = Mode::Silent;
    net.run_until(at(1800.0));
    out.push((net.client.clone(), xid_of(&net)));
    net.run_until(at(2880.0));
    out.push((net.client.clone(), xid_of(&net)));

    let mut net = Net::one(options(95));
    net.server().mode = Mode::IgnoreRequests;
    net.server().preference = Some(255);
    net.start();
    out.push((net.client.clone(), xid_of(&net)));
    out
}

/// A BOOTREPLY header that passes the xid/chaddr/cookie checks, then `tail`
/// as its options.
fn v4_reply_with(xid: u32, hwaddr: [u8; 6], tail: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 240];
    p[0] = 2;
    p[4..8].copy_from_slice(&xid.to_be_bytes());
    p[28..34].copy_from_slice(&hwaddr);
    p[236..240].copy_from_slice(&[99, 130, 83, 99]);
    p.extend_from_slice(tail);
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn dhcp_v4_arbitrary_bytes_never_panic_nor_change_state(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        for (client, _) in v4_machines() {
            let mut c = client.clone();
            let actions = c.on_packet(at(5000.0), &bytes);
            prop_assert!(actions.is_empty());
            prop_assert_eq!(c.state(), client.state());
            prop_assert_eq!(c.next_timer(), client.next_timer());
            prop_assert_eq!(c.lease(), client.lease());
        }
    }

    #[test]
    fn dhcp_v4_arbitrary_options_in_a_matching_reply_never_panic(
        tail in proptest::collection::vec(any::<u8>(), 0..400),
        typ in 1u8..9,
    ) {
        for (client, xid) in v4_machines() {
            let mut c = client.clone();
            let hw = c.options().hwaddr;
            let mut opts = vec![53, 1, typ];
            opts.extend_from_slice(&tail);
            let _ = c.on_packet(at(3200.0), &v4_reply_with(xid, hw, &opts));
            let _ = c.on_packet(at(3200.0), &v4_reply_with(xid, hw, &tail));
        }
    }

    #[test]
    fn dhcp_v6_arbitrary_bytes_never_panic_nor_change_state(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        for (client, _) in v6_machines() {
            let mut c = client.clone();
            let actions = c.on_packet(at(2000.0), &bytes);
            prop_assert!(actions.is_empty());
            prop_assert_eq!(c.state(), client.state());
            prop_assert_eq!(c.next_timer(), client.next_timer());
            prop_assert_eq!(c.lease(), client.lease());
        }
    }

    #[test]
    fn dhcp_v6_arbitrary_options_in_a_matching_reply_never_panic(
        tail in proptest::collection::vec(any::<u8>(), 0..400),
        typ in 1u8..14,
    ) {
        for (client, xid) in v6_machines() {
            let mut c = client.clone();
            // Our own Client Identifier first, so the options are looked at.
            let duid = c.duid().to_vec();
            let mut p = vec![typ, (xid >> 16) as u8, (xid >> 8) as u8, xid as u8, 0, 1, 0, duid.len() as u8];
            p.extend_from_slice(&duid);
            p.extend_from_slice(&tail);
            let _ = c.on_packet(at(2000.0), &p);
        }
    }

    #[test]
    fn dhcp_v4_option_121_round_trips_through_dhcproto(
        routes in proptest::collection::vec((any::<u32>(), 0u8..=32, any::<u32>()), 0..20)
    ) {
        use dhcproto::v4::{DhcpOption, DhcpOptions};
        use ipnet::Ipv4Net;
        use std::net::Ipv4Addr;
        let routes: Vec<(Ipv4Net, Ipv4Addr)> = routes
            .into_iter()
            .map(|(d, w, g)| (Ipv4Net::new(Ipv4Addr::from(d), w).expect("width <= 32").trunc(), Ipv4Addr::from(g)))
            .collect();
        let mut opts = DhcpOptions::new();
        opts.insert(DhcpOption::ClasslessStaticRoute(routes.clone()));
        let encoded = dhcproto::Encodable::to_vec(&opts).expect("encode");
        // The reply parser joins the (possibly split) option 121 back together.
        let mut packet = v4_reply_with(1, [0; 6], &[53, 1, 5]);
        packet.extend_from_slice(&encoded);
        let reply = crate::dhcp::v4::message::Reply::parse(&packet).expect("parses");
        let value = reply.option(121).unwrap_or_default();
        prop_assert_eq!(crate::dhcp::v4::classless::parse(value), Some(routes));
    }

    #[test]
    fn dhcp_v4_option_121_arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = crate::dhcp::v4::classless::parse(&bytes);
    }
}
