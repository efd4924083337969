//! A DHCPv6 lease (one IA_NA address) and how it is read from a Reply.
//!
//! Decisions where RFC 8415 leaves room:
//! - T1/T2 of 0 mean the client chooses (21.4): 0.5 and 0.8 of the preferred
//!   lifetime (of the valid lifetime if the preferred is 0, so a deprecated
//!   address is still renewed before it is gone). T2 is raised to T1 if the
//!   server gave only a T1 above the chosen T2. The lease keeps the values in
//!   effect. T1 > T2 (both set) makes the IA_NA invalid (the RFC's "MUST
//!   discard"), as does an address whose preferred lifetime exceeds its valid
//!   lifetime (21.6).
//! - An address with a valid lifetime of 0 is not granted (the server
//!   withdraws it); an address with a non-success status neither.
//! - Infinite (0xffffffff) times are kept as 136 years.
//! - `acquired_at` is the first transmission of the message the Reply
//!   answered, as in v4: counting from the send errs on the safe side.

use super::message::{status, IaAddr, IaNa, Reply};
use crate::dhcp::time::Time;
use serde::{Deserialize, Serialize};
use std::net::Ipv6Addr;
use std::time::Duration;

/// A DHCPv6 lease: one address of one IA_NA.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub address: Ipv6Addr,
    /// The IA_NA's IAID (derived from the client id; kept so a resumed lease
    /// renews the same IA).
    pub iaid: u32,
    /// The server's DUID.
    pub server_id: Vec<u8>,
    /// The server's address if it sent a Server Unicast option (12): renewals
    /// and releases then go to it directly.
    pub server_addr: Option<Ipv6Addr>,
    /// Option 23.
    pub dns_servers: Vec<Ipv6Addr>,
    /// Option 24, without trailing dots.
    pub domain_search: Vec<String>,
    pub preferred: Duration,
    pub valid: Duration,
    /// Renewal time in effect.
    pub t1: Duration,
    /// Rebinding time in effect.
    pub t2: Duration,
    /// When the lease's times start (see the module docs).
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

    /// When the address stops being valid.
    pub fn expires_at(&self) -> Time {
        self.acquired_at.after(self.valid)
    }
}

/// What a Reply says about the client's IA_NA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Grant {
    /// An address granted.
    Lease(Lease),
    /// The IA_NA carries a failure status (NoAddrsAvail, NoBinding, NotOnLink, ...).
    Refused(String, u16),
    /// `want`'s address is in the IA_NA with a valid lifetime of 0.
    Withdrawn,
    /// No IA_NA for us, an invalid one, or nothing usable in it: the Reply
    /// does not answer the question.
    Nothing,
}

/// Reads the IA_NA `iaid` of `reply`. `want` picks the address (the one asked
/// for); without it, or if it is not granted while renewing is not the
/// question (`strict` false), the first usable address is taken.
pub(crate) fn grant(
    reply: &Reply,
    iaid: u32,
    want: Option<Ipv6Addr>,
    strict: bool,
    acquired_at: Time,
) -> Grant {
    let Some(ia) = reply.ia(iaid) else {
        return Grant::Nothing;
    };
    if let Some(s) = ia.status.as_ref().filter(|s| s.code != status::SUCCESS) {
        return Grant::Refused(s.describe(), s.code);
    }
    if ia.t1 > ia.t2 && ia.t2 != 0 {
        return Grant::Nothing;
    }
    let usable = |a: &&IaAddr| {
        a.status.as_ref().is_none_or(|s| s.code == status::SUCCESS) && a.preferred <= a.valid
    };
    let wanted = want.and_then(|w| ia.addrs.iter().filter(usable).find(|a| a.addr == w));
    if wanted.is_some_and(|a| a.valid == 0) {
        return Grant::Withdrawn;
    }
    let chosen = match (wanted, strict) {
        (Some(a), _) => Some(a),
        (None, true) => None,
        (None, false) => ia.addrs.iter().filter(usable).find(|a| a.valid > 0),
    };
    let Some(addr) = chosen else {
        return Grant::Nothing;
    };
    let Some(server_id) = reply.server_id.clone() else {
        return Grant::Nothing;
    };
    let (t1, t2) = timers(ia, addr);
    Grant::Lease(Lease {
        address: addr.addr,
        iaid,
        server_id,
        server_addr: reply.unicast,
        dns_servers: reply.dns_servers.clone(),
        domain_search: reply.domain_search.clone(),
        preferred: secs(addr.preferred),
        valid: secs(addr.valid),
        t1,
        t2,
        acquired_at,
    })
}

