#![no_main]
//! A .conflist and a single .conf file, and the stdin built for each plugin.
//! The oracle, `cni_core::fuzz::conf_files`, also replays this target's corpus on stable.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cni_core::fuzz::conf_files(data);
});
