//! A differential fuzzer for configuration handling: generated and mutated
//! network configurations run through our plugin and the reference one with
//! identical environments, each side with its own data directory; outcome,
//! result and on-disk state are compared after every step, and every
//! difference is classified against the reviewed list in [`deliberate`].
//!
//! Targets: host-local and static (files only, no namespace), bridge, ptp
//! and macvlan ([`main_plugins`]: real namespaces, kernel state as
//! `crate::realns::TestNet::state` normalizes it), and the chained plugins
//! portmap, firewall, tuning, bandwidth and sbr ([`chained`]: a synthetic
//! `prevResult` naming links made in real namespaces). Another plugin plugs
//! in by implementing [`Target`] and a generator for its configs.

pub mod chained;
pub mod chained_grammar;
pub mod deliberate;
pub mod exec;
pub mod grammar;
pub mod host_local;
pub mod main_grammar;
pub mod main_plugins;
pub mod reference_seeds;
pub mod rng;
pub mod seeds;
pub mod static_grammar;
pub mod static_ipam;
pub mod steps;
pub mod targets;

use exec::Outcome;
use rng::Rng;

/// One generated input: the config (`@DATADIR@` stands for each side's data
/// directory) and `CNI_ARGS`.
#[derive(Debug, Clone)]
pub struct Case {
    /// The plugin under test (`type` may name another: static is an IPAM plugin).
    pub plugin: &'static str,
    /// `CNI_IFNAME` (the IPAM plugins always get `eth0`).
    pub ifname: &'static str,
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

impl Difference {
    /// The difference `found` at `step`, with both sides' outcomes.
    pub fn new(
        step: usize,
        verb: &'static str,
        (kind, detail): (Kind, String),
        ours: Outcome,
        reference: Outcome,
    ) -> Difference {
        Difference {
            step,
            verb,
            kind,
            ours,
            reference,
            detail,
        }
    }
}

/// A plugin under test: runs one case's sequence on both sides.
pub trait Target {
    fn name(&self) -> &'static str;
    /// The next case from `rng`.
    fn generate(&self, rng: &mut Rng) -> Case;
    /// Runs the case on both sides; the first difference, if any.
    fn run(&mut self, case: &Case) -> std::io::Result<Option<Difference>>;
}

#[derive(Debug, Default)]
pub struct Report {
    pub cases: usize,
    pub same: usize,
    /// Deliberate differences by entry id.
    pub deliberate: std::collections::BTreeMap<&'static str, usize>,
    /// Reported bugs of ours ([`deliberate::KNOWN_BUGS`]) by id.
    pub known_bugs: std::collections::BTreeMap<&'static str, usize>,
    /// Differences no entry explains: bugs.
    pub unexplained: Vec<(Case, Difference)>,
    /// The first case of each reviewed difference, for review.
    pub examples: std::collections::BTreeMap<&'static str, (Case, Difference)>,
}

impl Report {
    /// Cases where both sides were compared and agreed or differed only as
    /// reviewed: what a run actually checked.
    pub fn compared(&self) -> usize {
        self.cases - self.unexplained.len()
    }
}

/// Runs `cases` cases of `target` from `seed`.
pub fn fuzz(target: &mut dyn Target, cases: usize, seed: u64) -> std::io::Result<Report> {
    let mut rng = Rng::new(seed);
    let mut report = Report::default();
    for _ in 0..cases {
        let case = target.generate(&mut rng);
        report.cases += 1;
        let Some(d) = target.run(&case)? else {
            report.same += 1;
            continue;
        };
        let id = if let Some(entry) = deliberate::explain(&case, &d) {
            *report.deliberate.entry(entry.id).or_default() += 1;
            entry.id
        } else if explained_without(target, &case, deliberate::upstream_keys(case.plugin))? {
            *report.deliberate.entry(UPSTREAM_KEYS_READ).or_default() += 1;
            UPSTREAM_KEYS_READ
        } else if let Some(bug) = deliberate::known_bug(&case, &d) {
            *report.known_bugs.entry(bug.id).or_default() += 1;
            bug.id
        } else {
            report.unexplained.push((case, d));
            continue;
        };
        report.examples.entry(id).or_insert((case, d));
    }
    Ok(report)
}

/// The deliberate entry for keys of later upstream releases.
const UPSTREAM_KEYS_READ: &str = "upstream-keys-read";

/// Whether the case without `keys` (it holds one) agrees, or differs only
/// as reviewed.
fn explained_without(
    target: &mut dyn Target,
    case: &Case,
    keys: &[&'static str],
) -> std::io::Result<bool> {
    match deliberate::without_keys(case, keys) {
        Some((_, without)) => agrees_or_reviewed(target, &without),
        None => Ok(false),
    }
}

/// Whether both sides agree on `case`, or differ only as reviewed.
fn agrees_or_reviewed(target: &mut dyn Target, case: &Case) -> std::io::Result<bool> {
    Ok(match target.run(case)? {
        None => true,
        Some(d) => deliberate::explain(case, &d).is_some(),
    })
}
