//! IPAM delegation: the main plugin hands its whole config to the IPAM plugin
//! named in `ipam.type`, with the same container, netns and interface.

use cni_core::invoke::Exec;
use cni_core::skel::CmdArgs;
use cni_core::{CniError, CniResult};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Add,
    Check,
    Del,
    Status,
    Gc,
}

impl Verb {
    pub fn as_env(self) -> &'static str {
        match self {
            Verb::Add => "ADD",
            Verb::Check => "CHECK",
            Verb::Del => "DEL",
            Verb::Status => "STATUS",
            Verb::Gc => "GC",
        }
    }
}

/// Runs an IPAM plugin. ADD returns its result; the other verbs return `None`.
/// The IPAM plugin's error comes back unchanged.
pub trait IpamDelegate {
    fn run(
        &self,
        verb: Verb,
        ipam_type: &str,
        netconf: &[u8],
        args: &CmdArgs,
    ) -> Result<Option<CniResult>, CniError>;

    /// DEL, CHECK, STATUS or GC when the config names an IPAM plugin; a
    /// layer-2-only config (no IPAM) has nothing to hand over.
    fn run_if_any(
        &self,
        verb: Verb,
        ipam_type: Option<&str>,
        netconf: &[u8],
        args: &CmdArgs,
    ) -> Result<(), CniError> {
        match ipam_type {
            Some(t) => self.run(verb, t, netconf, args).map(drop),
            None => Ok(()),
        }
    }

    fn add(&self, ipam_type: &str, netconf: &[u8], args: &CmdArgs) -> Result<CniResult, CniError> {
        self.run(Verb::Add, ipam_type, netconf, args)?
            .ok_or_else(|| {
                CniError::decode(format!("IPAM plugin {ipam_type:?} returned no result"))
            })
    }
}

/// The delegate the shipped binaries use: finds the plugin in `CNI_PATH` and
/// execs it with this process's environment, `CNI_*` set from `args`.
pub struct ExecDelegate<E: Exec> {
    pub exec: E,
}

impl<E: Exec> IpamDelegate for ExecDelegate<E> {
    fn run(
        &self,
        verb: Verb,
        ipam_type: &str,
        netconf: &[u8],
        args: &CmdArgs,
    ) -> Result<Option<CniResult>, CniError> {
        let plugin = self.exec.find_in_path(ipam_type, &args.path)?;
        let env = delegate_env(verb, args);
        let out = self.exec.exec_plugin(&plugin, netconf, &env)?;
        if verb != Verb::Add {
            return Ok(None);
        }
        let value: Value = serde_json::from_slice(&out).map_err(|e| {
            CniError::decode(format!(
                "IPAM plugin {ipam_type:?} printed an invalid result: {e}"
            ))
        })?;
        parse_result(&value).map(Some)
    }
}

fn delegate_env(verb: Verb, args: &CmdArgs) -> Vec<(String, String)> {
    let path = std::env::join_paths(&args.path)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ours = [
        ("CNI_COMMAND", verb.as_env().to_string()),
        ("CNI_CONTAINERID", args.container_id.clone()),
        ("CNI_NETNS", args.netns.clone()),
        ("CNI_IFNAME", args.ifname.clone()),
        ("CNI_ARGS", args.args.clone()),
        ("CNI_PATH", path),
    ];
    let mut env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| !ours.iter().any(|(o, _)| o == k))
        .collect();
    env.extend(ours.into_iter().map(|(k, v)| (k.to_string(), v)));
    env
}

/// Parses a result of any version into the newest model.
pub fn parse_result(value: &Value) -> Result<CniResult, CniError> {
    serde_json::from_value(value.clone())
        .map_err(|e| CniError::decode(format!("failed to parse result: {e}")))
}

/// IPAM ADD, registering the IPAM DEL that takes it back if ADD fails later.
pub fn allocate<'a>(
    ipam: &'a dyn IpamDelegate,
    ipam_type: &'a str,
    args: &'a CmdArgs,
    undo: &mut super::Undo<'a>,
) -> Result<CniResult, CniError> {
    let result = ipam.add(ipam_type, &args.stdin, args)?;
    undo.push("IPAM allocation", move || {
        ipam.run(Verb::Del, ipam_type, &args.stdin, args)
            .map(drop)
            .map_err(|e| e.to_string())
    });
    Ok(result)
}
