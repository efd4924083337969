//! The reference's allocator: one address per range set, round-robin from the
//! last address reserved, so that both implementations hand out the same
//! sequence from the same data directory.

use super::addr::{canonical, next};
use super::range::{Range, RangeSet};
use super::store::{Attachment, Store, StoreError};
use ipnet::IpNet;
use std::net::IpAddr;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AllocError {
    #[error("{ip} not in range set {set}")]
    NotInRangeSet { ip: IpAddr, set: String },
    #[error("requested ip {ip} is subnet's gateway")]
    RequestedGateway { ip: IpAddr },
    #[error("requested IP address {ip} is not available in range set {set}")]
    RequestedTaken { ip: IpAddr, set: String },
    #[error("{ip} has been allocated to {container_id}, duplicate allocation is not allowed")]
    Duplicate { ip: IpAddr, container_id: String },
    #[error("no IP addresses available in range set: {set}")]
    Exhausted { set: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An address handed out: with its prefix length, and its range's gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub address: IpNet,
    pub gateway: IpAddr,
}

/// Allocates from range set number `index` (the number names its
/// `last_reserved_ip.<index>` record).
pub struct Allocator<'a, S: Store + ?Sized> {
    set: &'a RangeSet,
    index: usize,
    store: &'a mut S,
}

impl<'a, S: Store + ?Sized> Allocator<'a, S> {
    pub fn new(set: &'a RangeSet, index: usize, store: &'a mut S) -> Self {
        Allocator { set, index, store }
    }

    /// Reserves `requested`, or the next free address after the last one
    /// reserved. Without a request, refuses an attachment that already holds an
    /// address in this range set, as the reference does.
    pub fn get(
        &mut self,
        att: &Attachment,
        requested: Option<IpAddr>,
    ) -> Result<Allocation, AllocError> {
        if let Some(ip) = requested.map(canonical) {
            let range = self
                .set
                .range_for(ip)
                .ok_or_else(|| AllocError::NotInRangeSet {
                    ip,
                    set: self.set.to_string(),
                })?;
            if ip == range.gateway {
                return Err(AllocError::RequestedGateway { ip });
            }
            if !self.store.reserve(att, ip, self.index)? {
                return Err(AllocError::RequestedTaken {
                    ip,
                    set: self.set.to_string(),
                });
            }
            return Ok(allocation(range, ip));
        }

        for ip in self.store.ips_of(att)? {
            if self.set.contains(ip) {
                return Err(AllocError::Duplicate {
                    ip,
                    container_id: att.container_id.clone(),
                });
            }
        }

        let mut iter = self.iter()?;
        while let Some((range, ip)) = iter.next_candidate() {
            if self.store.reserve(att, ip, self.index)? {
                return Ok(allocation(range, ip));
            }
        }
        Err(AllocError::Exhausted {
            set: self.set.to_string(),
        })
    }

    /// Whether a next ADD would find a free address here (STATUS). Probes from
    /// the round-robin position, so it stops at the first free address.
    pub fn has_free(&mut self) -> Result<bool, AllocError> {
        let mut iter = self.iter()?;
        while let Some((_, ip)) = iter.next_candidate() {
            if self.store.holder(ip)?.is_none() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn iter(&mut self) -> Result<RangeIter<'a>, AllocError> {
        let last = self
            .store
            .last_reserved(self.index)?
            .map(canonical)
            .filter(|ip| self.set.contains(*ip));
        Ok(RangeIter::new(self.set, last))
    }
}

fn allocation(range: &Range, ip: IpAddr) -> Allocation {
    Allocation {
        address: range.with_prefix(ip),
        gateway: range.gateway,
    }
}

/// The reference's `RangeIter`: starts just after the last reserved address
/// (or at the first range's start), walks every range once, skips gateways.
pub struct RangeIter<'a> {
    set: &'a RangeSet,
    range_idx: usize,
    cur: Option<IpAddr>,
    start_ip: Option<IpAddr>,
    done: bool,
}

impl<'a> RangeIter<'a> {
    pub fn new(set: &'a RangeSet, last_reserved: Option<IpAddr>) -> Self {
        match last_reserved.and_then(|ip| {
            set.ranges
                .iter()
                .position(|r| r.contains(ip))
                .map(|i| (i, ip))
        }) {
            Some((range_idx, ip)) => RangeIter {
                set,
                range_idx,
                cur: Some(ip),
                start_ip: None,
                done: set.ranges.is_empty(),
            },
            None => RangeIter {
                set,
                range_idx: 0,
                cur: None,
                start_ip: set.ranges.first().map(|r| r.start),
                done: set.ranges.is_empty(),
            },
        }
    }

    /// The next candidate and its range; None once every address was offered.
    pub fn next_candidate(&mut self) -> Option<(&'a Range, IpAddr)> {
        // A loop where the reference recurses to skip a gateway.
        while !self.done {
            let mut r = &self.set.ranges[self.range_idx];
            let cur = match self.cur {
                None => {
                    self.cur = Some(r.start);
                    self.start_ip = Some(r.start);
                    if r.start == r.gateway {
                        continue;
                    }
                    return Some((r, r.start));
                }
                Some(cur) => cur,
            };
            let cur = if cur == r.end {
                self.range_idx = (self.range_idx + 1) % self.set.ranges.len();
                r = &self.set.ranges[self.range_idx];
                r.start
            } else {
                next(cur)
            };
            self.cur = Some(cur);
            match self.start_ip {
                None => self.start_ip = Some(cur),
                Some(s) if s == cur => {
                    self.done = true;
                    return None;
                }
                Some(_) => {}
            }
            if cur == r.gateway {
                continue;
            }
            return Some((r, cur));
        }
        None
    }
}
