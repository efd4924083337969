//! Peak resident memory of one invocation, measured under ptrace.
//!
//! `wait4`'s `ru_maxrss` cannot be used: Linux carries the high-water mark
//! across exec, and a child made by vfork/posix_spawn shares the bench's own
//! address space until it execs, so every child would report at least the
//! bench's RSS. Instead the child is traced from its exec on, and each process
//! of its tree has `VmHWM` read from `/proc/<tid>/status` when it stops on its
//! way out (`PTRACE_EVENT_EXIT`), while its post-exec address space is still
//! attached: that is the high-water mark of that image alone.
//!
//! Not seen: memory of an image that a traced process replaces by a further
//! exec (the bench's programs exec nothing but their helpers, in new
//! processes).

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// Peak RSS of one invocation, in KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeakRss {
    /// The process that was started (after its exec).
    pub main_kib: u64,
    /// The largest of any process in the invocation's tree, the main one
    /// included (e.g. an IPAM plugin the main plugin execs).
    pub tree_kib: u64,
}

impl PeakRss {
    pub fn max(self, other: PeakRss) -> PeakRss {
        PeakRss {
            main_kib: self.main_kib.max(other.main_kib),
            tree_kib: self.tree_kib.max(other.tree_kib),
        }
    }
}

/// Runs `program` like [`super::measure::run_timed`] (exactly `env`, `stdin`
/// as input, non-zero exit is an error) but traced, for memory only: tracing
/// slows the run down, so its wall time means nothing.
pub fn run_traced(
    program: &Path,
    args: &[&str],
    env: &[(String, String)],
    stdin: &[u8],
) -> Result<PeakRss, String> {
    run_traced_with_output(program, args, env, stdin).map(|(peak, _)| peak)
}

/// [`run_traced`], also returning what the program printed on stdout.
pub fn run_traced_with_output(
    program: &Path,
    args: &[&str],
    env: &[(String, String)],
    stdin: &[u8],
) -> Result<(PeakRss, Vec<u8>), String> {
    let mut child = spawn_traced(program, args, env)?;
    let pid = child.id() as libc::pid_t;
    // Until the first stop is consumed and options are set, a failure must
    // not leave a stopped child behind.
    let kill = |why: String| {
        // SAFETY: pid is our own unreaped child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let _ = reap_group(pid);
        why
    };
    attach(pid, program).map_err(kill)?;
    // The child is stopped, and a config is far smaller than a pipe's buffer.
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin)
            .map_err(|e| kill(format!("writing stdin of {}: {e}", program.display())))?;
    }
    let (traced, out, err) = follow_draining(&mut child, pid);
    let (peak, exit) = traced?;
    if exit != 0 {
        return Err(format!(
            "{} {args:?} exited with status {exit}: {}{}",
            program.display(),
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&err)
        ));
    }
    Ok((peak, out))
}

/// Starts `program` stopped at its exec under ptrace, in its own process
/// group, so waiting for the group waits for exactly this tree and never
/// reaps a child someone else in this process owns.
fn spawn_traced(
    program: &Path,
    args: &[&str],
    env: &[(String, String)],
) -> Result<std::process::Child, String> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: ptrace(PTRACE_TRACEME) is a plain system call, async-signal-safe,
    // touching no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if ptrace(libc::PTRACE_TRACEME, 0, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn()
        .map_err(|e| format!("spawning {} traced: {e}", program.display()))
}

