//! The transport on hand-made datagrams: framing errors, statuses with
//! extended acks, and how exchanges end.

use super::exchange::{Exchange, ExchangeError, Outcome};
use super::status::{done_status, error_status, Status};
use super::wire::{
    messages, parse_attrs, FrameError, NlHeaderRepr, NlMsg, NLMSG_DONE, NLMSG_ERROR,
};
use crate::nftables::Nftables;

const NLM_F_MULTI: u16 = 0x2;
const NLM_F_DUMP_INTR: u16 = 0x10;
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NEWRULE: u16 = (10 << 8) | 6;

fn push(out: &mut Vec<u8>, kind: u16, flags: u16, seq: u32, payload: &[u8]) {
    let header = NlHeaderRepr { kind, flags, seq };
    header.emit(out, payload.len()).copy_from_slice(payload);
}

fn one(kind: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    push(&mut out, kind, flags, seq, payload);
    out
}

fn rule(seq: u32, flags: u16) -> Vec<u8> {
    // nfgenmsg, then one attribute (NFTA_RULE_TABLE "t").
    one(
        NEWRULE,
        NLM_F_MULTI | flags,
        seq,
        &[1, 0, 0, 0, 6, 0, 1, 0, b't', 0, 0, 0],
    )
}

fn done(seq: u32, flags: u16) -> Vec<u8> {
    one(NLMSG_DONE, NLM_F_MULTI | flags, seq, &0i32.to_ne_bytes())
}

/// NLMSG_ERROR for `errno` answering a request numbered `seq`, with the
/// kernel's reason as NLMSGERR_ATTR_MSG.
fn error_with_reason(seq: u32, errno: i32, reason: &str, capped: bool) -> Vec<u8> {
    let request = one(16, 0x5, seq, &[0; 8]);
    let mut payload = (-errno).to_ne_bytes().to_vec();
    payload.extend_from_slice(if capped { &request[..16] } else { &request });
    let text = [reason.as_bytes(), &[0]].concat();
    payload.extend_from_slice(&((4 + text.len()) as u16).to_ne_bytes());
    payload.extend_from_slice(&1u16.to_ne_bytes());
    payload.extend_from_slice(&text);
    let flags = NLM_F_ACK_TLVS | if capped { NLM_F_CAPPED } else { 0 };
    one(NLMSG_ERROR, flags, seq, &payload)
}

#[test]
fn header_repr_round_trips_through_the_checked_view() {
    let bytes = one(NEWRULE, 0x301, 42, &[1, 2, 3, 4, 5]);
    assert_eq!(bytes.len(), 24, "padded to four bytes");
    let msg = NlMsg::new_checked(&bytes[..]).unwrap();
    assert_eq!((msg.length(), msg.payload()), (21, &[1u8, 2, 3, 4, 5][..]));
    let expected = NlHeaderRepr {
        kind: NEWRULE,
        flags: 0x301,
        seq: 42,
    };
    assert_eq!(NlHeaderRepr::parse(&msg), expected);
}

#[test]
fn bad_nlmsg_len_is_refused() {
    let mut short = one(NEWRULE, 0, 1, &[0; 4]);
    short[0..4].copy_from_slice(&8u32.to_ne_bytes());
    let e = NlMsg::new_checked(&short[..]).unwrap_err();
    assert_eq!(
        e,
        FrameError::BadLength {
            claimed: 8,
            available: 20
        }
    );
    let mut long = one(NEWRULE, 0, 1, &[0; 4]);
    long[0..4].copy_from_slice(&100u32.to_ne_bytes());
    let e = messages(&long).next().unwrap().unwrap_err();
    assert_eq!(
        e,
        FrameError::BadLength {
            claimed: 100,
            available: 20
        }
    );
    assert_eq!(
        NlMsg::new_checked(&long[..10]).unwrap_err(),
        FrameError::ShortBuffer { len: 10 }
    );
}

#[test]
fn truncated_datagram_is_an_error_not_fewer_replies() {
    let mut datagram = rule(7, 0);
    datagram.extend(rule(7, 0));
    datagram.truncate(datagram.len() - 6);
    let mut exchange = Exchange::<Nftables>::dump(7);
    let err = exchange.feed_datagram(&datagram).unwrap_err();
    assert!(
        matches!(
            err,
            ExchangeError::Frame(FrameError::BadLength {
                claimed: 28,
                available: 22
            })
        ),
        "{err:?}"
    );
}

