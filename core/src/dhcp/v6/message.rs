//! DHCPv6 messages on the wire: the client's, encoded with dhcproto, and the
//! server's, parsed here.
//!
//! As for v4, replies get our own parser: dhcproto's v6 decoder subtracts from
//! option lengths without checking them (a 1-byte Status Code option panics in
//! debug builds) and silently stops at the first option it cannot read. Ours
//! refuses a message whose option lengths do not add up, skips options it does
//! not know, and reads only what the client uses.

use crate::dhcp::names::decode_domain_list;
use dhcproto::v6::{DhcpOption, IAAddr, Message, MessageType, OptionCode, IANA, ORO};
use dhcproto::Encodable;
use std::net::Ipv6Addr;

pub(crate) const SOLICIT: u8 = 1;
pub(crate) const ADVERTISE: u8 = 2;
pub(crate) const REQUEST: u8 = 3;
pub(crate) const RENEW: u8 = 5;
pub(crate) const REBIND: u8 = 6;
pub(crate) const REPLY: u8 = 7;
pub(crate) const RELEASE: u8 = 8;

mod code {
    pub(super) const CLIENTID: u16 = 1;
    pub(super) const SERVERID: u16 = 2;
    pub(super) const IA_NA: u16 = 3;
    pub(super) const IAADDR: u16 = 5;
    pub(super) const PREFERENCE: u16 = 7;
    pub(super) const UNICAST: u16 = 12;
    pub(super) const STATUS_CODE: u16 = 13;
    pub(super) const DNS_SERVERS: u16 = 23;
    pub(super) const DOMAIN_LIST: u16 = 24;
}

/// RFC 8415 21.13 status codes the client acts on.
pub(crate) mod status {
    pub(crate) const SUCCESS: u16 = 0;
    pub(crate) const NO_BINDING: u16 = 3;
    pub(crate) const USE_MULTICAST: u16 = 5;
}

/// A Status Code option: code and the server's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Status {
    pub code: u16,
    pub message: String,
}

impl Status {
    /// "NoBinding (3): message", for logs and reasons.
    pub(crate) fn describe(&self) -> String {
        let name = match self.code {
            0 => "Success",
            1 => "UnspecFail",
            2 => "NoAddrsAvail",
            3 => "NoBinding",
            4 => "NotOnLink",
            5 => "UseMulticast",
            _ => "status",
        };
        if self.message.is_empty() {
            format!("{name} ({})", self.code)
        } else {
            format!("{name} ({}): {}", self.code, self.message)
        }
    }
}

/// An IA Address option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IaAddr {
    pub addr: Ipv6Addr,
    pub preferred: u32,
    pub valid: u32,
    pub status: Option<Status>,
}

/// An IA_NA option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IaNa {
    pub iaid: u32,
    pub t1: u32,
    pub t2: u32,
    pub addrs: Vec<IaAddr>,
    pub status: Option<Status>,
}

/// A server's message, as far as the client looks at it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Reply {
    pub msg_type: u8,
    pub xid: u32,
    pub client_id: Option<Vec<u8>>,
    pub server_id: Option<Vec<u8>>,
    /// Option 7; 0 when absent (RFC 8415 18.2.9).
    pub preference: u8,
    /// Option 12.
    pub unicast: Option<Ipv6Addr>,
    /// The message's own Status Code option.
    pub status: Option<Status>,
    pub ia_na: Vec<IaNa>,
    pub dns_servers: Vec<Ipv6Addr>,
    pub domain_search: Vec<String>,
}

