//! DHCPv4 messages on the wire: the client's requests, encoded with dhcproto,
//! and the server's replies, parsed here.
//!
//! Replies are untrusted bytes, so they get their own small parser instead of
//! dhcproto's decoder: that one asserts on some option lengths (it panics in
//! debug builds on, e.g., a zero-length option 81) and silently drops every
//! option after the first it cannot read. Ours walks the option TLVs itself,
//! joins split options (RFC 3396) and honours option overload (RFC 2131
//! 4.1, option 52), and each option's value is interpreted by the code that
//! needs it (`lease.rs`), which refuses a malformed value on its own.

use crate::dhcp::options::ClientOptions;
use dhcproto::v4::{DhcpOption, Flags, Message, MessageType, Opcode, OptionCode, UnknownOption};
use dhcproto::Encodable;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// DHCP message types (option 53) the client sends or understands.
pub(crate) const DHCPDISCOVER: u8 = 1;
pub(crate) const DHCPOFFER: u8 = 2;
pub(crate) const DHCPREQUEST: u8 = 3;
pub(crate) const DHCPACK: u8 = 5;
pub(crate) const DHCPNAK: u8 = 6;
pub(crate) const DHCPRELEASE: u8 = 7;

/// Option codes the client reads from replies.
pub(crate) mod code {
    pub(crate) const SUBNET_MASK: u8 = 1;
    pub(crate) const ROUTER: u8 = 3;
    pub(crate) const DNS: u8 = 6;
    pub(crate) const DOMAIN_NAME: u8 = 15;
    pub(crate) const MTU: u8 = 26;
    pub(crate) const STATIC_ROUTES: u8 = 33;
    pub(crate) const LEASE_TIME: u8 = 51;
    pub(crate) const OVERLOAD: u8 = 52;
    pub(crate) const MESSAGE_TYPE: u8 = 53;
    pub(crate) const SERVER_ID: u8 = 54;
    pub(crate) const MESSAGE: u8 = 56;
    pub(crate) const T1: u8 = 58;
    pub(crate) const T2: u8 = 59;
    pub(crate) const CLIENT_ID: u8 = 61;
    pub(crate) const DOMAIN_SEARCH: u8 = 119;
    pub(crate) const CLASSLESS_ROUTES: u8 = 121;
}

/// Option codes the machine fills in itself; `provide` cannot override them
/// (with 0 and 255, which are not options at all).
const MANAGED: [u8; 8] = [0, 50, 53, 54, 55, 57, 61, 255];

/// The largest DHCP message the client accepts (option 57): an Ethernet
/// frame's worth of IP datagram. Our parser has no limit, but the server must
/// not send more than the link carries unfragmented.
const MAX_MESSAGE_SIZE: u16 = 1500;

/// RFC 1542 2.1: BOOTP relays may drop messages shorter than the original
/// BOOTP 300 bytes, so requests are zero-padded (PAD options) to it.
const MIN_MESSAGE_SIZE: usize = 300;

const MAGIC: [u8; 4] = [99, 130, 83, 99];
const OPTIONS_AT: usize = 240;

/// A server's reply, as far as the client looks at it.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub xid: u32,
    pub chaddr: [u8; 6],
    pub yiaddr: Ipv4Addr,
    pub msg_type: u8,
    /// Option values by code, split options joined.
    pub options: BTreeMap<u8, Vec<u8>>,
}

impl Reply {
    /// Parses a BOOTREPLY carrying a DHCP message type; `None` for anything
    /// else (short, wrong op, no magic cookie, truncated option, no type).
    pub(crate) fn parse(packet: &[u8]) -> Option<Reply> {
        let header = packet.get(..OPTIONS_AT)?;
        // op: 2 = BOOTREPLY; a request (ours looped back, or another client's) is not for us.
        if header[0] != 2 || header[236..240] != MAGIC {
            return None;
        }
        let mut options = BTreeMap::new();
        walk(&packet[OPTIONS_AT..], &mut options)?;
        // RFC 2131 4.1: with option 52, 'file' (1), 'sname' (2) or both (3)
        // hold more options, read after the options field, 'file' first.
        let overload = options
            .get(&code::OVERLOAD)
            .and_then(|v: &Vec<u8>| v.first().copied());
        if let Some(which @ 1..=3) = overload {
            if which & 1 != 0 {
                walk(&header[108..236], &mut options)?;
            }
            if which & 2 != 0 {
                walk(&header[44..108], &mut options)?;
            }
        }
        let msg_type = *options.get(&code::MESSAGE_TYPE)?.first()?;
        let mut chaddr = [0; 6];
        chaddr.copy_from_slice(&header[28..34]);
        Some(Reply {
            xid: u32::from_be_bytes([header[4], header[5], header[6], header[7]]),
            chaddr,
            yiaddr: Ipv4Addr::new(header[16], header[17], header[18], header[19]),
            msg_type,
            options,
        })
    }

    pub(crate) fn option(&self, code: u8) -> Option<&[u8]> {
        self.options.get(&code).map(Vec::as_slice)
    }

    /// A 4-byte address option (server identifier, subnet mask).
    pub(crate) fn addr_option(&self, code: u8) -> Option<Ipv4Addr> {
        let v: [u8; 4] = self.option(code)?.try_into().ok()?;
        Some(Ipv4Addr::from(v))
    }

    /// A 4-byte number option (lease time, T1, T2).
    pub(crate) fn u32_option(&self, code: u8) -> Option<u32> {
        let v: [u8; 4] = self.option(code)?.try_into().ok()?;
        Some(u32::from_be_bytes(v))
    }

