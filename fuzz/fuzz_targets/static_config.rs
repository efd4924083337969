#![no_main]
//! static's configuration: any bytes, any CNI_ARGS, never a panic; an
//! accepted configuration's ADD result renders at its version and reads back
//! (the oracle is `cni_plugins::static_ipam::fuzz`, which the corpus replay
//! in plugins/tests/static_config_corpus.rs runs too).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cni_plugins::static_ipam::fuzz::check_input(data);
});
