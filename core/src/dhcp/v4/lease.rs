//! A DHCPv4 lease and how it is read from a DHCPACK.
//!
//! Decisions where RFC 2131/2132 leave room:
//! - No subnet mask (option 1), or a non-contiguous one: the classful mask of
//!   the address (/8, /16, /24; /32 for class D/E), as dhclient and
//!   systemd-networkd do. Every mainstream server sends option 1; a server
//!   that does not is a legacy one expecting exactly this.
//! - T2 (59) is used when 0 < T2 <= lease time, else 7/8 of the lease time; T1
//!   (58) when 0 < T1 <= T2, else half the lease time (no later than T2). The
//!   lease keeps the values in effect, so a persisted lease resumes with the
//!   same schedule.
//! - A lease time of 0 makes the ACK unusable (a lease that is over when it
//!   starts would renew in a loop); 0xffffffff (infinite) is kept as 136 years.
//! - An address-list option whose length is not a multiple of 4 (8 for option
//!   33) is malformed and read as absent, as is an MTU below 68 (RFC 791's
//!   minimum), and a malformed option 121 (see `classless.rs`).
//! - RFC 3442: with option 121 present a client ignores options 3 and 33. The
//!   lease still carries all three as the server sent them; whoever turns the
//!   lease into routes applies the rule (`Lease::gateways`).

use super::classless;
use super::message::{code, Reply};
use crate::dhcp::names::decode_domain_list;
use crate::dhcp::time::Time;
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::time::Duration;

/// A DHCPv4 lease as granted by the last DHCPACK.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// yiaddr with the subnet mask (option 1), or its classful mask.
    pub address: Ipv4Net,
    /// Option 54: the server that granted (or last extended) the lease.
    pub server_id: Ipv4Addr,
    /// Option 3.
    pub routers: Vec<Ipv4Addr>,
    /// Option 6.
    pub dns_servers: Vec<Ipv4Addr>,
    /// Option 15.
    pub domain_name: Option<String>,
    /// Option 119 (RFC 3397 compressed names), without trailing dots.
    pub domain_search: Vec<String>,
    /// Option 121 (RFC 3442); router 0.0.0.0 means on-link.
    pub classless_routes: Vec<(Ipv4Net, Ipv4Addr)>,
    /// Option 33 (destination, router); destinations are classful networks.
    pub static_routes: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// Option 26.
    pub mtu: Option<u16>,
    /// Option 51.
    pub lease_time: Duration,
    /// Renewal time in effect (option 58, or half the lease time).
    pub t1: Duration,
    /// Rebinding time in effect (option 59, or 7/8 of the lease time).
    pub t2: Duration,
    /// When the lease's times start: the first transmission of the DHCPREQUEST
    /// the DHCPACK answered (RFC 2131 4.4.1), at or just before the ACK's
    /// arrival. Counting from the send rather than the arrival errs on the
    /// safe side when the ACK answered a retransmission.
    pub acquired_at: Time,
}

impl Lease {
    /// When the client starts renewing (T1).
    pub fn renew_at(&self) -> Time {
        self.acquired_at.after(self.t1)
    }

    /// When the client starts rebinding (T2).
    pub fn rebind_at(&self) -> Time {
        self.acquired_at.after(self.t2)
    }

    /// When the lease is over.
    pub fn expires_at(&self) -> Time {
        self.acquired_at.after(self.lease_time)
    }

    /// The routers to use as default gateways: option 3, unless option 121 is
    /// present, whose routes then replace options 3 and 33 (RFC 3442).
    pub fn gateways(&self) -> &[Ipv4Addr] {
        if self.classless_routes.is_empty() {
            &self.routers
        } else {
            &[]
        }
    }
}

/// What the client knew before the ACK, for options the ACK leaves out.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Known {
    /// The server the REQUEST went to (the offer's, or the lease's).
    pub server_id: Option<Ipv4Addr>,
    /// The offer's or the previous lease's lease time.
    pub lease_time: Option<Duration>,
}

/// The lease a DHCPACK grants, or `None` if it grants none usable (no
/// address, no lease time, no server identifier anywhere).
pub(crate) fn from_ack(ack: &Reply, acquired_at: Time, known: Known) -> Option<Lease> {
    if ack.yiaddr.is_unspecified() {
        return None;
    }
    let lease_time = ack
        .u32_option(code::LEASE_TIME)
        .map(|s| Duration::from_secs(s.into()))
        .or(known.lease_time)
        .filter(|d| !d.is_zero())?;
    let (t1, t2) = timers(
        lease_time,
        ack.u32_option(code::T1),
        ack.u32_option(code::T2),
    );
    let prefix = ack
        .addr_option(code::SUBNET_MASK)
        .and_then(mask_prefix)
        .unwrap_or_else(|| classful_prefix(ack.yiaddr));
    Some(Lease {
        address: Ipv4Net::new(ack.yiaddr, prefix).ok()?,
        server_id: ack.addr_option(code::SERVER_ID).or(known.server_id)?,
        routers: addrs(ack.option(code::ROUTER)),
        dns_servers: addrs(ack.option(code::DNS)),
        domain_name: ack.option(code::DOMAIN_NAME).and_then(text),
        domain_search: ack
            .option(code::DOMAIN_SEARCH)
            .map(decode_domain_list)
            .unwrap_or_default(),
        classless_routes: ack
            .option(code::CLASSLESS_ROUTES)
            .and_then(classless::parse)
            .unwrap_or_default(),
        static_routes: pairs(ack.option(code::STATIC_ROUTES)),
        mtu: ack
            .option(code::MTU)
            .and_then(|v| <[u8; 2]>::try_from(v).ok())
            .map(u16::from_be_bytes)
            .filter(|m| *m >= 68),
        lease_time,
        t1,
        t2,
        acquired_at,
    })
}

