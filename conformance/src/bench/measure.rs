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

/// Median, mean and 99th percentile of a set of wall times.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub median: Duration,
    pub mean: Duration,
    pub p99: Duration,
}

impl Stats {
    pub fn of(samples: &[Sample]) -> Stats {
        Self::of_walls(samples.iter().map(|s| s.wall).collect())
    }

    pub fn of_walls(mut walls: Vec<Duration>) -> Stats {
        if walls.is_empty() {
            return Stats::default();
        }
        walls.sort();
        let total: Duration = walls.iter().sum();
        // Nearest rank: with fewer than 100 samples, p99 is the slowest.
        let p99_rank = (walls.len() * 99).div_ceil(100).max(1) - 1;
        Stats {
            median: walls[walls.len() / 2],
            mean: total / walls.len() as u32,
            p99: walls[p99_rank],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p99_is_the_nearest_rank() {
        let ms = |n: u64| Duration::from_millis(n);
        let stats = Stats::of_walls((1..=200).map(ms).collect());
        assert_eq!(stats.median, ms(101));
        assert_eq!(stats.p99, ms(198));
        assert_eq!(Stats::of_walls(vec![ms(3), ms(1), ms(2)]).p99, ms(3));
    }
}
