//! `vlan`, `vlanTrunk`, `preserveDefaultVlan`: the reference tags the host
//! veth (and trunks VLANs) with bridge VLAN filtering. cni-rs does not
//! implement VLAN filtering, so a config that asks for it is refused rather
//! than silently left untagged; one that asks for nothing, in the
//! reference's own sense of "not set", is accepted.

use cni_core::spec::config::{ConfigError, Fields};

const UNSUPPORTED: &str =
    "not supported: cni-rs does not implement bridge VLAN filtering, so the port would stay untagged";

/// Refuses any VLAN the reference would configure.
pub fn refuse_vlans(f: &Fields) -> Result<(), ConfigError> {
    // The reference treats 0 as "no VLAN" and refuses outside 0..=4094.
    match f.get::<i64>("vlan")? {
        None | Some(0) => {}
        Some(id @ 1..=4094) => {
            return Err(ConfigError::invalid(
                "vlan",
                format!("VLAN {id} {UNSUPPORTED} (leave vlan out or 0)"),
            ))
        }
        Some(id) => {
            return Err(ConfigError::invalid(
                "vlan",
                format!("invalid VLAN ID {id} (must be between 0 and 4094)"),
            ))
        }
    }
    // Any list, even an empty one, turns VLAN filtering on in the reference.
    if f.field("vlanTrunk").is_some() {
        return Err(ConfigError::invalid(
            "vlanTrunk",
            format!("{UNSUPPORTED} (leave vlanTrunk out)"),
        ));
    }
    // Without a VLAN or a trunk the reference ignores it; only its type is checked.
    f.flag("preserveDefaultVlan")?;
    Ok(())
}
