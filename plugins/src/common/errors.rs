//! Backend errors become CNI errors that say which step failed.

use cni_core::error::code;
use cni_core::net::{NetError, NetErrorKind, NetResult};
use cni_core::CniError;

/// Maps a backend error to a CNI error whose message starts with `context`.
/// Kernel refusals are I/O failures (code 5); a busy kernel is "try again later" (11).
pub fn net_err(context: &str, e: NetError) -> CniError {
    let c = match e.kind {
        NetErrorKind::Busy => code::TRY_AGAIN_LATER,
        _ => code::IO_FAILURE,
    };
    CniError::new(c, format!("{context}: {e}"))
}

/// `.ctx("creating veth")?` on any backend result.
pub trait NetContext<T> {
    fn ctx(self, context: &str) -> Result<T, CniError>;
}

impl<T> NetContext<T> for NetResult<T> {
    fn ctx(self, context: &str) -> Result<T, CniError> {
        self.map_err(|e| net_err(context, e))
    }
}
