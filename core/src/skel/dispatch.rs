//! The dispatcher every plugin binary runs: reads the `CNI_*` variables and
//! stdin, validates them as the reference's skel does (same codes and
//! messages), gates on the config's version, calls the plugin and prints one
//! JSON document. `dispatch` is the whole logic without process I/O, so it can
//! be tested in-process; `run` wraps it for a real binary.

use super::capped::{read_capped, CappedReadError, MAX_DOCUMENT_BYTES};
use super::{CmdArgs, Plugin};
use crate::error::{code, CniError};
use crate::spec::validate::{
    validate_container_id, validate_interface_name, validate_network_name,
};
use crate::spec::version::{self, Version, VersionInfo, DEFAULT_CONFIG_VERSION};
use serde_json::Value;
use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

/// Where the dispatcher reads its variables from. An empty value counts as unset.
pub trait EnvSource {
    fn var(&self, key: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var_os(key).map(|v| v.to_string_lossy().into_owned())
    }
}

impl EnvSource for HashMap<String, String> {
    fn var(&self, key: &str) -> Option<String> {
        self.get(key).cloned()
    }
}

impl EnvSource for BTreeMap<String, String> {
    fn var(&self, key: &str) -> Option<String> {
        self.get(key).cloned()
    }
}

impl EnvSource for [(&str, &str)] {
    fn var(&self, key: &str) -> Option<String> {
        self.iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    }
}

/// What the plugin process prints and how it exits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