#[test]
fn trailing_fragment_is_an_error_even_after_the_last_reply() {
    let mut datagram = done(3, 0);
    datagram.extend_from_slice(&[0xaa; 8]);
    let split: Vec<_> = messages(&datagram).collect();
    assert_eq!(split.len(), 2);
    assert_eq!(
        split[1].as_ref().unwrap_err(),
        &FrameError::TrailingFragment { len: 8 }
    );
    let mut exchange = Exchange::<Nftables>::dump(3);
    let err = exchange.feed_datagram(&datagram).unwrap_err();
    assert!(
        matches!(
            err,
            ExchangeError::Frame(FrameError::TrailingFragment { len: 8 })
        ),
        "{err:?}"
    );
}

#[test]
fn error_message_carries_the_extended_ack_text() {
    for capped in [true, false] {
        let bytes = error_with_reason(9, 17, "Route exists here", capped);
        let msg = NlMsg::new_checked(&bytes[..]).unwrap();
        let expected = Status {
            errno: 17,
            extack: Some("Route exists here".into()),
        };
        assert_eq!(error_status(&msg).unwrap(), expected, "capped: {capped}");
        let mut exchange = Exchange::<Nftables>::acked(9);
        match exchange.feed_datagram(&bytes).unwrap_err() {
            ExchangeError::Kernel { errno, extack } => {
                assert_eq!((errno, extack.as_deref()), (17, Some("Route exists here")))
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn acknowledgement_without_extended_ack_has_no_reason() {
    let bytes = one(NLMSG_ERROR, NLM_F_CAPPED, 4, &[0; 20]);
    let msg = NlMsg::new_checked(&bytes[..]).unwrap();
    assert_eq!(
        error_status(&msg).unwrap(),
        Status {
            errno: 0,
            extack: None
        }
    );
    let mut exchange = Exchange::<Nftables>::acked(4);
    exchange.feed_datagram(&bytes).unwrap();
    assert!(exchange.is_finished());
    assert_eq!(exchange.outcome(), Outcome::Complete(vec![]));
}

#[test]
fn multipart_dump_ends_at_done_and_skips_stale_replies() {
    let mut exchange = Exchange::<Nftables>::dump(5);
    let mut first = rule(5, 0);
    first.extend(rule(4, 0)); // a late reply to an earlier dump
    first.extend(rule(5, 0));
    exchange.feed_datagram(&first).unwrap();
    assert!(!exchange.is_finished(), "no DONE yet");
    exchange.feed_datagram(&done(5, 0)).unwrap();
    assert!(exchange.is_finished());
    match exchange.outcome() {
        Outcome::Complete(rules) => {
            assert_eq!(rules.len(), 2);
            assert_eq!(parse_attrs(&rules[0]), vec![(1, &b"t\0"[..])]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn dump_that_failed_half_way_reports_the_errno_from_done() {
    let bytes = one(NLMSG_DONE, NLM_F_MULTI, 6, &(-16i32).to_ne_bytes());
    let msg = NlMsg::new_checked(&bytes[..]).unwrap();
    assert_eq!(done_status(&msg).unwrap().errno, 16);
    let mut exchange = Exchange::<Nftables>::dump(6);
    let err = exchange.feed_datagram(&bytes).unwrap_err();
    assert!(
        matches!(err, ExchangeError::Kernel { errno: 16, .. }),
        "{err:?}"
    );
}

#[test]
fn interrupted_dump_is_asked_again_and_the_retry_ignores_the_old_replies() {
    let mut datagram = rule(11, NLM_F_DUMP_INTR);
    datagram.extend(done(11, NLM_F_DUMP_INTR));
    let mut first = Exchange::<Nftables>::dump(11);
    first.feed_datagram(&datagram).unwrap();
    assert!(first.is_finished());
    assert_eq!(first.outcome(), Outcome::Interrupted);

    let mut retry = Exchange::<Nftables>::dump(12);
    retry.feed_datagram(&datagram).unwrap();
    assert!(
        !retry.is_finished(),
        "replies to the interrupted dump are stale"
    );
    let mut fresh = rule(12, 0);
    fresh.extend(done(12, 0));
    retry.feed_datagram(&fresh).unwrap();
    assert!(matches!(retry.outcome(), Outcome::Complete(r) if r.len() == 1));
}

#[test]
fn batch_ends_when_every_acknowledged_message_is_acked() {
    let ack = |seq| one(NLMSG_ERROR, NLM_F_CAPPED, seq, &[0; 20]);
    let mut exchange = Exchange::<Nftables>::batch(20..24, 2);
    exchange.feed_datagram(&ack(21)).unwrap();
    assert!(!exchange.is_finished());
    exchange.feed_datagram(&ack(22)).unwrap();
    assert!(exchange.is_finished());
}

#[test]
fn attributes_stop_at_one_that_does_not_fit() {
    let mut buf = vec![5, 0, 1, 0, b'x', 0, 0, 0];
    buf.extend_from_slice(&[40, 0, 2, 0, 1, 2]);
    assert_eq!(parse_attrs(&buf), vec![(1, &b"x"[..])]);
}
