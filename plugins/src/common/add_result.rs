//! The last step of every ADD before its undo guard is committed: the result
//! in its final form, proven writable at the config's version. skel renders
//! it only after the plugin returned, when nothing can be taken back any
//! more; a result the runtime cannot be given must fail the ADD while the
//! undo still runs (a layer-2 result has no address a 0.2.0 document needs).

use super::{iface, CommonConf, NetContext};
use cni_core::net::{LinkInfo, Netns};
use cni_core::{CniError, CniResult};

/// The end of an ADD whose one interface is `link` in the container
/// (macvlan, host-device): its addresses, up and routes from `result`
/// (interface 0), the link as configured read back as the result's
/// interface (a failed read fails ADD, and undoes it), then [`finish`].
pub fn single_container_interface(
    conf: &CommonConf,
    container: &dyn Netns,
    link: &LinkInfo,
    mut result: CniResult,
    netns: &str,
) -> Result<CniResult, CniError> {
    iface::configure(container, link, &result, 0, iface::Dad::Skip)?;
    let link = container
        .link_by_index(link.index)
        .ctx(&format!("looking up {}", link.name))?;
    result.interfaces = vec![iface::container_interface(&link, netns)];
    finish(conf, result)
}

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
