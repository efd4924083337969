//! Wall-clock time as the state machines see it.
//!
//! Milliseconds since the UNIX epoch rather than `Instant`: leases are persisted
//! and resumed after a daemon restart, so their times must mean the same thing in
//! the next process. The machines never read the clock themselves; the daemon
//! passes `Time::now()`, tests a controlled clock.

use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Wall-clock milliseconds since the UNIX epoch.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Time(pub u64);

impl Time {
    /// `self + d`, saturating: an infinite lease (0xffffffff seconds) or a
    /// hostile option value must not overflow into the past.
    pub fn after(self, d: Duration) -> Time {
        Time(self.0.saturating_add(millis(d)))
    }

    /// `self - earlier`, zero if `earlier` is later (the wall clock may step back).
    pub fn since(self, earlier: Time) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// The system clock; a clock before 1970 reads as the epoch.
    pub fn now() -> Time {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        Time(millis(since_epoch))
    }
}

/// Whole milliseconds of `d`, saturating at `u64::MAX`.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dhcp_time_arithmetic_saturates() {
        assert_eq!(Time(5).after(Duration::from_millis(7)), Time(12));
        assert_eq!(Time(u64::MAX - 1).after(Duration::MAX), Time(u64::MAX));
        assert_eq!(Time(10).since(Time(4)), Duration::from_millis(6));
        assert_eq!(Time(4).since(Time(10)), Duration::ZERO);
        assert!(Time::now() > Time(1_600_000_000_000));
    }
}