fn secs(s: u32) -> Duration {
    Duration::from_secs(s.into())
}

/// T1 and T2 in effect (see the module docs).
fn timers(ia: &IaNa, addr: &IaAddr) -> (Duration, Duration) {
    let base = secs(if addr.preferred > 0 {
        addr.preferred
    } else {
        addr.valid
    });
    let t1 = if ia.t1 > 0 { secs(ia.t1) } else { base / 2 };
    let t2 = if ia.t2 > 0 {
        secs(ia.t2)
    } else {
        (base * 4 / 5).max(t1)
    };
    (t1, t2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dhcp::v6::message::Status;

    const S: Duration = Duration::from_secs(1);

    fn addr(s: &str, preferred: u32, valid: u32) -> IaAddr {
        IaAddr {
            addr: s.parse().expect("test address"),
            preferred,
            valid,
            status: None,
        }
    }

    fn reply(t1: u32, t2: u32, addrs: Vec<IaAddr>, status: Option<Status>) -> Reply {
        Reply {
            msg_type: 7,
            server_id: Some(b"srv".to_vec()),
            ia_na: vec![IaNa {
                iaid: 1,
                t1,
                t2,
                addrs,
                status,
            }],
            ..Reply::default()
        }
    }

    fn lease_of(g: Grant) -> Lease {
        match g {
            Grant::Lease(l) => l,
            other => panic!("expected a lease, got {other:?}"),
        }
    }

    #[test]
    fn dhcp_v6_zero_t1_t2_are_chosen_from_the_preferred_lifetime() {
        let r = reply(0, 0, vec![addr("fd00::1", 1000, 2000)], None);
        let l = lease_of(grant(&r, 1, None, false, Time(0)));
        assert_eq!((l.t1, l.t2), (500 * S, 800 * S));
        assert_eq!((l.preferred, l.valid), (1000 * S, 2000 * S));
        let r = reply(300, 600, vec![addr("fd00::1", 1000, 2000)], None);
        let l = lease_of(grant(&r, 1, None, false, Time(0)));
        assert_eq!((l.t1, l.t2), (300 * S, 600 * S));
        // Only T1 given, above the chosen T2: T2 follows it.
        let r = reply(900, 0, vec![addr("fd00::1", 1000, 2000)], None);
        let l = lease_of(grant(&r, 1, None, false, Time(0)));
        assert_eq!((l.t1, l.t2), (900 * S, 900 * S));
        // Preferred 0: count from the valid lifetime.
        let r = reply(0, 0, vec![addr("fd00::1", 0, 100)], None);
        let l = lease_of(grant(&r, 1, None, false, Time(0)));
        assert_eq!((l.t1, l.t2), (50 * S, 80 * S));
    }

    #[test]
    fn dhcp_v6_invalid_ia_and_addresses_grant_nothing() {
        let r = reply(600, 300, vec![addr("fd00::1", 1000, 2000)], None);
        assert_eq!(grant(&r, 1, None, false, Time(0)), Grant::Nothing);
        let r = reply(0, 0, vec![addr("fd00::1", 3000, 2000)], None);
        assert_eq!(grant(&r, 1, None, false, Time(0)), Grant::Nothing);
        let r = reply(0, 0, vec![addr("fd00::1", 0, 0)], None);
        assert_eq!(grant(&r, 1, None, false, Time(0)), Grant::Nothing);
        assert_eq!(grant(&r, 2, None, false, Time(0)), Grant::Nothing);
        let want = "fd00::1".parse().ok();
        assert_eq!(grant(&r, 1, want, true, Time(0)), Grant::Withdrawn);
        let other = reply(0, 0, vec![addr("fd00::2", 10, 20)], None);
        assert_eq!(grant(&other, 1, want, true, Time(0)), Grant::Nothing);
        assert_eq!(
            lease_of(grant(&other, 1, want, false, Time(0))).address,
            "fd00::2".parse::<Ipv6Addr>().expect("addr")
        );
        let refused = Status {
            code: status::NO_BINDING,
            message: String::new(),
        };
        let r = reply(0, 0, vec![], Some(refused));
        assert_eq!(
            grant(&r, 1, want, true, Time(0)),
            Grant::Refused("NoBinding (3)".into(), status::NO_BINDING)
        );
    }
}