/// T1 and T2 in effect (see the module docs).
fn timers(lease: Duration, t1: Option<u32>, t2: Option<u32>) -> (Duration, Duration) {
    let secs = |s: u32| Duration::from_secs(s.into());
    let t2 = t2
        .map(secs)
        .filter(|t| !t.is_zero() && *t <= lease)
        .unwrap_or(lease * 7 / 8);
    let t1 = t1
        .map(secs)
        .filter(|t| !t.is_zero() && *t <= t2)
        .unwrap_or((lease / 2).min(t2));
    (t1, t2)
}

/// The prefix length of a contiguous, non-zero netmask.
fn mask_prefix(mask: Ipv4Addr) -> Option<u8> {
    let m = u32::from(mask);
    let ones = m.leading_ones();
    (ones > 0 && ones + m.trailing_zeros() == 32).then_some(ones as u8)
}

/// The prefix length of `addr`'s address class (A /8, B /16, C /24; /32
/// beyond): for a lease without a usable mask and for option 33 destinations.
pub fn classful_prefix(addr: Ipv4Addr) -> u8 {
    match addr.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        192..=223 => 24,
        _ => 32,
    }
}

fn addrs(value: Option<&[u8]>) -> Vec<Ipv4Addr> {
    match value {
        Some(v) if v.len() % 4 == 0 => v
            .chunks_exact(4)
            .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
            .collect(),
        _ => Vec::new(),
    }
}

fn pairs(value: Option<&[u8]>) -> Vec<(Ipv4Addr, Ipv4Addr)> {
    match value {
        Some(v) if v.len() % 8 == 0 => v
            .chunks_exact(8)
            .map(|c| {
                (
                    Ipv4Addr::new(c[0], c[1], c[2], c[3]),
                    Ipv4Addr::new(c[4], c[5], c[6], c[7]),
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A text option: UTF-8, without the NUL padding some servers add.
fn text(value: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(value).ok()?;
    let s = s.trim_end_matches('\0').trim();
    (!s.is_empty()).then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn dhcp_v4_timers_default_and_sanitize() {
        assert_eq!(timers(3600 * S, None, None), (1800 * S, 3150 * S));
        assert_eq!(timers(3600 * S, Some(600), Some(900)), (600 * S, 900 * S));
        // T2 beyond the lease, T1 beyond T2, zeros: defaults.
        assert_eq!(
            timers(100 * S, Some(0), Some(200)),
            (50 * S, 87_500 * S / 1000)
        );
        assert_eq!(timers(100 * S, Some(95), Some(90)), (50 * S, 90 * S));
        // A given T2 below half the lease pulls the default T1 down to it.
        assert_eq!(timers(100 * S, None, Some(40)), (40 * S, 40 * S));
    }

    #[test]
    fn dhcp_v4_masks() {
        assert_eq!(mask_prefix(Ipv4Addr::new(255, 255, 255, 0)), Some(24));
        assert_eq!(mask_prefix(Ipv4Addr::new(255, 255, 255, 255)), Some(32));
        assert_eq!(mask_prefix(Ipv4Addr::new(255, 0, 255, 0)), None);
        assert_eq!(mask_prefix(Ipv4Addr::UNSPECIFIED), None);
        assert_eq!(classful_prefix(Ipv4Addr::new(10, 1, 2, 3)), 8);
        assert_eq!(classful_prefix(Ipv4Addr::new(172, 16, 0, 1)), 16);
        assert_eq!(classful_prefix(Ipv4Addr::new(192, 168, 0, 1)), 24);
        assert_eq!(classful_prefix(Ipv4Addr::new(240, 0, 0, 1)), 32);
    }

    #[test]
    fn dhcp_v4_list_options_refuse_ragged_lengths() {
        assert_eq!(addrs(Some(&[1, 2, 3, 4, 5, 6, 7, 8])).len(), 2);
        assert!(addrs(Some(&[1, 2, 3, 4, 5])).is_empty());
        assert!(pairs(Some(&[1, 2, 3, 4])).is_empty());
        assert_eq!(text(b"example.org\0\0"), Some("example.org".into()));
        assert_eq!(text(b"\0"), None);
        assert_eq!(text(&[0xff, 0xfe]), None);
    }
}
