//! Backend errors become CNI errors that say which step failed: `.ctx(step)`
//! on any backend result is the one way plugins convert them.

use cni_core::error::code;
use cni_core::net::{NetError, NetErrorKind, NetResult};
use cni_core::CniError;

/// Kernel refusals are I/O failures (code 5); a busy kernel is "try again
/// later" (11). The message starts with the step.
fn from_net(step: &str, e: NetError) -> CniError {
    let c = match e.kind {
        NetErrorKind::Busy => code::TRY_AGAIN_LATER,
        _ => code::IO_FAILURE,
    };
    CniError::new(c, format!("{step}: {e}"))
}

/// `.ctx("creating veth")?` on any backend result.
pub trait NetContext<T> {
    fn ctx(self, step: &str) -> Result<T, CniError>;
}

impl<T> NetContext<T> for NetResult<T> {
    fn ctx(self, step: &str) -> Result<T, CniError> {
        self.map_err(|e| from_net(step, e))
    }
}

/// For look-ups and removals where "already gone" counts as done: `Ok(None)`
/// for not found, any other failure converted as `.ctx` does.
pub trait AbsentOk<T> {
    fn absent_ok(self, step: &str) -> Result<Option<T>, CniError>;
}

impl<T> AbsentOk<T> for NetResult<T> {
    fn absent_ok(self, step: &str) -> Result<Option<T>, CniError> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(from_net(step, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_is_code_11_other_failures_5_and_absent_is_none() {
        let busy: NetResult<()> = Err(NetError::new(NetErrorKind::Busy, "EBUSY"));
        let e = busy.ctx("creating veth").unwrap_err();
        assert_eq!((e.code, e.msg.starts_with("creating veth: ")), (11, true));
        let denied: NetResult<()> = Err(NetError::new(NetErrorKind::Permission, "EPERM"));
        assert_eq!(denied.ctx("x").unwrap_err().code, 5);
        let gone: NetResult<u32> = Err(NetError::new(NetErrorKind::NotFound, "ENOENT"));
        assert_eq!(gone.absent_ok("x"), Ok(None));
        let other: NetResult<u32> = Err(NetError::new(NetErrorKind::Other, "EIO"));
        assert_eq!(other.absent_ok("x").unwrap_err().code, 5);
    }
}
