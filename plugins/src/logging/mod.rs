//! Plugin logs. stderr always (stdout carries only the one JSON document);
//! `CNI_RS_LOG` picks its level (`error`, `warn` — the default —, `info`,
//! `debug`, `trace`, `off`; an unknown value keeps the default).
//!
//! For operators, a log file gets every event too, one JSON object a line
//! (`json_line.rs`): time, level, plugin, command, container ID, netns,
//! ifname, the runtime's trace context and the message. Its path is
//! `CNI_RS_LOG_FILE=<path>` or the network config's top-level `"logFile"`
//! (absolute), its level `CNI_RS_LOG_FILE_LEVEL` or `"logLevel"` (default
//! `info`, so a failed ADD's undo steps are there). The environment wins
//! over the config: an operator on a node can redirect every plugin's log
//! without editing configs shared by many nodes. The keys are Multus's
//! names for the same thing. Only the `CNI_*` identifiers and the message
//! are written — never the configuration on stdin, which can hold secrets.
//!
//! Every binary reads them in one place: [`crate::binary::run`] hands the
//! config the dispatcher parsed to [`init_with_document`]. A key
//! of the wrong type, a relative path or an unknown level is said on stderr
//! naming the key and ignored: logging never fails the plugin.
//!
//! The trace context (`TRACEPARENT`/`TRACESTATE`, passed by libcni) is on
//! every stderr line too, as the span `trace{...}`.

mod json_line;

use json_line::{Context, JsonFileLayer};
use std::path::{Path, PathBuf};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

pub const ENV: &str = "CNI_RS_LOG";
pub const FILE_ENV: &str = "CNI_RS_LOG_FILE";
pub const FILE_LEVEL_ENV: &str = "CNI_RS_LOG_FILE_LEVEL";

fn level_var(var: &str) -> Option<LevelFilter> {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse::<LevelFilter>().ok())
}

fn level(var: &str, default: LevelFilter) -> LevelFilter {
    level_var(var).unwrap_or(default)
}

fn var(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// The config's top-level `logFile` key.
pub const FILE_KEY: &str = "logFile";
/// The config's top-level `logLevel` key.
pub const FILE_LEVEL_KEY: &str = "logLevel";

/// The log file settings a network config asks for.
#[derive(Debug, Default, PartialEq)]
pub struct ConfigLog {
    pub file: Option<PathBuf>,
    pub level: Option<LevelFilter>,
    /// What is wrong with the keys, each naming its key (said on stderr).
    pub problems: Vec<String>,
}

impl ConfigLog {
    /// Reads `logFile` and `logLevel` (matched ignoring case, as every other
    /// key) from a config; anything that is not a JSON object asks for
    /// nothing (the dispatcher refuses it with its own error).
    pub fn parse(config: &[u8]) -> ConfigLog {
        serde_json::from_slice(config)
            .map(|document| ConfigLog::of(&document))
            .unwrap_or_default()
    }

    /// [`ConfigLog::parse`] of a parsed document.
    pub fn of(config: &serde_json::Value) -> ConfigLog {
        let mut out = ConfigLog::default();
        let serde_json::Value::Object(map) = config else {
            return out;
        };
        let key = |name: &str| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        match key(FILE_KEY) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::String(p)) if p.is_empty() => {}
            Some(serde_json::Value::String(p)) if Path::new(p).is_absolute() => {
                out.file = Some(PathBuf::from(p));
            }
            Some(serde_json::Value::String(p)) => out.problems.push(format!(
                "{FILE_KEY}: {p:?} is not an absolute path (a plugin's working directory is the runtime's)"
            )),
            Some(other) => out
                .problems
                .push(format!("{FILE_KEY}: expected a string path, got {other}")),
        }
        match key(FILE_LEVEL_KEY) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::String(l)) => match l.parse::<LevelFilter>() {
                Ok(level) => out.level = Some(level),
                Err(_) => out.problems.push(format!(
                    "{FILE_LEVEL_KEY}: {l:?} is not one of error, warn, info, debug, trace, off"
                )),
            },
            Some(other) => out
                .problems
                .push(format!("{FILE_LEVEL_KEY}: expected a string, got {other}")),
        }
        out
    }
}