impl Outcome {
    fn ok(stdout: String) -> Self {
        Outcome {
            stdout,
            stderr: String::new(),
            exit_code: 0,
        }
    }
    fn error(e: CniError) -> Self {
        Outcome {
            stdout: e.to_json_pretty(),
            stderr: String::new(),
            exit_code: 1,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Command {
    Add,
    Check,
    Del,
    Gc,
    Status,
    Version,
    Unknown,
}

impl Command {
    fn parse(s: &str) -> Command {
        match s {
            "ADD" => Command::Add,
            "CHECK" => Command::Check,
            "DEL" => Command::Del,
            "GC" => Command::Gc,
            "STATUS" => Command::Status,
            "VERSION" => Command::Version,
            _ => Command::Unknown,
        }
    }
}

type Validator = fn(&str) -> Result<(), CniError>;

/// The variables in the reference's order, which verbs need each, and how a
/// present value is validated (spec 1.1.0: DEL does not need CNI_NETNS; GC and
/// STATUS need only CNI_PATH; VERSION needs nothing).
const VARIABLES: &[(&str, &[Command], Option<Validator>)] = &[
    (
        "CNI_CONTAINERID",
        &[Command::Add, Command::Check, Command::Del],
        Some(validate_container_id),
    ),
    ("CNI_NETNS", &[Command::Add, Command::Check], None),
    (
        "CNI_IFNAME",
        &[Command::Add, Command::Check, Command::Del],
        Some(validate_interface_name),
    ),
    ("CNI_ARGS", &[], None),
    (
        "CNI_PATH",
        &[
            Command::Add,
            Command::Check,
            Command::Del,
            Command::Gc,
            Command::Status,
        ],
        None,
    ),
];

fn get(env: &dyn EnvSource, key: &str) -> String {
    env.var(key).unwrap_or_default()
}

/// Runs one plugin invocation without touching the process: `env` and `stdin`
/// in, what to print and the exit code out.
pub fn dispatch(
    env: &dyn EnvSource,
    stdin: &mut dyn Read,
    plugin: &dyn Plugin,
    supported_versions: &[&str],
) -> Outcome {
    dispatch_with(env, stdin, plugin, supported_versions, &mut |_, _| {})
}

/// [`dispatch`], calling `on_config` with the configuration once it is read
/// from stdin and before the plugin runs (not for VERSION, nor when the
/// variables or stdin are refused first): where a binary sets up what the
/// config asks of the process as a whole, such as its log file. It gets the
/// bytes and, when they are JSON, the document the dispatcher parsed from
/// them (so nothing parses it a second time).
pub fn dispatch_with(
    env: &dyn EnvSource,
    stdin: &mut dyn Read,
    plugin: &dyn Plugin,
    supported_versions: &[&str],
    on_config: &mut dyn FnMut(&[u8], Option<&Value>),
) -> Outcome {
    let command_name = get(env, "CNI_COMMAND");
    let command = Command::parse(&command_name);
    if let Err(answered) = check_variables(env, &command_name, plugin, supported_versions) {
        return answered;
    }
    if command == Command::Version {
        // Answered whatever stdin holds; the reference does not read it.
        return Outcome::ok(VersionInfo::for_plugin(supported_versions).encode());
    }

    let stdin_data = match read_capped(stdin, MAX_DOCUMENT_BYTES) {
        Ok(data) => data,
        Err(e @ CappedReadError::TooLarge { .. }) => {
            return Outcome::error(CniError::decode(format!(
                "the network config on stdin is {e}"
            )))
        }
        Err(CappedReadError::Io(e)) => {
            return Outcome::error(CniError::io(format!("error reading from stdin: {e}")))
        }
    };
    let document = serde_json::from_slice::<Value>(&stdin_data);
    on_config(&stdin_data, document.as_ref().ok());
    let config_version = match read_config_header(document) {
        Ok(v) => v,
        Err(e) => return Outcome::error(e),
    };
    let args = cmd_args(env, stdin_data);
    // A panic unwinds through the plugin's frames, so its undo guards take
    // this attachment's steps back; the runtime then gets an error document.
    let answer = catch_unwind(AssertUnwindSafe(|| {
        run_command(
            plugin,
            &command_name,
            &config_version,
            supported_versions,
            &args,
        )
    }))
    .unwrap_or_else(|payload| Err(panicked(payload.as_ref())));
    match answer {
        Ok(stdout) => Outcome::ok(stdout),
        Err(e) => Outcome::error(tag_with_version(e, &config_version)),
    }
}

/// The error a panicking verb answers with: the generic code (nothing more
/// specific is known), naming what the panic said.
fn panicked(payload: &(dyn Any + Send)) -> CniError {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    CniError::new(code::GENERIC, format!("plugin panicked: {what}"))
}

/// The `CNI_*` variables the command needs are present and valid. Without
/// any command a person ran the binary: the answer tells them what it is.
fn check_variables(
    env: &dyn EnvSource,
    command_name: &str,
    plugin: &dyn Plugin,
    supported_versions: &[&str],
) -> Result<(), Outcome> {
    let command = Command::parse(command_name);
    let mut missing = Vec::new();
    if command_name.is_empty() {
        missing.push("CNI_COMMAND");
    }
    for (name, needed_by, validator) in VARIABLES {
        let value = get(env, name);
        let needed = needed_by.contains(&command);
        if value.is_empty() {
            if needed {
                missing.push(*name);
            }
        } else if let (true, Some(validate)) = (needed, validator) {
            validate(&value).map_err(Outcome::error)?;
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    if command_name.is_empty() {
        return Err(Outcome {
            stdout: String::new(),
            stderr: format!(
                "{}\nCNI protocol versions supported: {}\n",
                plugin.about(),
                supported_versions.join(", ")
            ),
            exit_code: 0,
        });
    }
    Err(Outcome::error(CniError::invalid_env(format!(
        "required env variables [{}] missing",
        missing.join(",")
    ))))
}

fn cmd_args(env: &dyn EnvSource, stdin: Vec<u8>) -> CmdArgs {
    CmdArgs {
        container_id: get(env, "CNI_CONTAINERID"),
        netns: get(env, "CNI_NETNS"),
        ifname: get(env, "CNI_IFNAME"),
        args: get(env, "CNI_ARGS"),
        path: get(env, "CNI_PATH")
            .split(':')
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect(),
        stdin,
    }
}

/// Errors after the config was read carry its version, when it is one.
fn tag_with_version(e: CniError, config_version: &str) -> CniError {
    if e.cni_version.is_empty() && Version::parse(config_version).is_ok() {
        e.with_version(config_version)
    } else {
        e
    }
}

/// The command on a readable config: gated on its version, then the plugin's
/// verb; ADD's result is rendered at the config's version.
fn run_command(
    plugin: &dyn Plugin,
    command_name: &str,
    config_version: &str,
    supported_versions: &[&str],
    args: &CmdArgs,
) -> Result<String, CniError> {
    let command = Command::parse(command_name);
    if command == Command::Unknown {
        return Err(unknown_command(command_name));
    }
    check_version(command, config_version, supported_versions)?;
    if matches!(command, Command::Add | Command::Check | Command::Del) {
        refuse_own_netns(&args.netns)?;
    }
    match command {
        Command::Add => plugin.add(args).and_then(|r| {
            r.to_json_at(config_version)
                .map_err(|e| CniError::from(e).with_details("converting the ADD result"))
        }),
        Command::Check => plugin.check(args).map(|()| String::new()),
        Command::Del => plugin.del(args).map(|()| String::new()),
        Command::Gc => plugin.gc(args).map(|()| String::new()),
        Command::Status => plugin.status(args).map(|()| String::new()),
        // Both were answered before; kept total without a panic path.
        Command::Version | Command::Unknown => Err(unknown_command(command_name)),
    }
}

fn unknown_command(name: &str) -> CniError {
    CniError::invalid_env(format!("unknown CNI_COMMAND: {name}"))
}

/// A runtime that hands a plugin the plugin's own namespace would have it
/// rewire the host. Checked before the plugin runs (the reference checks only
/// after ADD); a path that cannot be examined is left for the plugin to judge.
fn refuse_own_netns(netns: &str) -> Result<(), CniError> {
    use std::os::unix::fs::MetadataExt;
    if netns.is_empty() {
        return Ok(());
    }
    let (Ok(target), Ok(own)) = (
        std::fs::metadata(netns),
        std::fs::metadata("/proc/self/ns/net"),
    ) else {
        return Ok(());
    };
    if (target.dev(), target.ino()) == (own.dev(), own.ino()) {
        return Err(CniError::invalid_env(
            "plugin's netns and netns from CNI_NETNS should not be the same",
        )
        .with_details(netns));
    }
    Ok(())
}

/// The reference's `validateConfig` and `ConfigDecoder`: malformed -> 6,
/// missing or invalid `name` -> 7, non-string `cniVersion` -> 6. Returns the
/// version, `0.1.0` when absent.
fn read_config_header(document: serde_json::Result<Value>) -> Result<String, CniError> {
    let value =
        document.map_err(|e| CniError::decode(format!("error unmarshall network config: {e}")))?;
    let Value::Object(map) = value else {
        return Err(CniError::decode(
            "error unmarshall network config: the config is not a JSON object",
        ));
    };
    let name = match map.get("name") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(CniError::decode(format!(
                "error unmarshall network config: field \"name\" must be a string, got {other}"
            )))
        }
    };
    validate_network_name(name)?;
    match map.get("cniVersion") {
        None | Some(Value::Null) => Ok(DEFAULT_CONFIG_VERSION.to_string()),
        Some(Value::String(s)) if s.is_empty() => Ok(DEFAULT_CONFIG_VERSION.to_string()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(CniError::decode(format!(
            "decoding version from network config: field \"cniVersion\" must be a string, got {other}"
        ))),
    }
}

/// Garbage or unsupported versions -> code 1 with the reference's details;
/// CHECK needs 0.4.0, GC and STATUS need 1.1.0.
fn check_version(
    command: Command,
    config_version: &str,
    supported: &[&str],
) -> Result<(), CniError> {
    if Version::parse(config_version).is_err() {
        return Err(version::incompatible(config_version, supported));
    }
    let floor = match command {
        Command::Check => Some(("0.4.0", "CHECK")),
        Command::Gc => Some(("1.1.0", "GC")),
        Command::Status => Some(("1.1.0", "STATUS")),
        _ => None,
    };
    if let Some((minimum, verb)) = floor {
        if !version::version_at_least(config_version, minimum)? {
            return Err(CniError::incompatible_version(format!(
                "config version does not allow {verb}"
            )));
        }
    }
    if !supported.contains(&config_version) {
        return Err(version::incompatible(config_version, supported));
    }
    Ok(())
}

/// The `main` of a plugin binary: dispatches on the real environment and
/// stdin, prints, and exits (0, or 1 after printing an error document).
pub fn run(plugin: &dyn Plugin, supported_versions: &[&str]) -> ! {
    run_with(plugin, supported_versions, &mut |_, _| {})
}

/// [`run`] with [`dispatch_with`]'s `on_config`.
pub fn run_with(
    plugin: &dyn Plugin,
    supported_versions: &[&str],
    on_config: &mut dyn FnMut(&[u8], Option<&Value>),
) -> ! {
    let outcome = dispatch_with(
        &ProcessEnv,
        &mut std::io::stdin().lock(),
        plugin,
        supported_versions,
        on_config,
    );
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(outcome.stderr.as_bytes());
    let _ = stderr.flush();
    let mut stdout = std::io::stdout().lock();
    let printed = stdout
        .write_all(outcome.stdout.as_bytes())
        .and_then(|()| stdout.flush());
    if let Err(e) = printed {
        let _ = writeln!(stderr, "error writing to stdout: {e}");
        std::process::exit(1);
    }
    std::process::exit(outcome.exit_code)
}
