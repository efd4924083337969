//! The last step of every ADD before its undo guard is committed: the result
//! in its final form, proven writable at the config's version. skel renders
//! it only after the plugin returned, when nothing can be taken back any
//! more; a result the runtime cannot be given must fail the ADD while the
//! undo still runs (a layer-2 result has no address a 0.2.0 document needs).

use super::CommonConf;
use cni_core::{CniError, CniResult};

/// The config's `dns` laid over the result, at the config's version, checked.
pub fn finish(conf: &CommonConf, result: CniResult) -> Result<CniResult, CniError> {
    deliverable(conf.finish(result))
}

/// `result` unchanged when it converts to its own `cni_version`.
pub fn deliverable(result: CniResult) -> Result<CniResult, CniError> {
    result
        .to_value_at(&result.cni_version)
        .map_err(|e| CniError::from(e).with_details("converting the ADD result"))?;
    Ok(result)
}
