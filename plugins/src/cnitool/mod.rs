//! cnitool: drive a CNI network from the command line (the reference's
//! `cnitool`), built on libcni.

pub mod cli;
mod gc;
pub mod netns_cmd;

use cli::{Cli, Verb};
use cni_core::libcni::{load_conf_list, CniConfig, LibcniError, RuntimeConf};
pub use netns_cmd::NamedNetns;
use serde_json::{Map, Value};
use sha2::{Digest, Sha512};
use std::path::{Component, Path, PathBuf};

pub const DEFAULT_NETCONFPATH: &str = "/etc/cni/net.d";

#[derive(Debug, thiserror::Error)]
pub enum CnitoolError {
    #[error(transparent)]
    Libcni(#[from] LibcniError),
    #[error("invalid CNI_ARGS pair {0:?}: expected KEY=VALUE")]
    CniArgs(String),
    #[error("invalid CAP_ARGS: {0}")]
    CapArgs(String),
    #[error("invalid --keep {0:?}: expected CONTAINERID or CONTAINERID:IFNAME")]
    Keep(String),
    #[error("{0}")]
    NetnsManage(String),
    #[error("cannot resolve namespace path {path}: {source}")]
    Netns {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The environment cnitool reads (taken from the process by [`Settings::from_env`]).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub netconf_path: PathBuf,
    pub cni_path: Vec<PathBuf>,
    pub ifname: String,
    pub cni_args: Option<String>,
    pub cap_args: Option<String>,
    /// Passed on to plugins (the reference passes its whole environment).
    pub base_env: Vec<(String, String)>,
}

impl Settings {
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Settings {
            netconf_path: var("NETCONFPATH")
                .unwrap_or_else(|| DEFAULT_NETCONFPATH.to_string())
                .into(),
            cni_path: std::env::var("CNI_PATH")
                .unwrap_or_default()
                .split(':')
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .collect(),
            // Set but empty stays empty (and is refused by ADD), as in the reference.
            ifname: std::env::var("CNI_IFNAME").unwrap_or_else(|_| "eth0".to_string()),
            cni_args: var("CNI_ARGS"),
            cap_args: var("CAP_ARGS"),
            base_env: std::env::vars().collect(),
        }
    }
}

/// `KEY=VALUE;...`; every pair must have a non-empty key and value, as the
/// reference cnitool requires.
pub fn parse_cni_args(args: &str) -> Result<Vec<(String, String)>, CnitoolError> {
    args.split(';')
        .map(
            |pair| match pair.split('=').collect::<Vec<_>>().as_slice() {
                [k, v] if !k.is_empty() && !v.is_empty() => Ok((k.to_string(), v.to_string())),
                _ => Err(CnitoolError::CniArgs(pair.to_string())),
            },
        )
        .collect()
}

/// `CAP_ARGS`: one JSON object, each key a capability.
pub fn parse_cap_args(text: &str) -> Result<Map<String, Value>, CnitoolError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(CnitoolError::CapArgs("must be a JSON object".into())),
        Err(e) => Err(CnitoolError::CapArgs(format!("not valid JSON: {e}"))),
    }
}

/// Makes `path` absolute and removes `.`/`..` lexically (Go's `filepath.Abs`),
/// so the container ID does not depend on how the path was spelled.
pub fn absolute_path(path: &Path) -> Result<PathBuf, CnitoolError> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|source| CnitoolError::Netns {
                path: path.to_path_buf(),
                source,
            })?
            .join(path)
    };
    let mut out = PathBuf::from("/");
    for part in joined.components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Ok(out)
}

/// `cnitool-` + the first 10 bytes of SHA-512 of the namespace path, in hex:
/// the reference's derivation, so both tools name the same attachment.
pub fn container_id(netns: &Path) -> String {
    let digest = Sha512::digest(netns.as_os_str().as_encoded_bytes());
    let hex: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
    format!("cnitool-{hex}")
}

