//! IPAM delegation: the main plugin hands its whole config to the IPAM plugin
//! named in `ipam.type`, with the same container, netns and interface.

use crate::build_stamp::{self, Stamp};
use cni_core::invoke::{self, Exec};
use cni_core::skel::CmdArgs;
use cni_core::{CniError, CniResult};

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
        let env = invoke::delegate_env(args);
        match verb {
            Verb::Add => {
                invoke::delegate_add_with_env(ipam_type, netconf, &self.exec, &env).map(Some)
            }
            _ => {
                invoke::delegate_verb_with_env(verb.as_env(), ipam_type, netconf, &self.exec, &env)
                    .map(|()| None)
            }
        }
    }
}

/// IPAM plugins that work on the container interface itself — DHCP runs on
/// it — so it must exist, up, before their ADD. Its MAC is then the kernel's
/// (or the runtime's): one derived from the lease afterwards would change the
/// client's identity under the DHCP server.
pub fn needs_interface_first(ipam_type: &str) -> bool {
    ipam_type == "dhcp"
}

/// IPAM ADD, registering the IPAM DEL that takes it back if ADD fails later.
/// Every address goes on interface number `iface` of the result.
pub fn allocate<'a>(
    ipam: &'a dyn IpamDelegate,
    ipam_type: &'a str,
    args: &'a CmdArgs,
    iface: usize,
    undo: &mut super::Undo<'a>,
) -> Result<CniResult, CniError> {
    let mut result = ipam.add(ipam_type, &args.stdin, args)?;
    undo.push("IPAM allocation", move || {
        ipam.run(Verb::Del, ipam_type, &args.stdin, args).map(drop)
    });
    for ip in &mut result.ips {
        ip.interface = Some(iface);
    }
    Ok(result)
}

/// Runs IPAM plugins in this process: for the simulator scenarios, and for a
/// binary whose IPAM plugin is one of ours.
#[derive(Default)]
pub struct InProcessDelegate<'a> {
    plugins: Vec<(String, &'a dyn cni_core::skel::Plugin)>,
}

impl<'a> InProcessDelegate<'a> {
    pub fn new() -> Self {
        InProcessDelegate {
            plugins: Vec::new(),
        }
    }

    pub fn with(mut self, plugin_type: &str, plugin: &'a dyn cni_core::skel::Plugin) -> Self {
        self.plugins.push((plugin_type.to_string(), plugin));
        self
    }
}

impl IpamDelegate for InProcessDelegate<'_> {
    fn run(
        &self,
        verb: Verb,
        ipam_type: &str,
        netconf: &[u8],
        args: &CmdArgs,
    ) -> Result<Option<CniResult>, CniError> {
        let (_, plugin) = self
            .plugins
            .iter()
            .find(|(t, _)| t == ipam_type)
            .ok_or_else(|| {
                CniError::io(format!(
                    "failed to find plugin {ipam_type:?} (in-process registry)"
                ))
            })?;
        let args = CmdArgs {
            stdin: netconf.to_vec(),
            ..args.clone()
        };
        match verb {
            Verb::Add => plugin.add(&args).map(Some),
            Verb::Check => plugin.check(&args).map(|()| None),
            Verb::Del => plugin.del(&args).map(|()| None),
            Verb::Status => plugin.status(&args).map(|()| None),
            Verb::Gc => plugin.gc(&args).map(|()| None),
        }
    }
}

/// What the shipped binaries use: an IPAM plugin that `CNI_PATH` resolves to
/// a binary of *this very build* (it carries our build stamp, see
/// [`crate::build_stamp`]) runs in process, saving a fork and exec per verb;
/// anything else — the reference's host-local, our own from another build, a
/// third-party IPAM — is exec'd as usual. The plugin found first in
/// `CNI_PATH` always decides, as with exec.
pub struct SiblingDelegate<'a, E: Exec> {
    pub exec: ExecDelegate<E>,
    pub own: InProcessDelegate<'a>,
    /// The stamp a found plugin must carry to run in process.
    pub stamp: Stamp,
}

impl<'a, E: Exec> SiblingDelegate<'a, E> {
    /// In process only for plugins of the running executable's build.
    pub fn for_this_binary(exec: E, own: InProcessDelegate<'a>) -> Self {
        SiblingDelegate {
            exec: ExecDelegate { exec },
            own,
            stamp: build_stamp::own(),
        }
    }

    fn is_this_build(&self, ipam_type: &str, args: &CmdArgs) -> bool {
        self.exec
            .exec
            .find_in_path(ipam_type, &args.path)
            .is_ok_and(|found| build_stamp::of_file(&found) == Some(self.stamp))
    }
}

impl<E: Exec> IpamDelegate for SiblingDelegate<'_, E> {
    fn run(
        &self,
        verb: Verb,
        ipam_type: &str,
        netconf: &[u8],
        args: &CmdArgs,
    ) -> Result<Option<CniResult>, CniError> {
        let in_process = self.own.plugins.iter().any(|(t, _)| t == ipam_type)
            && self.is_this_build(ipam_type, args);
        if in_process {
            self.own.run(verb, ipam_type, netconf, args)
        } else {
            self.exec.run(verb, ipam_type, netconf, args)
        }
    }
}
