//! Results of any version: never panic; every conversion either succeeds
//! and re-parses, or is a typed error.
#![no_main]

use cni_core::spec::version::ALL;
use cni_core::spec::CniResult;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(result) = CniResult::parse(data) else {
        return;
    };
    for v in ALL {
        if let Ok(json) = result.to_json_at(v) {
            let back = CniResult::parse(json.as_bytes()).expect("our own output parses");
            assert_eq!(back.to_json_at(v).expect("re-render"), json);
        }
    }
});
