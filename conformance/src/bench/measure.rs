//! Timing one process: wall time, untraced. Memory is measured in separate,
//! traced runs (see `memory`): `wait4`'s `ru_maxrss` would include the bench's
//! own RSS.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub wall: Duration,
}

/// Runs `program` with exactly `env`, `stdin` as input; fails when it exits non-zero.
pub fn run_timed(
    program: &Path,
    args: &[&str],
    env: &[(String, String)],
    stdin: &[u8],
) -> Result<Sample, String> {
    run_timed_with_output(program, args, env, stdin).map(|(sample, _)| sample)
}

/// [`run_timed`], also returning what the program printed on stdout.
pub fn run_timed_with_output(
    program: &Path,
    args: &[&str],
    env: &[(String, String)],
    stdin: &[u8],
) -> Result<(Sample, Vec<u8>), String> {
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawning {}: {e}", program.display()))?;
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin)
            .map_err(|e| format!("writing stdin of {}: {e}", program.display()))?;
    }
    let mut out = Vec::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = pipe.read_to_end(&mut out);
    }
    let mut err = Vec::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_end(&mut err);
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for {}: {e}", program.display()))?
        .code()
        .unwrap_or(-1);
    let wall = start.elapsed();
    if status != 0 {
        return Err(format!(
            "{} {args:?} exited with status {status}: {}{}",
            program.display(),
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&err)
        ));
    }
    Ok((Sample { wall }, out))
}

/// Median and mean of a set of samples.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub median: Duration,
    pub mean: Duration,
}

impl Stats {
    pub fn of(samples: &[Sample]) -> Stats {
        if samples.is_empty() {
            return Stats::default();
        }
        let mut walls: Vec<Duration> = samples.iter().map(|s| s.wall).collect();
        walls.sort();
        let total: Duration = walls.iter().sum();
        Stats {
            median: walls[walls.len() / 2],
            mean: total / walls.len() as u32,
        }
    }
}
