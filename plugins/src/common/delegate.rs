//! IPAM delegation: the main plugin hands its whole config to the IPAM plugin
//! named in `ipam.type`, with the same container, netns and interface.

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
/// one of *this build's own* binaries (it sits in `own_dir`, the running
/// executable's directory) runs in process, saving a fork and exec per verb;
/// anything else — the reference's host-local, a third-party IPAM — is exec'd
/// as usual. The plugin found first in `CNI_PATH` always decides, as with exec.
pub struct SiblingDelegate<'a, E: Exec> {
    pub exec: ExecDelegate<E>,
    pub own: InProcessDelegate<'a>,
    pub own_dir: Option<std::path::PathBuf>,
}

impl<'a, E: Exec> SiblingDelegate<'a, E> {
    /// Siblings of the running executable.
    pub fn for_this_binary(exec: E, own: InProcessDelegate<'a>) -> Self {
        let own_dir = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.canonicalize().ok())
            .and_then(|exe| exe.parent().map(std::path::Path::to_path_buf));
        SiblingDelegate {
            exec: ExecDelegate { exec },
            own,
            own_dir,
        }
    }

    fn is_own_sibling(&self, ipam_type: &str, args: &CmdArgs) -> bool {
        let Some(own_dir) = &self.own_dir else {
            return false;
        };
        match self.exec.exec.find_in_path(ipam_type, &args.path) {
            Ok(found) => found
                .canonicalize()
                .is_ok_and(|found| found.parent() == Some(own_dir.as_path())),
            Err(_) => false,
        }
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
            && self.is_own_sibling(ipam_type, args);
        if in_process {
            self.own.run(verb, ipam_type, netconf, args)
        } else {
            self.exec.run(verb, ipam_type, netconf, args)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cni_core::invoke::RawExec;
    use cni_core::skel::Plugin;
    use std::os::unix::fs::PermissionsExt;

    /// An IPAM plugin that answers in process with one fixed address.
    struct Fixed;
    impl Plugin for Fixed {
        fn add(&self, _: &CmdArgs) -> Result<CniResult, CniError> {
            Ok(
                serde_json::from_str(r#"{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.2/24"}]}"#)
                    .unwrap(),
            )
        }
        fn del(&self, _: &CmdArgs) -> Result<(), CniError> {
            Ok(())
        }
        fn check(&self, _: &CmdArgs) -> Result<(), CniError> {
            Ok(())
        }
        fn about(&self) -> String {
            String::new()
        }
    }

    /// A directory whose `host-local` is a script that always fails with code 42.
    fn dir_with_failing_script() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("host-local");
        std::fs::write(
            &script,
            "#!/bin/sh\necho '{\"code\":42,\"msg\":\"exec was used\"}'\nexit 1\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        dir
    }

    fn args(dir: &std::path::Path) -> CmdArgs {
        CmdArgs {
            container_id: "c1".into(),
            netns: "/var/run/netns/x".into(),
            ifname: "eth0".into(),
            path: vec![dir.to_path_buf()],
            stdin: br#"{"cniVersion":"1.0.0","name":"n"}"#.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn own_sibling_runs_in_process_anything_else_is_execd() {
        let dir = dir_with_failing_script();
        let a = args(dir.path());
        let sibling = SiblingDelegate {
            exec: ExecDelegate { exec: RawExec },
            own: InProcessDelegate::new().with("host-local", &Fixed),
            own_dir: Some(dir.path().canonicalize().unwrap()),
        };
        let r = sibling.add("host-local", &a.stdin, &a).unwrap();
        assert_eq!(r.ips[0].address.to_string(), "10.9.0.2/24");

        let elsewhere = tempfile::tempdir().unwrap();
        let stranger = SiblingDelegate {
            own_dir: Some(elsewhere.path().canonicalize().unwrap()),
            ..sibling
        };
        let e = stranger.add("host-local", &a.stdin, &a).unwrap_err();
        assert_eq!((e.code, e.msg.as_str()), (42, "exec was used"));
    }
}