    /// Option 56, the server's human-readable reason (with a NAK), for logs.
    pub(crate) fn message(&self) -> Option<String> {
        let text = String::from_utf8_lossy(self.option(code::MESSAGE)?);
        let text = text.trim_end_matches('\0').trim();
        (!text.is_empty()).then(|| text.to_string())
    }
}

/// Adds the options in `area` to `out`, joining repeated codes (RFC 3396).
/// Stops at END; a missing END is tolerated (the area's end is as good), a
/// length running past the area is not.
fn walk(area: &[u8], out: &mut BTreeMap<u8, Vec<u8>>) -> Option<()> {
    let mut rest = area;
    while let Some((&code, tail)) = rest.split_first() {
        match code {
            0 => rest = tail,
            255 => break,
            _ => {
                let (&len, tail) = tail.split_first()?;
                let data = tail.get(..usize::from(len))?;
                out.entry(code).or_default().extend_from_slice(data);
                rest = &tail[usize::from(len)..];
            }
        }
    }
    Some(())
}

/// What goes into one client message; the rest comes from `ClientOptions`.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub msg_type: u8,
    pub xid: u32,
    pub secs: u16,
    pub ciaddr: Ipv4Addr,
    /// Option 50.
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 54.
    pub server_id: Option<Ipv4Addr>,
}

/// Encodes `req` with the options every DISCOVER/REQUEST carries (61, 55,
/// 57, `provide`) or, for a RELEASE, only client and server identifiers
/// (RFC 2131 table 5), with flags zero. `None` only if dhcproto cannot encode
/// it, which no input the machine builds should cause.
pub(crate) fn encode(req: &Request, opts: &ClientOptions) -> Option<Vec<u8>> {
    let mut msg = Message::new_with_id(
        req.xid,
        req.ciaddr,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &opts.hwaddr,
    );
    msg.set_opcode(Opcode::BootRequest).set_secs(req.secs);
    let release = req.msg_type == DHCPRELEASE;
    if opts.broadcast && !release {
        msg.set_flags(Flags::default().set_broadcast());
    }
    let o = msg.opts_mut();
    o.insert(DhcpOption::MessageType(MessageType::from(req.msg_type)));
    // RFC 2132 9.14: a client identifier is at least 2 bytes; none rather than an empty one.
    if !opts.client_id.is_empty() {
        o.insert(DhcpOption::ClientIdentifier(opts.client_id.clone()));
    }
    if let Some(ip) = req.requested_ip {
        o.insert(DhcpOption::RequestedIpAddress(ip));
    }
    if let Some(ip) = req.server_id {
        o.insert(DhcpOption::ServerIdentifier(ip));
    }
    if !release {
        if !opts.request.is_empty() {
            let list = opts.request.iter().map(|c| OptionCode::from(*c)).collect();
            o.insert(DhcpOption::ParameterRequestList(list));
        }
        o.insert(DhcpOption::MaxMessageSize(MAX_MESSAGE_SIZE));
        for (c, value) in &opts.provide {
            if !MANAGED.contains(c) {
                let opt = UnknownOption::new(OptionCode::from(*c), value.clone());
                o.insert(DhcpOption::Unknown(opt));
            }
        }
    }
    let mut packet = msg.to_vec().ok()?;
    if packet.len() < MIN_MESSAGE_SIZE {
        packet.resize(MIN_MESSAGE_SIZE, 0);
    }
    Some(packet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply_with(options: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; OPTIONS_AT];
        p[0] = 2;
        p[4..8].copy_from_slice(&0x0102_0304u32.to_be_bytes());
        p[16..20].copy_from_slice(&[10, 0, 0, 5]);
        p[28..34].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        p[236..240].copy_from_slice(&MAGIC);
        p.extend_from_slice(options);
        p
    }

    #[test]
    fn dhcp_v4_reply_parses_header_and_joins_split_options() {
        let p = reply_with(&[
            53, 1, 5, 0, 15, 2, b'e', b'x', 15, 1, b'y', 255, 15, 1, b'z',
        ]);
        let r = Reply::parse(&p).expect("valid reply");
        assert_eq!(r.xid, 0x0102_0304);
        assert_eq!(r.yiaddr, Ipv4Addr::new(10, 0, 0, 5));
        assert_eq!(r.chaddr, [2, 0, 0, 0, 0, 1]);
        assert_eq!(r.msg_type, DHCPACK);
        // Joined, and nothing after END.
        assert_eq!(r.option(15), Some(&b"exy"[..]));
    }

    #[test]
    fn dhcp_v4_reply_reads_overloaded_file_and_sname() {
        let mut p = reply_with(&[53, 1, 5, 52, 1, 3, 255]);
        p[108..114].copy_from_slice(&[51, 4, 0, 0, 0, 60]);
        p[114] = 255;
        p[44..50].copy_from_slice(&[58, 4, 0, 0, 0, 30]);
        p[50] = 255;
        let r = Reply::parse(&p).expect("valid reply");
        assert_eq!(r.u32_option(51), Some(60));
        assert_eq!(r.u32_option(58), Some(30));
    }

    #[test]
    fn dhcp_v4_reply_refuses_what_is_not_a_dhcp_reply() {
        assert!(Reply::parse(&[]).is_none());
        assert!(Reply::parse(&reply_with(&[255])).is_none()); // no message type
        assert!(Reply::parse(&reply_with(&[53, 1])).is_none()); // truncated
        assert!(Reply::parse(&reply_with(&[53, 0, 255])).is_none()); // empty type
        let mut request = reply_with(&[53, 1, 5]);
        request[0] = 1;
        assert!(Reply::parse(&request).is_none());
        let mut no_cookie = reply_with(&[53, 1, 5]);
        no_cookie[236] = 0;
        assert!(Reply::parse(&no_cookie).is_none());
    }
}
