//! CNI_ARGS: never panic; what parses renders back to the same string.
#![no_main]

use cni_core::spec::args::{load_args, CniArgs, IpMacArgs, K8sArgs};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(args) = CniArgs::parse(raw) {
        assert_eq!(args.to_env_string(), raw);
        let _ = args.check_known(&["IP", "MAC"]);
    }
    let _ = load_args::<IpMacArgs>(raw);
    let _ = load_args::<K8sArgs>(raw);
});
