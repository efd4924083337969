//! A small deterministic generator (splitmix64): a seed names a run exactly,
//! on any machine, with no dependency.

pub struct Rng(cni_core::rng::Rng);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(cni_core::rng::Rng::new(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
