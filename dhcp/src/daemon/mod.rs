//! `dhcp daemon`: serves the plugin's requests on a unix socket and keeps
//! every attachment's leases alive, across its own restarts.

mod attachment;
mod endpoint;
pub mod flags;
mod listener;
mod nswatch;
mod registry;
pub mod store;

use crate::protocol::{read_request, to_line, Reply, MAX_LINE};
use attachment::ClientTuning;
use registry::Registry;
use std::path::Path;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// Runs the daemon with `args` (after `daemon`) until SIGTERM or SIGINT.
pub fn main(args: &[String]) -> Result<(), String> {
    let flags = flags::parse(args)?;
    let socket_path = Path::new(&format!(
        "{}{}",
        flags.host_prefix,
        flags.socket_path.display()
    ))
    .to_path_buf();
    let listener = listener::bind(&socket_path).map_err(|e| e.to_string())?;
    let store = store::Store::open(&flags.state_dir)
        .map_err(|e| format!("state directory {}: {e}", flags.state_dir.display()))?;
    if let Some(pidfile) = &flags.pidfile {
        std::fs::write(pidfile, format!("{}", std::process::id()))
            .map_err(|e| format!("pidfile {}: {e}", pidfile.display()))?;
    }
    raise_fd_limit();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let tuning = ClientTuning {
        broadcast: true,
        acquire_timeout: flags.timeout,
        resend_max: flags.resend_max,
    };
    let outcome = runtime.block_on(async {
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let listener = UnixListener::from_std(listener).map_err(|e| e.to_string())?;
        let registry = Registry::new(store, tuning, flags.host_prefix.clone());
        match registry.resume() {
            Ok(n) => tracing::info!("resuming {n} attachments' leases"),
            Err(e) => tracing::error!("cannot read the state directory: {e}"),
        }
        tracing::info!("dhcp daemon listening on {}", socket_path.display());
        serve(listener, registry).await
    });
    let _ = std::fs::remove_file(&socket_path);
    if let Some(pidfile) = &flags.pidfile {
        let _ = std::fs::remove_file(pidfile);
    }
    outcome
}

/// Accepts connections until a termination signal. Leases are not released
/// on the way out: they are on disk, and the next daemon resumes them.
async fn serve(listener: UnixListener, registry: Registry) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(answer(stream, registry.clone()));
                }
                Err(e) => tracing::warn!("accept: {e}"),
            },
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
        }
    }
}

/// One plugin invocation: its request line in, the reply line out.
async fn answer(stream: UnixStream, registry: Registry) {
    let (read, mut write) = stream.into_split();
    let mut line = Vec::new();
    let read = BufReader::new(read)
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut line)
        .await;
    let reply = match read {
        Err(e) => Reply::failed(cni_core::CniError::io(format!("dhcp daemon: read: {e}"))),
        Ok(_) => match read_request(line.strip_suffix(b"\n").unwrap_or(&line)) {
            Err(e) => Reply::failed(e),
            Ok(request) => match registry.handle(request).await {
                Ok(result) => Reply::ok(result),
                Err(e) => Reply::failed(e),
            },
        },
    };
    let _ = write.write_all(&to_line(&reply)).await;
}

/// Every attachment holds a few descriptors (its sockets and link watch):
/// lift the soft limit to the hard one so thousands fit.
fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