impl Reply {
    /// Parses a server message; `None` if it is too short or an option's
    /// length runs past its container. Where an option that should appear once
    /// appears twice, the first counts.
    pub(crate) fn parse(packet: &[u8]) -> Option<Reply> {
        let (&msg_type, rest) = packet.split_first()?;
        let xid = rest.get(..3)?;
        let mut reply = Reply {
            msg_type,
            xid: u32::from_be_bytes([0, xid[0], xid[1], xid[2]]),
            ..Reply::default()
        };
        for (c, data) in options(&rest[3..])? {
            match c {
                code::CLIENTID => first(&mut reply.client_id, data.to_vec()),
                code::SERVERID => first(&mut reply.server_id, data.to_vec()),
                code::PREFERENCE => {
                    if let [p] = data {
                        reply.preference = *p;
                    }
                }
                code::UNICAST => {
                    if let Ok(a) = <[u8; 16]>::try_from(data) {
                        first(&mut reply.unicast, Ipv6Addr::from(a));
                    }
                }
                code::STATUS_CODE => first(&mut reply.status, parse_status(data)?),
                code::IA_NA => reply.ia_na.push(parse_ia_na(data)?),
                code::DNS_SERVERS if data.len() % 16 == 0 => {
                    reply.dns_servers = data
                        .chunks_exact(16)
                        .filter_map(|c| <[u8; 16]>::try_from(c).ok())
                        .map(Ipv6Addr::from)
                        .collect();
                }
                code::DOMAIN_LIST => reply.domain_search = decode_domain_list(data),
                _ => {}
            }
        }
        Some(reply)
    }

    /// The IA_NA with `iaid`, if the message has one.
    pub(crate) fn ia(&self, iaid: u32) -> Option<&IaNa> {
        self.ia_na.iter().find(|ia| ia.iaid == iaid)
    }
}

fn first<T>(slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

/// The (code, value) pairs of an option area, or `None` if a length runs past it.
fn options(mut area: &[u8]) -> Option<Vec<(u16, &[u8])>> {
    let mut out = Vec::new();
    while !area.is_empty() {
        let head = area.get(..4)?;
        let c = u16::from_be_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        out.push((c, area.get(4..4 + len)?));
        area = &area[4 + len..];
    }
    Some(out)
}

fn parse_status(data: &[u8]) -> Option<Status> {
    let c = data.get(..2)?;
    Some(Status {
        code: u16::from_be_bytes([c[0], c[1]]),
        message: String::from_utf8_lossy(&data[2..]).into_owned(),
    })
}

fn be32(b: &[u8]) -> u32 {
    b.iter().take(4).fold(0, |n, x| (n << 8) | u32::from(*x))
}

fn parse_ia_na(data: &[u8]) -> Option<IaNa> {
    let head = data.get(..12)?;
    let mut ia = IaNa {
        iaid: be32(&head[0..4]),
        t1: be32(&head[4..8]),
        t2: be32(&head[8..12]),
        addrs: Vec::new(),
        status: None,
    };
    for (c, inner) in options(&data[12..])? {
        match c {
            code::IAADDR => ia.addrs.push(parse_ia_addr(inner)?),
            code::STATUS_CODE => first(&mut ia.status, parse_status(inner)?),
            _ => {}
        }
    }
    Some(ia)
}

fn parse_ia_addr(data: &[u8]) -> Option<IaAddr> {
    let head = data.get(..24)?;
    let addr: [u8; 16] = head[..16].try_into().ok()?;
    let mut status = None;
    for (c, inner) in options(&data[24..])? {
        if c == code::STATUS_CODE {
            first(&mut status, parse_status(inner)?);
        }
    }
    Some(IaAddr {
        addr: Ipv6Addr::from(addr),
        preferred: be32(&head[16..20]),
        valid: be32(&head[20..24]),
        status,
    })
}

/// What goes into one client message.
#[derive(Clone, Debug)]
pub(crate) struct Request<'a> {
    pub msg_type: u8,
    pub xid: u32,
    /// Elapsed Time (option 8), in hundredths of a second.
    pub elapsed: u16,
    pub duid: &'a [u8],
    pub server_id: Option<&'a [u8]>,
    pub iaid: u32,
    /// The IA_NA's address: the one requested, renewed, released, or a hint.
    pub address: Option<Ipv6Addr>,
}