/// Runs one cnitool command. Returns what goes to stdout (ADD's result).
pub fn run(
    cli: &Cli,
    settings: &Settings,
    exec: &dyn cni_core::invoke::Exec,
    named: &dyn NamedNetns,
) -> Result<Option<String>, CnitoolError> {
    let mut settings = settings.clone();
    if let Some(ifname) = &cli.ifname {
        settings.ifname = ifname.clone();
    }
    let cni = CniConfig::new(settings.cni_path.clone(), exec)
        .with_cache_dir(&cli.cache_dir)
        .with_base_env(settings.base_env.clone());
    let (network, netns) = match &cli.command {
        Verb::Add { network, netns }
        | Verb::Check { network, netns }
        | Verb::Del { network, netns } => (network, Some(netns)),
        Verb::Status { network, .. } => (network, None),
        Verb::Gc {
            network,
            all,
            keep,
            keep_netns,
            ..
        } => {
            let valid = gc::keep_list(keep, keep_netns, &settings.ifname)?;
            return gc::run(
                &cni,
                &settings.netconf_path,
                network.as_deref(),
                *all,
                &valid,
            )
            .map(|()| None);
        }
        Verb::Netns(verb) => return netns_cmd::run(verb, named),
    };
    let list = load_conf_list(&settings.netconf_path, network)?;
    let rt = match netns {
        Some(netns) => runtime_conf(netns, &settings)?,
        None => RuntimeConf::default(),
    };
    match &cli.command {
        Verb::Add { .. } => {
            let result = cni.add_network_list(&list, &rt)?;
            Ok(Some(cni_core::json::to_string_indent4(&result)))
        }
        Verb::Check { .. } => cni
            .check_network_list(&list, &rt)
            .map(|()| None)
            .map_err(Into::into),
        Verb::Del { .. } => cni
            .del_network_list(&list, &rt)
            .map(|()| None)
            .map_err(Into::into),
        Verb::Status { .. } => cni
            .get_status_network_list(&list)
            .map(|()| None)
            .map_err(Into::into),
        Verb::Gc { .. } | Verb::Netns(_) => Ok(None),
    }
}

/// The attachment ADD, CHECK and DEL work on: the container ID derives from
/// the namespace path, as the reference's does.
fn runtime_conf(netns: &Path, settings: &Settings) -> Result<RuntimeConf, CnitoolError> {
    let netns = absolute_path(netns)?;
    Ok(RuntimeConf {
        container_id: container_id(&netns),
        netns: netns.to_string_lossy().into_owned(),
        ifname: settings.ifname.clone(),
        args: settings
            .cni_args
            .as_deref()
            .map(parse_cni_args)
            .transpose()?
            .unwrap_or_default(),
        capability_args: settings
            .cap_args
            .as_deref()
            .map(parse_cap_args)
            .transpose()?
            .unwrap_or_default(),
        cache_dir: None,
    })
}

/// The binary's body: parse, run, print; the process exit code.
pub fn main_from_env(named: &dyn NamedNetns) -> i32 {
    use clap::Parser;
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are successes; usage errors exit 1 like the reference.
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    match run(
        &cli,
        &Settings::from_env(),
        &cni_core::invoke::RawExec,
        named,
    ) {
        Ok(out) => {
            if let Some(out) = out {
                use std::io::Write;
                // The reference prints the result without a trailing newline.
                let mut stdout = std::io::stdout();
                let _ = stdout.write_all(out.as_bytes());
                let _ = stdout.flush();
            }
            0
        }
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cni_args_need_key_and_value() {
        assert_eq!(
            parse_cni_args("A=1;B=2").unwrap(),
            [
                ("A".to_string(), "1".to_string()),
                ("B".to_string(), "2".to_string())
            ]
        );
        for bad in ["A", "A=", "=1", "A=1=2", "A=1;", ";A=1"] {
            assert!(parse_cni_args(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_are_made_absolute_lexically() {
        assert_eq!(
            absolute_path(Path::new("/var/run/netns/../netns/./x")).unwrap(),
            PathBuf::from("/var/run/netns/x")
        );
        let rel = absolute_path(Path::new("x")).unwrap();
        assert_eq!(rel, std::env::current_dir().unwrap().join("x"));
    }

    #[test]
    fn container_id_is_the_references_sha512_prefix() {
        // sha512("/var/run/netns/test")[..10], computed independently with sha512sum.
        let id = container_id(Path::new("/var/run/netns/test"));
        assert_eq!(id.len(), "cnitool-".len() + 20);
        assert_eq!(id, format!("cnitool-{}", EXPECTED_TEST_HASH));
    }

    const EXPECTED_TEST_HASH: &str = "7b8a61d5d8e94d07cbe4";
}
