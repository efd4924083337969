//! One process the benchmark starts, run either timed (untraced) or traced
//! (for peak memory only), and how the processes of one verb add up.

use super::measure::run_timed_with_output;
use super::memory::{run_traced_with_output, PeakRss};
use std::path::PathBuf;
use std::time::Duration;

/// How a verb is run: timed and untraced, or under ptrace for its peak RSS
/// (tracing slows it down, so its wall time means nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    Timed,
    Traced,
}

/// A process to start: exactly this environment, `stdin` as its input.
#[derive(Debug, Clone)]
pub struct Step {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub stdin: Vec<u8>,
}

impl Step {
    /// A program with arguments and no environment (`ip`, `nft`).
    pub fn tool(program: &str, args: &[&str], stdin: impl Into<Vec<u8>>) -> Step {
        Step {
            program: PathBuf::from(program),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
            stdin: stdin.into(),
        }
    }

    pub fn run(&self, probe: Probe) -> Result<Outcome, String> {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        match probe {
            Probe::Timed => {
                let (sample, stdout) =
                    run_timed_with_output(&self.program, &args, &self.env, &self.stdin)?;
                Ok(Outcome {
                    wall: sample.wall,
                    rss: PeakRss::default(),
                    stdout,
                })
            }
            Probe::Traced => {
                let (rss, stdout) =
                    run_traced_with_output(&self.program, &args, &self.env, &self.stdin)?;
                Ok(Outcome {
                    wall: Duration::ZERO,
                    rss,
                    stdout,
                })
            }
        }
    }
}

/// What one verb cost: wall time summed over its processes, the largest peak
/// among them (they run one after the other), and the last one's stdout.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub wall: Duration,
    pub rss: PeakRss,
    pub stdout: Vec<u8>,
}

impl Outcome {
    /// Runs `steps` in order; a verb made of several processes (the floor's).
    pub fn of_steps(steps: &[Step], probe: Probe) -> Result<Outcome, String> {
        let mut total = Outcome::default();
        for step in steps {
            let one = step.run(probe)?;
            total.wall += one.wall;
            total.rss = total.rss.max(one.rss);
            total.stdout = one.stdout;
        }
        Ok(total)
    }
}
