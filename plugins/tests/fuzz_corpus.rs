//! Replays the committed corpus of each fuzz target whose oracle is in
//! cni-plugins, so CI checks on stable what the fuzzer checks.

use cni_core::fuzz::replay_corpus;
use cni_plugins::fuzz::TARGETS;

#[test]
fn every_plugin_fuzz_corpus_replays_and_reaches_both_outcomes() {
    for (target, oracle) in TARGETS {
        replay_corpus(env!("CARGO_MANIFEST_DIR"), target, *oracle);
    }
}
