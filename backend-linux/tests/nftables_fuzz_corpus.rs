//! Replays the committed corpora of the nftables fuzz targets (rules as a
//! dump gives them), so CI checks on stable what the fuzzer checks.

use cni_backend_linux::nftables::fuzz::TARGETS;
use cni_core::fuzz::replay_corpus;

#[test]
fn every_nftables_fuzz_corpus_replays_and_reaches_both_outcomes() {
    for (target, oracle) in TARGETS {
        replay_corpus(env!("CARGO_MANIFEST_DIR"), target, *oracle);
    }
}
