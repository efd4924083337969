//! host-local under the fuzzer: ADD, ADD, CHECK, DEL, ADD, DEL of an ID never
//! added, on our binary and the reference's, each with its own data
//! directory. host-local touches only files, so no namespace is needed.

use super::exec::{invoke, Invocation, Outcome};
use super::rng::Rng;
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

/// One side: its binary, its data directory, its first ADD's result.
struct Side<'a> {
    bin: &'a Path,
    data: PathBuf,
    first_result: Option<Value>,
}

impl Side<'_> {
    fn step(&mut self, case: &Case, verb: &str, id: &str) -> std::io::Result<Outcome> {
        let mut conf = case
            .config
            .replace("@DATADIR@", &self.data.to_string_lossy());
        if verb == "CHECK" {
            conf = with_prev_result(&conf, self.first_result.as_ref());
        }
        let out = invoke(
            self.bin,
            &Invocation {
                command: verb,
                container_id: id,
                ifname: "eth0",
                netns: "/var/run/netns/config-diff-unused",
                cni_args: &case.cni_args,
                stdin: &conf,
            },
        )?;
        if let (Outcome::Ok(v), "c1", "ADD") = (&out, id, verb) {
            self.first_result = Some(v.clone());
        }
        Ok(out)
    }

    /// The reference's files of the network (ours keep an index beside them).
    fn leases(&self) -> BTreeMap<String, String> {
        let Ok(dir) = std::fs::read_dir(self.data.join("fuzznet")) else {
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
}

fn with_prev_result(conf: &str, prev: Option<&Value>) -> String {
    match (serde_json::from_str::<Value>(conf), prev) {
        (Ok(Value::Object(mut map)), Some(prev)) => {
            map.insert("prevResult".into(), prev.clone());
            Value::Object(map).to_string()
        }
        _ => conf.to_string(),
    }
}

fn compare(
    step: usize,
    verb: &'static str,
    ours: &Outcome,
    reference: &Outcome,
) -> Option<(Kind, String)> {
    match (ours, reference) {
        (Outcome::Ok(o), Outcome::Ok(r)) if o != r => {
            Some((Kind::Result, format!("ours {o} reference {r}")))
        }
        (Outcome::Ok(_), Outcome::Ok(_)) | (Outcome::Error { .. }, Outcome::Error { .. }) => None,
        _ => Some((
            Kind::Outcome,
            format!("step {step} {verb}: ours {ours:?} reference {reference:?}"),
        )),
    }
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

    fn run(&self, case: &Case) -> std::io::Result<Option<Difference>> {
        let dir = tempfile::tempdir()?;
        let mut ours = Side {
            bin: &self.ours,
            data: dir.path().join("ours"),
            first_result: None,
        };
        let mut reference = Side {
            bin: &self.reference,
            data: dir.path().join("ref"),
            first_result: None,
        };
        for (step, (verb, id)) in STEPS.iter().enumerate() {
            let o = ours.step(case, verb, id)?;
            let r = reference.step(case, verb, id)?;
            let found = compare(step, verb, &o, &r).or_else(|| {
                let (ol, rl) = (ours.leases(), reference.leases());
                (ol != rl).then(|| {
                    (
                        Kind::State,
                        format!("after step {step} {verb}: ours {ol:?} reference {rl:?}"),
                    )
                })
            });
            if let Some((kind, detail)) = found {
                return Ok(Some(Difference {
                    step,
                    verb,
                    kind,
                    ours: o,
                    reference: r,
                    detail,
                }));
            }
        }
        Ok(None)
    }
}
