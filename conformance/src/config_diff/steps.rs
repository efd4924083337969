//! What every target shares: a side that runs one binary with no namespace
//! (IPAM plugins touch only files), `prevResult` for CHECK, and the
//! comparison of two outcomes (success, error class, result).

use super::exec::{invoke, Invocation, Outcome};
use super::{Case, Kind};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One side of a target that needs no namespace: its binary, its data
/// directory (`@DATADIR@`), its first ADD's result.
pub struct ProcessSide<'a> {
    pub bin: &'a Path,
    pub data: PathBuf,
    first_result: Option<Value>,
}

impl ProcessSide<'_> {
    pub fn new(bin: &Path, data: PathBuf) -> ProcessSide<'_> {
        ProcessSide {
            bin,
            data,
            first_result: None,
        }
    }

    /// Runs `verb` for container `id`; CHECK carries the first ADD's result.
    pub fn step(&mut self, case: &Case, verb: &str, id: &str) -> std::io::Result<Outcome> {
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
        if let (Outcome::Ok(v), "c1", "ADD", None) = (&out, id, verb, &self.first_result) {
            self.first_result = Some(v.clone());
        }
        Ok(out)
    }
}

/// The config with `prevResult` set, as a runtime sends it to CHECK (left
/// as it is when there is no result or the config is not an object).
pub fn with_prev_result(conf: &str, prev: Option<&Value>) -> String {
    match (serde_json::from_str::<Value>(conf), prev) {
        (Ok(Value::Object(mut map)), Some(prev)) => {
            map.insert("prevResult".into(), prev.clone());
            Value::Object(map).to_string()
        }
        _ => conf.to_string(),
    }
}

/// What kind of failure a code reports. Codes the spec gives a meaning a
/// runtime acts on must agree; every other failure is one class, since we
/// give configuration errors 6/7 where the reference says 999.
fn error_class(code: u64) -> &'static str {
    match code {
        1 => "incompatible version",
        3 => "unknown container",
        4 => "invalid environment",
        11 => "try again later",
        50 | 51 => "not available",
        _ => "failure",
    }
}

/// The first way two outcomes of one step differ, if any.
pub fn compare(
    step: usize,
    verb: &'static str,
    ours: &Outcome,
    reference: &Outcome,
) -> Option<(Kind, String)> {
    match (ours, reference) {
        (Outcome::Ok(o), Outcome::Ok(r)) if o != r => Some((
            Kind::Result,
            format!("step {step} {verb}: ours {o} reference {r}"),
        )),
        (Outcome::Ok(_), Outcome::Ok(_)) => None,
        (Outcome::Error { code: o, .. }, Outcome::Error { code: r, .. })
            if error_class(*o) == error_class(*r) =>
        {
            None
        }
        _ => Some((
            Kind::Outcome,
            format!("step {step} {verb}: ours {ours:?} reference {reference:?}"),
        )),
    }
}

/// One implementation's side of a target with kernel state (its namespaces).
pub trait KernelSide: Sync {
    /// Back to the state every case starts from.
    fn reset(&self);
    /// One verb, with `prev` (this side's ADD result) for the later verbs:
    /// the outcome, a result normalized, and the raw result.
    fn step(&self, case: &Case, verb: &str, prev: Option<&Value>) -> (Outcome, Option<Value>);
    /// What the case's plugin changes, normalized: an object of parts.
    fn state(&self, case: &Case) -> Value;
}

/// `f` on both sides at once (ours, then the reference's).
fn both<K: KernelSide, T: Send>(ours: &K, reference: &K, f: impl Fn(&K) -> T + Sync) -> (T, T) {
    std::thread::scope(|s| {
        let theirs = s.spawn(|| f(reference));
        let mine = f(ours);
        (mine, theirs.join().expect("the reference side panicked"))
    })
}

/// [`super::static_ipam::VERBS`] through both sides at once, each from a
/// reset: outcomes compared after every step, and the state after ADD and
/// after the last DEL, naming the parts that differ. The first difference.
pub fn run_both<K: KernelSide>(ours: &K, reference: &K, case: &Case) -> Option<super::Difference> {
    use super::static_ipam::VERBS;
    both(ours, reference, K::reset);
    let (mut ours_prev, mut ref_prev) = (None, None);
    for (step, verb) in VERBS.iter().enumerate() {
        let ((o, o_raw), (r, r_raw)) = std::thread::scope(|s| {
            let theirs = s.spawn(|| reference.step(case, verb, ref_prev.as_ref()));
            let mine = ours.step(case, verb, ours_prev.as_ref());
            (mine, theirs.join().expect("the reference side panicked"))
        });
        if step == 0 {
            (ours_prev, ref_prev) = (o_raw, r_raw);
        }
        let compares_state = step == 0 || step == VERBS.len() - 1;
        let found = compare(step, verb, &o, &r).or_else(|| {
            if !compares_state {
                return None;
            }
            let (o, r) = both(ours, reference, |k| k.state(case));
            state_difference(step, verb, &o, &r)
        });
        if let Some(found) = found {
            return Some(super::Difference::new(step, verb, found, o, r));
        }
    }
    None
}

/// The parts of two states that differ, if any.
fn state_difference(step: usize, verb: &str, o: &Value, r: &Value) -> Option<(Kind, String)> {
    let parts: Vec<&str> = o
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, v)| r.get(k.as_str()) != Some(*v))
        .map(|(k, _)| k.as_str())
        .collect();
    (o != r).then(|| {
        (
            Kind::State,
            format!("after step {step} {verb}: {parts:?} differ: ours {o} reference {r}"),
        )
    })
}
