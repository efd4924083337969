//! Configs and lists: never panic; every refusal names a field or the
//! document, and a plugin's keys stay readable as they were written.
#![no_main]

use cni_core::libcni::NetworkConfigList;
use cni_core::spec::config::NetConf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match NetConf::parse(data) {
        Ok(conf) => {
            let _ = conf.previous_result();
            let _ = conf.valid_attachments();
            let _ = conf.requested_mac("");
        }
        Err(e) => assert!(e.code() == 6 || !e.field().is_empty(), "{e}"),
    }
    if let Ok(list) = NetworkConfigList::from_bytes(data, "fuzz") {
        assert!(!list.plugins.is_empty());
        for p in &list.plugins {
            assert!(!p.plugin_type().is_empty());
        }
    }
});
