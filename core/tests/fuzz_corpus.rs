//! Replays the committed corpus of each fuzz target whose oracle is in
//! cni-core, so CI checks on stable what the fuzzer checks.

use cni_core::fuzz::{replay_corpus, TARGETS};

#[test]
fn every_core_fuzz_corpus_replays_and_reaches_both_outcomes() {
    for (target, oracle) in TARGETS {
        replay_corpus(env!("CARGO_MANIFEST_DIR"), target, *oracle);
    }
}

#[cfg(feature = "dhcp")]
#[test]
fn every_dhcp_fuzz_corpus_replays_and_reaches_both_outcomes() {
    for (target, oracle) in cni_core::fuzz::DHCP_TARGETS {
        replay_corpus(env!("CARGO_MANIFEST_DIR"), target, *oracle);
    }
}
