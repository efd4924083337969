//! Documents a plugin reads from another process — its config on stdin, a
//! delegate's result on its stdout — are bounded, so a runaway writer cannot
//! make a plugin hold unbounded memory.

use std::io::Read;

/// The largest document read: far above any real config or result.
pub const MAX_DOCUMENT_BYTES: usize = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum CappedReadError {
    #[error("larger than the {} limit", describe_limit(*.limit))]
    TooLarge { limit: usize },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Everything `reader` yields, or `TooLarge` as soon as it passes `limit`
/// bytes (reading stops there).
pub fn read_capped(reader: &mut dyn Read, limit: usize) -> Result<Vec<u8>, CappedReadError> {
    let mut data = Vec::new();
    let allowed = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(allowed).read_to_end(&mut data)?;
    if data.len() > limit {
        return Err(CappedReadError::TooLarge { limit });
    }
    Ok(data)
}

/// A limit as people read it: whole MiB when it is, else bytes.
fn describe_limit(limit: usize) -> String {
    const MIB: usize = 1 << 20;
    if limit >= MIB && limit % MIB == 0 {
        format!("{} MiB", limit / MIB)
    } else {
        format!("{limit} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_the_limit_is_read_and_one_byte_more_is_refused() {
        let ten = [b'x'; 10];
        assert_eq!(read_capped(&mut &ten[..], 10).unwrap(), ten);
        let e = read_capped(&mut &ten[..], 9).unwrap_err();
        assert_eq!(e.to_string(), "larger than the 9 bytes limit");
        let e = CappedReadError::TooLarge {
            limit: MAX_DOCUMENT_BYTES,
        };
        assert_eq!(e.to_string(), "larger than the 16 MiB limit");
    }
}