/// Encodes `req`: Client Identifier, Elapsed Time, an IA_NA (T1/T2 and
/// lifetimes zero: the server decides, RFC 8415 18.2), the Server Identifier
/// when given, and, except in a RELEASE, an ORO asking for DNS servers (23) and
/// the domain search list (24). `None` only if dhcproto cannot encode it.
pub(crate) fn encode(req: &Request<'_>) -> Option<Vec<u8>> {
    let mut msg = Message::new_with_id(MessageType::from(req.msg_type), [0; 3]);
    msg.set_xid_num(req.xid);
    let o = msg.opts_mut();
    o.insert(DhcpOption::ClientId(req.duid.to_vec()));
    if let Some(server) = req.server_id {
        o.insert(DhcpOption::ServerId(server.to_vec()));
    }
    o.insert(DhcpOption::ElapsedTime(req.elapsed));
    if req.msg_type != RELEASE {
        o.insert(DhcpOption::ORO(ORO {
            opts: vec![OptionCode::DomainNameServers, OptionCode::DomainSearchList],
        }));
    }
    let mut ia = IANA {
        id: req.iaid,
        t1: 0,
        t2: 0,
        opts: Default::default(),
    };
    if let Some(addr) = req.address {
        ia.opts.insert(DhcpOption::IAAddr(IAAddr {
            addr,
            preferred_life: 0,
            valid_life: 0,
            opts: Default::default(),
        }));
    }
    o.insert(DhcpOption::IANA(ia));
    msg.to_vec().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(c: u16, data: &[u8]) -> Vec<u8> {
        let mut v = c.to_be_bytes().to_vec();
        v.extend((data.len() as u16).to_be_bytes());
        v.extend(data);
        v
    }

    #[test]
    fn dhcp_v6_reply_parses_nested_ia_and_statuses() {
        let addr: Ipv6Addr = "fd00::5".parse().expect("addr");
        let mut iaaddr = addr.octets().to_vec();
        iaaddr.extend(100u32.to_be_bytes());
        iaaddr.extend(200u32.to_be_bytes());
        iaaddr.extend(opt(13, &[0, 0, b'o', b'k']));
        let mut ia = 7u32.to_be_bytes().to_vec();
        ia.extend(50u32.to_be_bytes());
        ia.extend(80u32.to_be_bytes());
        ia.extend(opt(5, &iaaddr));
        let mut p = vec![REPLY, 1, 2, 3];
        p.extend(opt(1, b"client"));
        p.extend(opt(2, b"server"));
        p.extend(opt(7, &[9]));
        p.extend(opt(3, &ia));
        p.extend(opt(13, &[0, 5]));
        p.extend(opt(999, b"ignored"));
        let r = Reply::parse(&p).expect("valid reply");
        assert_eq!(r.msg_type, REPLY);
        assert_eq!(r.xid, 0x010203);
        assert_eq!(r.client_id.as_deref(), Some(&b"client"[..]));
        assert_eq!(r.server_id.as_deref(), Some(&b"server"[..]));
        assert_eq!(r.preference, 9);
        assert_eq!(
            r.status.as_ref().map(|s| s.code),
            Some(status::USE_MULTICAST)
        );
        let ia = r.ia(7).expect("IA_NA 7");
        assert_eq!((ia.t1, ia.t2), (50, 80));
        assert_eq!(ia.addrs[0].addr, addr);
        assert_eq!((ia.addrs[0].preferred, ia.addrs[0].valid), (100, 200));
        assert_eq!(
            ia.addrs[0].status.as_ref().map(|s| s.describe()),
            Some("Success (0): ok".into())
        );
    }

    #[test]
    fn dhcp_v6_reply_refuses_lengths_that_do_not_add_up() {
        assert!(Reply::parse(&[REPLY, 0]).is_none());
        assert!(Reply::parse(&[REPLY, 0, 0, 0]).is_some());
        let mut p = vec![REPLY, 0, 0, 0];
        p.extend([0, 1, 0, 9, 1]); // Client Identifier claims 9 bytes, has 1
        assert!(Reply::parse(&p).is_none());
        let mut p = vec![REPLY, 0, 0, 0];
        p.extend(opt(3, &[0, 0, 0, 1])); // IA_NA shorter than its 12-byte head
        assert!(Reply::parse(&p).is_none());
        let mut p = vec![REPLY, 0, 0, 0];
        p.extend(opt(13, &[0])); // Status Code without its code
        assert!(Reply::parse(&p).is_none());
    }
}
