//! Sans-IO tests: each machine against a simulated server on a simulated
//! clock (CNI issue #13). The servers decode the client's packets with
//! dhcproto and answer with it, so the client is checked against an
//! independent implementation of the wire format.

mod many;
mod props;
mod v4;
mod v4_resume;
mod v4_sim;
mod v6;
mod v6_resume;
mod v6_sim;

use super::{ClientOptions, Time};
use std::time::Duration;

/// The simulated clock's start: an ordinary wall-clock time.
pub(super) const T0: Time = Time(1_700_000_000_000);

pub(super) fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub(super) fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// `T0` plus `s` seconds (fractions to the millisecond).
pub(super) fn at(s: f64) -> Time {
    T0.after(Duration::from_millis((s * 1000.0).round() as u64))
}

/// Options as the daemon would give them, for attachment `n`.
pub(super) fn options(n: u32) -> ClientOptions {
    let mut o = ClientOptions::new(
        format!("\0container-{n}/net/eth0").into_bytes(),
        [0x02, 0x42, 0, 0, (n >> 8) as u8, n as u8],
    );
    o.provide = vec![(12, format!("pod-{n}").into_bytes())];
    o.seed = u64::from(n) * 7919 + 1;
    o
}
