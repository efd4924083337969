//! Replays the `static_config` fuzz corpus through the fuzz target's oracle,
//! so every run checks what the fuzzer found worth keeping.

use cni_plugins::static_ipam::fuzz::check_input;
use std::path::Path;

#[test]
fn every_corpus_input_keeps_the_oracle_and_both_outcomes_occur() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/static_config");
    let (mut accepted, mut refused) = (0, 0);
    for entry in std::fs::read_dir(&dir).expect("the corpus directory") {
        let path = entry.expect("a corpus entry").path();
        let data = std::fs::read(&path).expect("a corpus file");
        if check_input(&data) {
            accepted += 1;
        } else {
            refused += 1;
        }
    }
    assert!(
        accepted >= 5 && refused >= 3,
        "corpus at {}: {accepted} accepted, {refused} refused",
        dir.display()
    );
}
