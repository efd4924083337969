//! A differential fuzzer for configuration handling: generated and mutated
//! network configurations run through our plugin and the reference one with
//! identical environments, each side with its own data directory; outcome,
//! result and on-disk state are compared after every step, and every
//! difference is classified against the reviewed list in [`deliberate`].
//!
//! host-local is the first [`Target`]; bridge, ptp, macvlan (kernel state, as
//! `crate::differential` compares it), `static` and the chained plugins plug
//! in by implementing [`Target`] and a generator for their configs.

pub mod deliberate;
pub mod exec;
pub mod grammar;
pub mod host_local;
pub mod rng;
pub mod seeds;

use exec::Outcome;
use rng::Rng;

/// One generated input: the config (`@DATADIR@` stands for each side's data
/// directory) and `CNI_ARGS`.
#[derive(Debug, Clone)]
pub struct Case {
    pub config: String,
    pub cni_args: String,
}

impl Case {
    pub fn version(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.config)
            .ok()
            .and_then(|v| {
                v.get("cniVersion")
                    .and_then(|s| s.as_str().map(str::to_string))
            })
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One side succeeded and the other failed (or printed no document).
    Outcome,
    /// Both succeeded with different results.
    Result,
    /// The state left behind (leases, kernel) differs.
    State,
}

/// The first point where the two sides parted; later steps follow from it.
#[derive(Debug, Clone)]
pub struct Difference {
    pub step: usize,
    pub verb: &'static str,
    pub kind: Kind,
    pub ours: Outcome,
    pub reference: Outcome,
    pub detail: String,
}

/// A plugin under test: runs one case's sequence on both sides.
pub trait Target {
    fn name(&self) -> &'static str;
    /// The next case from `rng`.
    fn generate(&self, rng: &mut Rng) -> Case;
    /// Runs the case on both sides; the first difference, if any.
    fn run(&self, case: &Case) -> std::io::Result<Option<Difference>>;
}

#[derive(Debug, Default)]
pub struct Report {
    pub cases: usize,
    pub same: usize,
    /// Deliberate differences by entry id.
    pub deliberate: std::collections::BTreeMap<&'static str, usize>,
    /// Differences no entry explains: bugs.
    pub unexplained: Vec<(Case, Difference)>,
}

/// Runs `cases` cases of `target` from `seed`.
pub fn fuzz(target: &dyn Target, cases: usize, seed: u64) -> std::io::Result<Report> {
    let mut rng = Rng::new(seed);
    let mut report = Report::default();
    for _ in 0..cases {
        let case = target.generate(&mut rng);
        report.cases += 1;
        match target.run(&case)? {
            None => report.same += 1,
            Some(d) => match deliberate::explain(&case, &d) {
                Some(entry) => *report.deliberate.entry(entry.id).or_default() += 1,
                None => report.unexplained.push((case, d)),
            },
        }
    }
    Ok(report)
}
