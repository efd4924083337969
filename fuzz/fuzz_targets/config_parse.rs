//! Configs and lists: never panic; what parses re-emits to something that
//! parses to the same config.
#![no_main]

use cni_core::spec::config::{NetConf, NetConfList};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(conf) = NetConf::parse(data) {
        let again = NetConf::parse(&conf.to_bytes()).expect("re-emitted config parses");
        assert_eq!(again, conf);
        let _ = conf.prev_result();
    }
    if let Ok(list) = NetConfList::parse(data) {
        let bytes = serde_json::to_vec(&list.to_map()).expect("list serializes");
        let again = NetConfList::parse(&bytes).expect("re-emitted list parses");
        assert_eq!(again.plugins.len(), list.plugins.len());
    }
});
