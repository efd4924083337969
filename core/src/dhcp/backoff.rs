//! Retransmission intervals: RFC 2131's for DHCPv4, RFC 8415's for DHCPv6.

use super::time::millis;
use crate::rng::Rng;
use std::time::Duration;

/// RFC 2131 4.1: the first retransmission waits 4 s, each next one twice as
/// long, capped at `resend_max` (the reference daemon's `-resendmax`), each
/// randomized by ±1 s so that clients started together spread out. `attempt` is
/// the number of transmissions so far minus one.
///
/// The jitter shrinks to half the interval when a (test) cap is below 2 s, so
/// an interval is never zero or negative.
pub(crate) fn v4_retransmit(attempt: u32, resend_max: Duration, rng: &mut Rng) -> Duration {
    let base = (4_000u64 << attempt.min(20)).min(millis(resend_max)).max(1);
    let span = (base / 2).min(1_000);
    Duration::from_millis(base.saturating_add_signed(rng.symmetric(span)).max(1))
}

/// RFC 2131 4.4.5: in RENEWING and REBINDING the client waits half the time
/// remaining until T2 (resp. expiry), but at least 60 s, before retransmitting.
/// Not randomized: the first REQUEST goes out at T1 / T2 exactly and the wait
/// is a function of the lease alone.
pub(crate) fn v4_half_remaining(remaining: Duration) -> Duration {
    (remaining / 2).max(Duration::from_secs(60))
}

/// The parameters of one RFC 8415 (section 15) retransmission schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct V6Schedule {
    /// Initial retransmission time.
    pub irt: Duration,
    /// Maximum retransmission time; zero is no maximum.
    pub mrt: Duration,
    /// Maximum number of transmissions; zero is no maximum.
    pub mrc: u32,
}

impl V6Schedule {
    /// The schedule with its MRT lowered to `resend_max` (the operator's bound
    /// on how long the client goes quiet), which also gives the unbounded
    /// schedules a bound.
    pub(crate) fn capped(self, resend_max: Duration) -> V6Schedule {
        let mrt = if self.mrt.is_zero() {
            resend_max
        } else {
            self.mrt.min(resend_max)
        };
        V6Schedule { mrt, ..self }
    }
}

/// RFC 8415 section 15: RT = IRT + RAND*IRT for the first wait, then
/// RT = 2*RTprev + RAND*RTprev, and RT = MRT + RAND*MRT once it passes MRT;
/// RAND is uniform in [-0.1, 0.1]. `positive` asks for RAND > 0, which the RFC
/// requires of the first Solicit's wait (section 18.2.1) so that the client
/// always collects Advertises for at least IRT.
pub(crate) fn v6_rt(
    prev: Option<Duration>,
    schedule: V6Schedule,
    positive: bool,
    rng: &mut Rng,
) -> Duration {
    let mut rt = match prev {
        None => {
            millis(schedule.irt).saturating_add_signed(jitter(millis(schedule.irt), positive, rng))
        }
        Some(prev) => {
            let prev = millis(prev);
            prev.saturating_mul(2)
                .saturating_add_signed(jitter(prev, false, rng))
        }
    };
    let mrt = millis(schedule.mrt);
    if mrt > 0 && rt > mrt {
        rt = mrt.saturating_add_signed(jitter(mrt, false, rng));
    }
    Duration::from_millis(rt.max(1))
}

/// `RAND*base` with RAND in [-0.1, 0.1] (in thousandths), or in (0, 0.1]
/// when `positive`.
fn jitter(base: u64, positive: bool, rng: &mut Rng) -> i64 {
    let permille = if positive {
        1 + (rng.next_u64() % 100) as i64
    } else {
        rng.symmetric(100)
    };
    (i128::from(base) * i128::from(permille) / 1000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn dhcp_v4_backoff_doubles_from_4s_to_the_cap_with_1s_jitter() {
        let mut rng = Rng::new(3);
        for (attempt, base) in [(0, 4), (1, 8), (2, 16), (3, 32), (4, 62), (5, 62), (40, 62)] {
            for _ in 0..50 {
                let d = v4_retransmit(attempt, 62 * S, &mut rng);
                assert!(
                    d >= (base - 1) * S && d <= (base + 1) * S,
                    "{attempt}: {d:?}"
                );
            }
        }
        // A tiny cap still gives a positive interval.
        for _ in 0..50 {
            let d = v4_retransmit(3, Duration::from_millis(10), &mut rng);
            assert!(d >= Duration::from_millis(5) && d <= Duration::from_millis(15));
        }
    }

    #[test]
    fn dhcp_v4_renewing_waits_half_the_remaining_time_but_60s_at_least() {
        assert_eq!(v4_half_remaining(1000 * S), 500 * S);
        assert_eq!(v4_half_remaining(100 * S), 60 * S);
        assert_eq!(v4_half_remaining(Duration::ZERO), 60 * S);
    }

    #[test]
    fn dhcp_v6_rt_follows_rfc8415_section_15() {
        let sol = V6Schedule {
            irt: S,
            mrt: 3600 * S,
            mrc: 0,
        }
        .capped(62 * S);
        assert_eq!(sol.mrt, 62 * S);
        let mut rng = Rng::new(9);
        for _ in 0..200 {
            let first = v6_rt(None, sol, true, &mut rng);
            assert!(
                first > S && first <= Duration::from_millis(1100),
                "{first:?}"
            );
            let any_first = v6_rt(None, sol, false, &mut rng);
            assert!(
                any_first >= Duration::from_millis(900) && any_first <= Duration::from_millis(1100)
            );
            let next = v6_rt(Some(10 * S), sol, false, &mut rng);
            assert!(next >= 19 * S && next <= 21 * S, "{next:?}");
            let capped = v6_rt(Some(40 * S), sol, false, &mut rng);
            assert!(
                capped >= Duration::from_millis(55_800) && capped <= Duration::from_millis(68_200),
                "{capped:?}"
            );
        }
    }
}
