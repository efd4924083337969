//! static under the fuzzer: ADD, CHECK (with the ADD's result as
//! `prevResult`), DEL, DEL again, on our binary and the reference's. static
//! keeps nothing, so the outcomes and results are all there is to compare.

use super::grammar::VERSIONS;
use super::rng::Rng;
use super::steps::{compare, ProcessSide};
use super::{reference_seeds, static_grammar, Case, Difference, Target};
use serde_json::Value;
use std::path::PathBuf;

/// The verb sequence of the IPAM plugins without state and of the main plugins.
pub const VERBS: [&str; 4] = ["ADD", "CHECK", "DEL", "DEL"];

pub struct StaticIpam {
    pub ours: PathBuf,
    pub reference: PathBuf,
    seeds: Vec<Value>,
}

impl StaticIpam {
    pub fn new(ours: PathBuf, reference: PathBuf) -> StaticIpam {
        StaticIpam {
            ours,
            reference,
            seeds: reference_seeds::of("static"),
        }
    }
}

impl Target for StaticIpam {
    fn name(&self) -> &'static str {
        "static"
    }

    /// Three in four cases from the grammar, the rest mutated reference tests.
    fn generate(&self, rng: &mut Rng) -> Case {
        if rng.chance(25) {
            let version = *rng.pick(&VERSIONS);
            if let Some(conf) = reference_seeds::mutate(&self.seeds, version, rng) {
                return Case {
                    plugin: "static",
                    ifname: "eth0",
                    config: conf.to_string(),
                    cni_args: String::new(),
                };
            }
        }
        static_grammar::generate(rng)
    }

    fn run(&mut self, case: &Case) -> std::io::Result<Option<Difference>> {
        let dir = tempfile::tempdir()?;
        let mut ours = ProcessSide::new(&self.ours, dir.path().join("ours"));
        let mut reference = ProcessSide::new(&self.reference, dir.path().join("ref"));
        for (step, verb) in VERBS.iter().enumerate() {
            let o = ours.step(case, verb, "c1")?;
            let r = reference.step(case, verb, "c1")?;
            if let Some(found) = compare(step, verb, &o, &r) {
                return Ok(Some(Difference::new(step, verb, found, o, r)));
            }
        }
        Ok(None)
    }
}
