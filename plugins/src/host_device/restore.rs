//! DEL's way back: the device out of the container under its host name,
//! then what the host had on it (`saved::HostState`).

use super::saved::HostState;
use crate::common::NetContext;
use cni_core::net::{LinkInfo, NetErrorKind, Netns, NsRef};
use cni_core::CniError;

/// Takes the device at `index` in the container back to the host under its
/// host name, with its alias, addresses and up state as they were.
pub(super) fn move_out(
    container: &dyn Netns,
    host: &dyn Netns,
    index: u32,
    state: &HostState,
) -> Result<(), CniError> {
    let name = &state.name;
    container
        .set_up(index, false)
        .ctx(&format!("setting device {name} down"))?;
    container
        .rename(index, name)
        .ctx(&format!("renaming the device back to {name}"))?;
    container
        .set_alias(index, state.alias.as_deref().unwrap_or(""))
        .ctx(&format!("restoring the alias of {name}"))?;
    let back = container
        .move_to(index, &NsRef::Current)
        .ctx(&format!("moving {name} back to the host"))?;
    restore(host, &back, state)
}

/// The device's host addresses, up state and routes back (an address or
/// route already there counts as restored). A route the host no longer
/// takes (its gateway unreachable now, say) is logged and left: it must not
/// make DEL fail for ever; any other failure fails DEL, whose retry finishes.
pub(super) fn restore(
    host: &dyn Netns,
    link: &LinkInfo,
    state: &HostState,
) -> Result<(), CniError> {
    for spec in state.address_specs()? {
        match host.add_address(link.index, &spec) {
            Err(e) if e.kind == NetErrorKind::Exists => {}
            other => other.ctx(&format!("restoring address {} of {}", spec.addr, link.name))?,
        }
    }
    if state.up && !link.up {
        host.set_up(link.index, true)
            .ctx(&format!("setting {} up again", link.name))?;
    }
    for saved in &state.routes {
        let spec = saved.spec(link.index, &link.name)?;
        match host.add_route(&spec) {
            Ok(()) => {}
            Err(e) if e.kind == NetErrorKind::Exists => {}
            // What the host no longer takes: a retry would not change it.
            Err(e)
                if matches!(
                    e.kind,
                    NetErrorKind::Unreachable | NetErrorKind::Invalid | NetErrorKind::NotFound
                ) =>
            {
                tracing::warn!(
                    "not restoring route {} of {} (gateway {:?}): {e}",
                    saved.dst,
                    link.name,
                    saved.gateway
                )
            }
            other => other.ctx(&format!("restoring route {} of {}", saved.dst, link.name))?,
        }
    }
    Ok(())
}
