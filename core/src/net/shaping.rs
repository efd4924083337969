//! Traffic shaping as the `bandwidth` plugin asks the kernel for it: a token
//! bucket filter (tc's `tbf`) as a link's root qdisc, and the ingress qdisc
//! with one filter that redirects everything a link receives to another
//! link's egress (an `ifb`, where a second token bucket shapes it).

use std::fmt;

/// How long a packet may wait in a token bucket, as the reference sets it.
pub const TBF_LATENCY_USEC: u64 = 25_000;

const USEC_PER_SEC: f64 = 1_000_000.0;

/// A token bucket filter's parameters in the units tc gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenBucket {
    /// Bytes per second.
    pub rate: u64,
    /// How long a full bucket lasts at `rate`, in microseconds (tc's
    /// `buffer` before the kernel turns it into scheduler ticks).
    pub buffer_usec: u32,
    /// Bytes that may wait in the queue.
    pub limit: u32,
}

impl TokenBucket {
    /// The bucket for a rate in bits per second and a burst in bits,
    /// computed as the reference does (whole bytes, float arithmetic cut
    /// to integers), so both leave the same numbers in the kernel.
    pub fn from_bits(rate_bits: u64, burst_bits: u64) -> TokenBucket {
        let rate = rate_bits / 8;
        // Truncated as the reference's uint32 conversion does; config
        // validation keeps the burst below 4 GiB.
        let burst = (burst_bits / 8) as u32;
        let buffer_usec = (f64::from(burst) * USEC_PER_SEC / rate.max(1) as f64) as u32;
        let queued = (rate as f64 * TBF_LATENCY_USEC as f64 / USEC_PER_SEC) as u32;
        TokenBucket {
            rate,
            buffer_usec,
            limit: queued.wrapping_add(burst),
        }
    }

    /// What the first differing parameter is, naming both values.
    pub fn difference(&self, actual: &TokenBucket) -> Option<String> {
        let pairs = [
            ("rate (bytes/s)", self.rate, actual.rate),
            (
                "buffer (usec)",
                u64::from(self.buffer_usec),
                u64::from(actual.buffer_usec),
            ),
            (
                "limit (bytes)",
                u64::from(self.limit),
                u64::from(actual.limit),
            ),
        ];
        pairs
            .into_iter()
            .find(|(_, want, have)| want != have)
            .map(|(what, want, have)| format!("{what} is {have}, expected {want}"))
    }
}

impl fmt::Display for TokenBucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tbf rate {}B/s buffer {}us limit {}B",
            self.rate, self.buffer_usec, self.limit
        )
    }
}

/// A link's root (egress) qdisc.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RootQdisc {
    /// The kernel's own default (noqueue, pfifo_fast, fq_codel, mq...).
    #[default]
    Default,
    Tbf(TokenBucket),
    /// A qdisc someone else configured, by its kind.
    Other(String),
}

/// The qdiscs of one link that `bandwidth` configures.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shaping {
    pub root: RootQdisc,
    /// `None` without an ingress qdisc; otherwise the links its filters
    /// redirect to (by index in this namespace).
    pub ingress_redirects: Option<Vec<u32>>,
}
