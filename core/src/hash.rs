//! FNV-1a, 64 bits: a stable hash (across versions and platforms) for names
//! that end up in persistent state or must spread the same way on every node.

/// Hashes `parts` as one sequence, a separator between parts so that
/// ("ab","c") and ("a","bc") differ.
pub fn fnv1a64(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            // A separator byte no name contains.
            h = (h ^ 0xff).wrapping_mul(0x0100_0000_01b3);
        }
        for b in *part {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}