/// Consumes the exec stop and asks to be told of every exit, fork and exec.
fn attach(pid: libc::pid_t, program: &Path) -> Result<(), String> {
    // The exec of a PTRACE_TRACEME child stops it with SIGTRAP.
    let status = waitpid(pid, pid)?;
    if !(libc::WIFSTOPPED(status) && libc::WSTOPSIG(status) == libc::SIGTRAP) {
        return Err(format!(
            "{}: expected the exec stop, got wait status {status:#x}",
            program.display()
        ));
    }
    let options = libc::PTRACE_O_TRACEEXIT
        | libc::PTRACE_O_EXITKILL
        | libc::PTRACE_O_TRACEFORK
        | libc::PTRACE_O_TRACEVFORK
        | libc::PTRACE_O_TRACECLONE
        | libc::PTRACE_O_TRACEEXEC;
    // SAFETY: pid is our tracee, in a ptrace stop.
    if unsafe { ptrace(libc::PTRACE_SETOPTIONS, pid, options as usize) } == -1 {
        return Err(format!(
            "PTRACE_SETOPTIONS on {}: {}",
            program.display(),
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// The tree's peak and the main process's exit status, or why tracing failed.
type Traced = Result<(PeakRss, i32), String>;

/// Follows the tree to its end while stdout and stderr drain on threads:
/// (what tracing saw, stdout, stderr).
fn follow_draining(
    child: &mut std::process::Child,
    pid: libc::pid_t,
) -> (Traced, Vec<u8>, Vec<u8>) {
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    std::thread::scope(|s| {
        let out = s.spawn(move || drain(stdout.as_mut()));
        let err = s.spawn(move || drain(stderr.as_mut()));
        let traced = follow(pid);
        if traced.is_err() {
            // Stopped tracees would keep the pipes, and the drains, open.
            // SAFETY: the group is this invocation's own.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            let _ = reap_group(pid);
        }
        let joined = |h: std::thread::ScopedJoinHandle<'_, Vec<u8>>| h.join().unwrap_or_default();
        (traced, joined(out), joined(err))
    })
}

fn drain(pipe: Option<&mut impl Read>) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Some(p) = pipe {
        let _ = p.read_to_end(&mut buf);
    }
    buf
}

/// Resumes `main` and every tracee it brings in until the whole group has
/// been reaped; returns the peaks and `main`'s exit status (-1 if signalled).
fn follow(main: libc::pid_t) -> Traced {
    let mut peak = PeakRss::default();
    let mut exit = -1;
    let mut seen = std::collections::HashSet::from([main]);
    resume(main, 0)?;
    loop {
        let (tid, status) = match wait_group(main) {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => return Err(e),
        };
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            if tid == main {
                exit = if libc::WIFEXITED(status) {
                    libc::WEXITSTATUS(status)
                } else {
                    -1
                };
            }
            continue;
        }
        if !libc::WIFSTOPPED(status) {
            continue;
        }
        let event = (status >> 16) & 0xff;
        let signal = libc::WSTOPSIG(status);
        let inject = if event == libc::PTRACE_EVENT_EXIT {
            // A task may already be gone (killed); its peak is then lost,
            // which the caller sees as a zero.
            if let Some(kib) = vm_hwm_kib(tid) {
                peak.tree_kib = peak.tree_kib.max(kib);
                if tid == main {
                    peak.main_kib = peak.main_kib.max(kib);
                }
            }
            0
        } else if event != 0 {
            0
        } else if signal == libc::SIGSTOP && seen.insert(tid) {
            // The stop every auto-attached new task starts with.
            0
        } else {
            signal
        };
        seen.insert(tid);
        // A task killed meanwhile (e.g. by a sibling's exit_group) cannot
        // be resumed and needs not be.
        let _ = resume(tid, inject);
    }
    Ok((peak, exit))
}

/// ptrace(2)'s request type: glibc declares an enum (unsigned), musl an int.
#[cfg(target_env = "musl")]
type PtraceRequest = libc::c_int;
#[cfg(not(target_env = "musl"))]
type PtraceRequest = libc::c_uint;

/// ptrace(2) with its variadic arguments at their C types (pid_t, then two
/// pointer-sized words), so no register holds stray upper bits.
///
/// # Safety
/// As for ptrace(2): `data` must be valid for `request`; the requests used
/// here take no pointers.
unsafe fn ptrace(request: PtraceRequest, pid: libc::pid_t, data: usize) -> libc::c_long {
    libc::ptrace(
        request,
        pid,
        std::ptr::null_mut::<libc::c_void>(),
        data as *mut libc::c_void,
    )
}

fn resume(tid: libc::pid_t, signal: i32) -> Result<(), String> {
    // SAFETY: tid is our tracee in a ptrace stop; on any other state the
    // kernel answers ESRCH.
    if unsafe { ptrace(libc::PTRACE_CONT, tid, signal as usize) } == -1 {
        return Err(format!(
            "PTRACE_CONT {tid}: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// The next state change of any task in `group`, `None` once none is left.
fn wait_group(group: libc::pid_t) -> Result<Option<(libc::pid_t, i32)>, String> {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid out pointer.
        let r = unsafe { libc::waitpid(-group, &mut status, libc::__WALL) };
        if r > 0 {
            return Ok(Some((r, status)));
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::ECHILD) => return Ok(None),
            _ => return Err(format!("waitpid(-{group}): {e}")),
        }
    }
}

fn waitpid(pid: libc::pid_t, what: libc::pid_t) -> Result<i32, String> {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if r == pid {
            return Ok(status);
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(format!("waitpid({what}): {e}"));
        }
    }
}

fn reap_group(group: libc::pid_t) -> Result<(), String> {
    while wait_group(group)?.is_some() {}
    Ok(())
}

/// `VmHWM` of a task's address space, in KiB.
fn vm_hwm_kib(tid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    parse_vm_hwm(&status)
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOC_ENV: &str = "CNI_BENCH_TEST_ALLOC_MIB";
    const HELPER: &str = "bench::memory::tests::allocating_child";

    /// Run by the tests below in a child copy of this test binary: allocates
    /// and touches the number of MiB in `ALLOC_ENV`.
    #[test]
    #[ignore = "helper process for the tests of run_traced"]
    fn allocating_child() {
        let mib: usize = std::env::var(ALLOC_ENV).unwrap().parse().unwrap();
        let mut v = vec![0u8; mib << 20];
        // Touch every page with a non-zero byte, so none stays a shared zero page.
        for page in v.chunks_mut(4096) {
            page[0] = 1;
        }
        std::hint::black_box(&v);
    }

    fn helper_command(mib: u64) -> (std::path::PathBuf, Vec<&'static str>, Vec<(String, String)>) {
        let exe = std::env::current_exe().unwrap();
        let args = vec![HELPER, "--exact", "--ignored", "--test-threads=1", "-q"];
        let env = vec![(ALLOC_ENV.to_string(), mib.to_string())];
        (exe, args, env)
    }

    fn own_hwm_kib() -> u64 {
        parse_vm_hwm(&std::fs::read_to_string("/proc/self/status").unwrap()).unwrap()
    }

    #[test]
    fn a_child_that_touches_64_mib_reports_at_least_64_mib() {
        let (exe, args, env) = helper_command(64);
        let peak = run_traced(&exe, &args, &env, b"").unwrap();
        assert!(peak.main_kib >= 64 * 1024, "{peak:?}");
        assert_eq!(peak.tree_kib, peak.main_kib, "{peak:?}");
    }

    #[test]
    fn bin_true_reports_its_own_small_peak_not_the_parents() {
        // Make this process big, so inheriting its high-water mark would show.
        let mut ballast = vec![1u8; 96 << 20];
        for page in ballast.chunks_mut(4096) {
            page[0] = 2;
        }
        std::hint::black_box(&ballast);
        let own = own_hwm_kib();
        assert!(own >= 96 * 1024, "own VmHWM {own}");
        let peak = run_traced(Path::new("/bin/true"), &[], &[], b"").unwrap();
        assert!(peak.main_kib > 0, "{peak:?}");
        assert!(peak.main_kib < 8 * 1024, "{peak:?}, own {own}");
    }

    #[test]
    fn the_tree_peak_includes_a_grandchild_the_main_peak_does_not() {
        let (exe, args, mut env) = helper_command(48);
        // sh forks the helper (the trailing `; true` keeps sh from exec'ing it).
        let mut sh_args = vec!["-c", "\"$0\" \"$@\"; true", exe.to_str().unwrap()];
        sh_args.extend(args);
        env.push(("PATH".into(), "/usr/bin:/bin".into()));
        let peak = run_traced(Path::new("/bin/sh"), &sh_args, &env, b"").unwrap();
        assert!(peak.tree_kib >= 48 * 1024, "{peak:?}");
        assert!(peak.main_kib < 8 * 1024, "{peak:?}");
    }

    #[test]
    fn a_failing_program_is_an_error_with_its_status() {
        let e = run_traced(Path::new("/bin/false"), &[], &[], b"").unwrap_err();
        assert!(e.contains("exited with status 1"), "{e}");
    }

    #[test]
    fn a_missing_program_is_an_error_naming_it() {
        let e = run_traced(Path::new("/nonexistent/plugin"), &[], &[], b"").unwrap_err();
        assert!(e.contains("/nonexistent/plugin"), "{e}");
    }

    #[test]
    fn vm_hwm_is_parsed_in_kib() {
        let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(1234));
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
    }
}
