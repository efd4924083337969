//! DHCP replies: the bytes a server (or anyone on the link) sends the
//! daemon's client machines.

use crate::dhcp::{v4, v6, ClientOptions, Time};

const NOW: Time = Time(1_700_000_000_000);

fn options() -> ClientOptions {
    ClientOptions::new(b"\0fuzz/net/eth0".to_vec(), [2, 0, 0, 0, 0, 1])
}

fn sent(actions: &[v4::Action]) -> Option<&[u8]> {
    actions.iter().find_map(|a| match a {
        v4::Action::Send { packet, .. } => Some(packet.as_slice()),
        _ => None,
    })
}

/// A BOOTREPLY to `request` (its xid and chaddr) for 10.0.0.5 from 10.0.0.1,
/// of type `kind`, whose options after the type, server id and lease time
/// are `data`.
fn v4_reply(request: &[u8], kind: u8, data: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 240];
    p[0] = 2;
    p[1] = 1;
    p[2] = 6;
    p[4..8].copy_from_slice(&request[4..8]);
    p[16..20].copy_from_slice(&[10, 0, 0, 5]);
    p[28..34].copy_from_slice(&request[28..34]);
    p[236..240].copy_from_slice(&[99, 130, 83, 99]);
    p.extend_from_slice(&[53, 1, kind, 54, 4, 10, 0, 0, 1, 51, 4, 0, 0, 14, 16]);
    p.extend_from_slice(data);
    p
}

/// The bytes as a reply to a DHCPv4 client, raw and as the options of an
/// OFFER and an ACK that match it: never a panic; raw bytes not addressed to
/// it leave it as it was; a lease that comes out is consistent (T1 <= T2 <=
/// lease time, timers in order, the offered address) and survives being
/// persisted; the same options renew it at T1. Accepted: a lease came out.
pub fn dhcp_v4_reply(data: &[u8]) -> bool {
    let mut client = v4::Client::new(options());
    let discover = client.start(NOW);
    let Some(discover) = sent(&discover).map(<[u8]>::to_vec) else {
        panic!("no DISCOVER");
    };
    let mut raw = client.clone();
    if raw.on_packet(NOW, data).is_empty() {
        assert_eq!(raw.state(), client.state());
        assert_eq!(raw.next_timer(), client.next_timer());
    }
    let request = client.on_packet(NOW, &v4_reply(&discover, 2, data));
    let Some(request) = sent(&request).map(<[u8]>::to_vec) else {
        return false;
    };
    let lease = match client
        .on_packet(NOW, &v4_reply(&request, 5, data))
        .as_slice()
    {
        [v4::Action::Bound(lease)] => lease.clone(),
        [] => return false,
        other => panic!("an ACK gave {other:?}"),
    };
    assert_eq!(lease.address.addr(), std::net::Ipv4Addr::new(10, 0, 0, 5));
    assert!(
        lease.t1 <= lease.t2 && lease.t2 <= lease.lease_time,
        "{lease:?}"
    );
    assert!(!lease.lease_time.is_zero());
    assert!(lease.mtu.is_none_or(|m| m >= 68));
    assert!(lease.domain_search.iter().all(|d| !d.is_empty()));
    let json = serde_json::to_vec(&lease).expect("a lease serializes");
    let back: v4::Lease = serde_json::from_slice(&json).expect("a lease reads back");
    assert_eq!(back, lease);
    let renew = client.on_timer(lease.renew_at());
    let renew = sent(&renew).expect("a renewal at T1").to_vec();
    let renewed = client.on_packet(lease.renew_at(), &v4_reply(&renew, 5, data));
    assert!(
        matches!(renewed.as_slice(), [v4::Action::Renewed(_)]),
        "{renewed:?}"
    );
    true
}

fn sent6(actions: &[v6::Action]) -> Option<&[u8]> {
    actions.iter().find_map(|a| match a {
        v6::Action::Send { packet, .. } => Some(packet.as_slice()),
        _ => None,
    })
}

/// A server message of `kind` answering `request` (its transaction id), with
/// the client's and a server's identifier, then `data`.
fn v6_reply(request: &[u8], kind: u8, duid: &[u8], data: &[u8]) -> Vec<u8> {
    let mut p = vec![kind, request[1], request[2], request[3]];
    for (code, value) in [(1u16, duid), (2, b"\0\x02fuzz".as_slice())] {
        p.extend_from_slice(&code.to_be_bytes());
        p.extend_from_slice(&(value.len() as u16).to_be_bytes());
        p.extend_from_slice(value);
    }
    p.extend_from_slice(data);
    p
}

/// The bytes as a reply to a DHCPv6 client, raw and as the options of an
/// ADVERTISE (preference decided by the bytes) and a REPLY that match it:
/// never a panic; raw bytes not addressed to it leave it as it was; a lease
/// that comes out is consistent (T1 <= T2, preferred <= valid, valid > 0)
/// and survives being persisted. Accepted: a lease came out.
pub fn dhcp_v6_reply(data: &[u8]) -> bool {
    let mut client = v6::Client::new(options());
    let duid = client.duid().to_vec();
    let solicit = client.start(NOW);
    let Some(solicit) = sent6(&solicit).map(<[u8]>::to_vec) else {
        panic!("no SOLICIT");
    };
    let mut raw = client.clone();
    if raw.on_packet(NOW, data).is_empty() {
        assert_eq!(raw.state(), client.state());
        assert_eq!(raw.next_timer(), client.next_timer());
    }
    let mut request = client.on_packet(NOW, &v6_reply(&solicit, 2, &duid, data));
    if request.is_empty() {
        // Collected until the first retransmission time, then requested.
        let Some(t) = client.next_timer() else {
            return false;
        };
        request = client.on_timer(t);
    }
    let Some(request) = sent6(&request).filter(|p| p[0] == 3).map(<[u8]>::to_vec) else {
        return false;
    };
    let lease = match client
        .on_packet(NOW, &v6_reply(&request, 7, &duid, data))
        .as_slice()
    {
        [v6::Action::Bound(lease)] => lease.clone(),
        _ => return false,
    };
    assert!(lease.t1 <= lease.t2, "{lease:?}");
    assert!(
        lease.preferred <= lease.valid && !lease.valid.is_zero(),
        "{lease:?}"
    );
    let json = serde_json::to_vec(&lease).expect("a lease serializes");
    let back: v6::Lease = serde_json::from_slice(&json).expect("a lease reads back");
    assert_eq!(back, lease);
    true
}