/// Logs from the environment alone (a binary that reads no network config).
pub fn init() {
    init_from(ConfigLog::default());
}

/// Logs from the environment and the network config on stdin (the
/// environment wins); problems with the config's keys are said on stderr.
pub fn init_with_config(config: &[u8]) {
    init_from(ConfigLog::parse(config));
}

/// [`init_with_config`] on a config already parsed (`None`: not JSON).
pub fn init_with_document(config: Option<&serde_json::Value>) {
    init_from(config.map(ConfigLog::of).unwrap_or_default());
}

fn init_from(config: ConfigLog) {
    for problem in &config.problems {
        eprintln!("log file setting ignored: {problem}");
    }
    let context = Context::from_env(var);
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .with_filter(level(ENV, LevelFilter::WARN));
    // A log file that cannot be opened must not fail the plugin: it is said
    // on stderr and the plugin goes on.
    let from_env = var(FILE_ENV).map(|p| (PathBuf::from(p), FILE_ENV));
    let file = from_env
        .or_else(|| config.file.map(|p| (p, FILE_KEY)))
        .and_then(
            |(path, source)| match JsonFileLayer::open(&path, context.clone()) {
                Ok(layer) => {
                    let file_level = level_var(FILE_LEVEL_ENV)
                        .or(config.level)
                        .unwrap_or(LevelFilter::INFO);
                    Some(layer.with_filter(file_level))
                }
                Err(e) => {
                    eprintln!("cannot open log file {} ({source}): {e}", path.display());
                    None
                }
            },
        );
    // A second init (tests) keeps the first subscriber; nothing to report.
    if tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init()
        .is_err()
    {
        return;
    }
    if let Some(traceparent) = &context.traceparent {
        // An error-level span is never filtered out, so every stderr line
        // carries the trace context; entered for the rest of the process.
        let span = tracing::error_span!(
            "trace",
            traceparent = %traceparent,
            tracestate = context.tracestate.as_deref().unwrap_or("")
        );
        std::mem::forget(span.entered());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keys_are_read_ignoring_case_and_checked() {
        let c =
            ConfigLog::parse(br#"{"name":"n","logFile":"/var/log/cni.log","LOGLEVEL":"debug"}"#);
        assert_eq!(c.file.as_deref(), Some(Path::new("/var/log/cni.log")));
        assert_eq!(c.level, Some(LevelFilter::DEBUG));
        assert!(c.problems.is_empty(), "{:?}", c.problems);

        assert_eq!(ConfigLog::parse(br#"{"name":"n"}"#), ConfigLog::default());
        assert_eq!(ConfigLog::parse(b"not json"), ConfigLog::default());
        assert_eq!(
            ConfigLog::parse(br#"{"logFile":null,"logLevel":null}"#),
            ConfigLog::default()
        );

        for (config, key) in [
            (
                &br#"{"logFile":"cni.log"}"#[..],
                "logFile: \"cni.log\" is not an absolute path",
            ),
            (
                br#"{"logFile":7}"#,
                "logFile: expected a string path, got 7",
            ),
            (
                br#"{"logLevel":"verbose"}"#,
                "logLevel: \"verbose\" is not one of",
            ),
            (br#"{"logLevel":3}"#, "logLevel: expected a string, got 3"),
        ] {
            let c = ConfigLog::parse(config);
            assert_eq!(c.file, None);
            assert_eq!(c.level, None);
            assert_eq!(c.problems.len(), 1, "{c:?}");
            assert!(c.problems[0].starts_with(key), "{:?}", c.problems);
        }
    }
}
