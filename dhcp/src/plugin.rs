//! The `dhcp` binary as a CNI plugin: every verb is forwarded to the daemon,
//! which holds the leases; the plugin only checks the config and carries
//! the answer back.

use crate::config::{socket_path, DhcpConf};
use crate::protocol::{read_answer, to_line, Answer, Request, Verb, MAX_LINE, PROTOCOL};
use cni_core::error::code;
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::{CniError, CniResult};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long the plugin waits for the daemon's answer. The daemon bounds an
/// ADD by its own `-timeout`; this only keeps a wedged daemon from hanging
/// the runtime for ever.
const REPLY_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Default, Clone, Copy)]
pub struct DhcpPlugin;

impl Plugin for DhcpPlugin {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = DhcpConf::parse(&args.stdin, &args.args)?;
        let result = call(&conf.socket_path, Verb::Add, args)?;
        result.ok_or_else(|| CniError::io("dhcp daemon answered ADD without a result"))
    }

    /// DEL needs only the socket: an attachment stays deletable whatever its
    /// config became.
    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        call(&socket_path(&args.stdin), Verb::Del, args).map(drop)
    }

    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = DhcpConf::parse(&args.stdin, &args.args)?;
        call(&conf.socket_path, Verb::Check, args).map(drop)
    }

    fn status(&self, args: &CmdArgs) -> Result<(), CniError> {
        call(&socket_path(&args.stdin), Verb::Status, args)
            .map(drop)
            .map_err(|e| match e.code {
                code::TRY_AGAIN_LATER => CniError::new(code::NOT_AVAILABLE, e.msg),
                _ => e,
            })
    }

    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        call(&socket_path(&args.stdin), Verb::Gc, args).map(drop)
    }

    fn about(&self) -> String {
        cni_core::skel::about_text("dhcp plugin")
    }
}

/// Sends one verb to the daemon at `socket` and reads its answer.
pub fn call(socket: &Path, verb: Verb, args: &CmdArgs) -> Result<Option<CniResult>, CniError> {
    let request = Request {
        protocol: PROTOCOL.to_string(),
        verb,
        container_id: args.container_id.clone(),
        netns: absolute(&args.netns),
        ifname: args.ifname.clone(),
        cni_args: args.args.clone(),
        config: String::from_utf8_lossy(&args.stdin).into_owned(),
    };
    let mut stream = UnixStream::connect(socket).map_err(|e| not_running(socket, &e))?;
    let exchange = |stream: &mut UnixStream| -> std::io::Result<Vec<u8>> {
        stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
        stream.write_all(&to_line(&request))?;
        stream.shutdown(std::net::Shutdown::Write)?;
        let mut answer = Vec::new();
        stream.take(MAX_LINE as u64 + 1).read_to_end(&mut answer)?;
        Ok(answer)
    };
    let answer = exchange(&mut stream).map_err(|e| {
        CniError::io(format!(
            "dhcp daemon on {}: no answer: {e}",
            socket.display()
        ))
    })?;
    match read_answer(&answer) {
        Answer::Ours(reply) => reply.into_outcome(),
        Answer::Http(status) => Err(CniError::new(
            code::PLUGIN_SPECIFIC,
            format!(
                "the daemon on {} is not this plugin's: it answers HTTP ({status:?}), as the reference's Go dhcp daemon does; stop it and start ours with `dhcp daemon`",
                socket.display()
            ),
        )),
        Answer::Garbage(what) => Err(CniError::new(
            code::PLUGIN_SPECIFIC,
            format!(
                "the daemon on {} does not speak {PROTOCOL} (it answered {what:?}); start ours with `dhcp daemon`",
                socket.display()
            ),
        )),
    }
}

fn not_running(socket: &Path, e: &std::io::Error) -> CniError {
    let why = match e.kind() {
        ErrorKind::NotFound => "no socket there".to_string(),
        ErrorKind::ConnectionRefused => "nothing listens on it".to_string(),
        _ => e.to_string(),
    };
    CniError::try_again_later(format!(
        "no dhcp daemon on {} ({why}): start it with `dhcp daemon -socketpath {}` (as root; it must keep running to renew leases)",
        socket.display(),
        socket.display()
    ))
}

fn absolute(netns: &str) -> String {
    if netns.is_empty() || netns.starts_with('/') {
        return netns.to_string();
    }
    std::env::current_dir()
        .map(|dir| dir.join(netns))
        .unwrap_or_else(|_| PathBuf::from(netns))
        .to_string_lossy()
        .into_owned()
}
