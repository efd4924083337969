//! Timing one process: wall time and peak RSS (from wait4's rusage, so each
//! invocation is measured on its own).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub wall: Duration,
    /// Peak resident set size in KiB.
    pub max_rss_kib: u64,
}

/// Runs `program` with exactly `env`, `stdin` as input; fails when it exits non-zero.
pub fn run_timed(
    program: &Path,
    args: &[&str],
    env: &[(String, String)],
    stdin: &[u8],
) -> Result<Sample, String> {
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
    let (status, rusage) = wait4(child.id() as i32)?;
    let wall = start.elapsed();
    if status != 0 {
        return Err(format!(
            "{} {args:?} exited with status {status}: {}{}",
            program.display(),
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&err)
        ));
    }
    Ok(Sample {
        wall,
        max_rss_kib: rusage.ru_maxrss.max(0) as u64,
    })
}

fn wait4(pid: i32) -> Result<(i32, libc::rusage), String> {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet reaped; both pointers are valid.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r != pid {
        return Err(format!("wait4({pid}): {}", std::io::Error::last_os_error()));
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((code, usage))
}

/// Median, mean and max of a set of samples.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub median: Duration,
    pub mean: Duration,
    pub max_rss_kib: u64,
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
            max_rss_kib: samples.iter().map(|s| s.max_rss_kib).max().unwrap_or(0),
        }
    }
}
