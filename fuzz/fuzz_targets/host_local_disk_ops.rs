#![no_main]
//! See `host_local_fuzz::disk_ops`: the same function replays the corpus in
//! plugins/tests/host_local_fuzz_corpus.rs.
use libfuzzer_sys::fuzz_target;

#[path = "../../plugins/tests/host_local_fuzz/mod.rs"]
mod host_local_fuzz;

fuzz_target!(|data: &[u8]| host_local_fuzz::disk_ops(data));
