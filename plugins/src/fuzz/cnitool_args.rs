//! cnitool's `CNI_ARGS` and `CAP_ARGS`. An input is CNI_ARGS, a NUL byte,
//! then CAP_ARGS.

use crate::cnitool::{parse_cap_args, parse_cni_args};
use cni_core::fuzz::split_at_nul;

/// Accepted `CNI_ARGS` pairs joined again are the text given (nothing is
/// dropped or split differently); accepted `CAP_ARGS` print and read back
/// equal.
pub fn cni_and_cap_args(data: &[u8]) -> bool {
    let (cni_args, cap_args) = split_at_nul(data);
    let mut accepted = false;
    if let Ok(pairs) = parse_cni_args(&String::from_utf8_lossy(cni_args)) {
        let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(joined.join(";"), String::from_utf8_lossy(cni_args));
        accepted = true;
    }
    if let Ok(caps) = parse_cap_args(&String::from_utf8_lossy(cap_args)) {
        let printed = serde_json::to_string(&caps).expect("a JSON object prints");
        assert_eq!(parse_cap_args(&printed).ok(), Some(caps));
        accepted = true;
    }
    accepted
}
