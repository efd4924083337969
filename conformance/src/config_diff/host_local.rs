//! host-local under the fuzzer: ADD, ADD, CHECK, DEL, ADD, DEL of an ID never
//! added, on our binary and the reference's, each with its own data
//! directory. host-local touches only files, so no namespace is needed.

use super::rng::Rng;
use super::steps::{compare, ProcessSide};
use super::{grammar, seeds, Case, Difference, Kind, Target};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const STEPS: [(&str, &str); 6] = [
    ("ADD", "c1"),
    ("ADD", "c2"),
    ("CHECK", "c1"),
    ("DEL", "c1"),
    ("ADD", "c3"),
    ("DEL", "never-added"),
];

pub struct HostLocal {
    pub ours: PathBuf,
    pub reference: PathBuf,
    seeds: Vec<Value>,
}

impl HostLocal {
    pub fn new(ours: PathBuf, reference: PathBuf) -> HostLocal {
        HostLocal {
            ours,
            reference,
            seeds: seeds::load(Path::new(seeds::REFERENCE_TESTS)),
        }
    }

    /// Whether the reference's test configurations were found to mutate.
    pub fn has_seeds(&self) -> bool {
        !self.seeds.is_empty()
    }
}

/// The reference's files of the network (ours keep an index beside them).
fn leases(side: &ProcessSide<'_>) -> BTreeMap<String, String> {
    let Ok(dir) = std::fs::read_dir(side.data.join("fuzznet")) else {
        return BTreeMap::new();
    };
    dir.filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()) && e.file_name() != "lock")
        .map(|e| {
            let body = std::fs::read_to_string(e.path()).unwrap_or_default();
            (e.file_name().to_string_lossy().into_owned(), body)
        })
        .collect()
}

impl Target for HostLocal {
    fn name(&self) -> &'static str {
        "host-local"
    }

    /// Three in four cases from the grammar, the rest mutated reference tests.
    fn generate(&self, rng: &mut Rng) -> Case {
        if rng.chance(25) {
            if let Some(case) = seeds::mutate(&self.seeds, rng) {
                return case;
            }
        }
        grammar::generate(rng)
    }

    fn run(&mut self, case: &Case) -> std::io::Result<Option<Difference>> {
        let dir = tempfile::tempdir()?;
        let mut ours = ProcessSide::new(&self.ours, dir.path().join("ours"));
        let mut reference = ProcessSide::new(&self.reference, dir.path().join("ref"));
        for (step, (verb, id)) in STEPS.iter().enumerate() {
            let o = ours.step(case, verb, id)?;
            let r = reference.step(case, verb, id)?;
            let found = compare(step, verb, &o, &r).or_else(|| {
                let (ol, rl) = (leases(&ours), leases(&reference));
                (ol != rl).then(|| {
                    (
                        Kind::State,
                        format!("after step {step} {verb}: ours {ol:?} reference {rl:?}"),
                    )
                })
            });
            if let Some(found) = found {
                return Ok(Some(Difference::new(step, verb, found, o, r)));
            }
        }
        Ok(None)
    }
}
