//! Calling another plugin the way the reference's `invoke` package does:
//! delegation (an IPAM plugin from a main plugin) and the VERSION probe.

use super::output::parse_result_output;
use super::Exec;
use crate::error::CniError;
use crate::skel::CmdArgs;
use crate::spec::version::{VersionInfo, CURRENT, DEFAULT_CONFIG_VERSION};
use crate::spec::CniResult;
use std::path::{Path, PathBuf};

/// This process's environment as `(key, value)` pairs.
pub fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect()
}

/// The environment a plugin hands its delegate: this process's environment
/// with the `CNI_*` variables taken from `args`. In a plugin binary that is the
/// runtime's environment; in an in-process test it carries the test's values.
pub fn delegate_env(args: &CmdArgs) -> Vec<(String, String)> {
    let path = std::env::join_paths(&args.path)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cni = [
        ("CNI_CONTAINERID", args.container_id.clone()),
        ("CNI_NETNS", args.netns.clone()),
        ("CNI_IFNAME", args.ifname.clone()),
        ("CNI_ARGS", args.args.clone()),
        ("CNI_PATH", path),
    ];
    let mut env: Vec<(String, String)> = process_env()
        .into_iter()
        .filter(|(k, _)| !cni.iter().any(|(name, _)| name == k))
        .collect();
    env.extend(cni.into_iter().map(|(k, v)| (k.to_string(), v)));
    env
}

fn with_command(env: &[(String, String)], command: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| k != "CNI_COMMAND")
        .cloned()
        .collect();
    out.push(("CNI_COMMAND".into(), command.into()));
    out
}

fn locate(
    plugin_type: &str,
    env: &[(String, String)],
    exec: &dyn Exec,
) -> Result<PathBuf, CniError> {
    let cni_path = env
        .iter()
        .rev()
        .find(|(k, _)| k == "CNI_PATH")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let paths: Vec<PathBuf> = std::env::split_paths(cni_path)
        .filter(|p| !p.as_os_str().is_empty())
        .collect();
    exec.find_in_path(plugin_type, &paths)
}

fn config_version(netconf: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(netconf)
        .ok()
        .and_then(|v| {
            v.get("cniVersion")
                .and_then(|s| s.as_str())
                .map(str::to_string)
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_CONFIG_VERSION.to_string())
}

/// Runs `plugin` and parses its result; a result without `cniVersion` is at
/// the config's version.
pub fn exec_plugin_with_result(
    plugin: &Path,
    netconf: &[u8],
    env: &[(String, String)],
    exec: &dyn Exec,
) -> Result<CniResult, CniError> {
    let stdout = exec.exec_plugin(plugin, netconf, env)?;
    parse_result_output(&stdout, &config_version(netconf))
}

pub fn exec_plugin_without_result(
    plugin: &Path,
    netconf: &[u8],
    env: &[(String, String)],
    exec: &dyn Exec,
) -> Result<(), CniError> {
    exec.exec_plugin(plugin, netconf, env).map(drop)
}

/// ADD on the delegate `plugin_type` found in `CNI_PATH`, with this process's
/// environment (CNI_COMMAND=ADD) and the full config.
pub fn delegate_add(
    plugin_type: &str,
    netconf: &[u8],
    exec: &dyn Exec,
) -> Result<CniResult, CniError> {
    delegate_add_with_env(plugin_type, netconf, exec, &process_env())
}

pub fn delegate_check(plugin_type: &str, netconf: &[u8], exec: &dyn Exec) -> Result<(), CniError> {
    delegate_check_with_env(plugin_type, netconf, exec, &process_env())
}

pub fn delegate_del(plugin_type: &str, netconf: &[u8], exec: &dyn Exec) -> Result<(), CniError> {
    delegate_del_with_env(plugin_type, netconf, exec, &process_env())
}

/// [`delegate_add`] with an explicit environment to inherit.
pub fn delegate_add_with_env(
    plugin_type: &str,
    netconf: &[u8],
    exec: &dyn Exec,
    env: &[(String, String)],
) -> Result<CniResult, CniError> {
    let path = locate(plugin_type, env, exec)?;
    exec_plugin_with_result(&path, netconf, &with_command(env, "ADD"), exec)
}

pub fn delegate_check_with_env(
    plugin_type: &str,
    netconf: &[u8],
    exec: &dyn Exec,
    env: &[(String, String)],
) -> Result<(), CniError> {
    delegate_verb_with_env("CHECK", plugin_type, netconf, exec, env)
}

pub fn delegate_del_with_env(
    plugin_type: &str,
    netconf: &[u8],
    exec: &dyn Exec,
    env: &[(String, String)],
) -> Result<(), CniError> {
    delegate_verb_with_env("DEL", plugin_type, netconf, exec, env)
}

/// Any verb that prints no result (CHECK, DEL, STATUS, GC) on the delegate.
pub fn delegate_verb_with_env(
    command: &str,
    plugin_type: &str,
    netconf: &[u8],
    exec: &dyn Exec,
    env: &[(String, String)],
) -> Result<(), CniError> {
    let path = locate(plugin_type, env, exec)?;
    exec_plugin_without_result(&path, netconf, &with_command(env, command), exec)
}

/// Asks the plugin at `plugin` which versions it supports. A plugin too old to
/// know VERSION supports 0.1.0 only.
pub fn get_version_info(plugin: &Path, exec: &dyn Exec) -> Result<VersionInfo, CniError> {
    get_version_info_with_env(plugin, exec, &process_env())
}

/// [`get_version_info`] with an explicit environment to inherit (libcni
/// passes its runtime's, not this process's).
pub fn get_version_info_with_env(
    plugin: &Path,
    exec: &dyn Exec,
    env: &[(String, String)],
) -> Result<VersionInfo, CniError> {
    let mut env = with_command(env, "VERSION");
    // Plugins built on an old skel demand these even for VERSION.
    for (k, v) in [
        ("CNI_NETNS", "dummy"),
        ("CNI_IFNAME", "dummy"),
        ("CNI_PATH", "dummy"),
    ] {
        env.retain(|(key, _)| key != k);
        env.push((k.into(), v.into()));
    }
    let stdin = format!("{{\"cniVersion\":\"{CURRENT}\"}}");
    match exec.exec_plugin(plugin, stdin.as_bytes(), &env) {
        Ok(out) => VersionInfo::decode(&out),
        Err(e) if e.msg == "unknown CNI_COMMAND: VERSION" => Ok(VersionInfo {
            cni_version: "0.1.0".into(),
            supported_versions: vec!["0.1.0".into()],
        }),
        Err(e) => Err(e),
    }
}
