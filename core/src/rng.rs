//! A small PRNG (SplitMix64), deterministic from its seed, not for secrets.
//!
//! The DHCP machines' transaction ids and retransmission jitter only need to
//! differ between clients and exchanges, not to be unpredictable to an
//! attacker on the link (an on-link attacker sees the xid in the clear
//! anyway); seeding from `ClientOptions::seed` makes every test run identical,
//! and the daemon seeds it from the OS. The cluster allocator seeds it from a
//! hash of node and attachment, so concurrent allocators spread over a pool.

#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn next_u32(&mut self) -> u32 {
        // The high half of SplitMix64's output is its best-mixed part.
        (self.next_u64() >> 32) as u32
    }

    /// In `0..n` (n > 0), uniform enough for spreading over any range.
    pub fn below(&mut self, n: u128) -> u128 {
        let wide = (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64());
        wide % n.max(1)
    }

    /// Uniform in `-span..=span` (span well below 2^62, as jitter spans are).
    pub fn symmetric(&mut self, span: u64) -> i64 {
        let width = span.saturating_mul(2).saturating_add(1);
        let offset = self.next_u64() % width;
        offset as i64 - span as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_bounded() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        assert_eq!(a.next_u64(), b.next_u64());
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
        for _ in 0..1000 {
            let j = a.symmetric(1000);
            assert!((-1000..=1000).contains(&j));
        }
        assert_eq!(a.symmetric(0), 0);
    }
}
