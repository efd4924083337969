//! The netlink transport against the real kernel: a reply larger than the
//! receive buffer fails loudly (or, for a dump, is asked for again) and
//! leaves the socket usable.

mod common;

use cni_backend_linux::netlink::RtSocket;
use cni_backend_linux::netns::NetnsFile;
use common::{privileged, TestNs};
use netlink_packet_route::link::LinkMessage;
use netlink_packet_route::RouteNetlinkMessage;

fn small_socket(ns: &TestNs) -> RtSocket {
    let file = NetnsFile::open(&ns.path).unwrap();
    RtSocket::open_in(&file).unwrap().with_receive_buffer(32)
}

fn get_loopback() -> RouteNetlinkMessage {
    let mut req = LinkMessage::default();
    req.header.index = 1;
    RouteNetlinkMessage::GetLink(req)
}

#[test]
fn oversized_reply_to_a_request_fails_naming_family_and_request_then_socket_recovers() {
    if !privileged(
        "oversized_reply_to_a_request_fails_naming_family_and_request_then_socket_recovers",
    ) {
        return;
    }
    let ns = TestNs::new("trunc");
    let sock = small_socket(&ns);
    let err = sock
        .get(get_loopback(), || "get link 1".into())
        .unwrap_err();
    assert!(
        err.msg.starts_with("get link 1: rtnetlink reply of "),
        "{}",
        err.msg
    );
    assert!(
        err.msg.contains("did not fit the 32-byte receive buffer"),
        "{}",
        err.msg
    );
    // The buffer grew and the rest of the answer was drained: asking again works.
    let lo = sock.get(get_loopback(), || "get link 1".into()).unwrap();
    assert!(matches!(lo, RouteNetlinkMessage::NewLink(l) if l.header.index == 1));
}

#[test]
fn oversized_dump_is_asked_for_again_with_a_larger_buffer() {
    if !privileged("oversized_dump_is_asked_for_again_with_a_larger_buffer") {
        return;
    }
    let ns = TestNs::new("truncdump");
    let sock = small_socket(&ns);
    let links = sock
        .dump(RouteNetlinkMessage::GetLink(LinkMessage::default()), || {
            "list links".into()
        })
        .unwrap();
    let indexes: Vec<u32> = links
        .iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewLink(l) => Some(l.header.index),
            _ => None,
        })
        .collect();
    assert_eq!(indexes, vec![1], "a fresh namespace has only lo");
}
