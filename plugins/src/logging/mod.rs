//! Plugin logs. stderr always (stdout carries only the one JSON document);
//! `CNI_RS_LOG` picks its level (`error`, `warn` — the default —, `info`,
//! `debug`, `trace`, `off`; an unknown value keeps the default).
//!
//! For operators, `CNI_RS_LOG_FILE=<path>` also appends every event to a
//! file, one JSON object a line (`json_line.rs`): time, level, plugin,
//! command, container ID, netns, ifname, the runtime's trace context and the
//! message. `CNI_RS_LOG_FILE_LEVEL` is its level (default `info`, so a failed
//! ADD's undo steps are there). Only the `CNI_*` identifiers and the message
//! are written — never the configuration on stdin, which can hold secrets.
//!
//! The trace context (`TRACEPARENT`/`TRACESTATE`, passed by libcni) is on
//! every stderr line too, as the span `trace{...}`.

mod json_line;

use json_line::{Context, JsonFileLayer};
use std::path::PathBuf;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

pub const ENV: &str = "CNI_RS_LOG";
pub const FILE_ENV: &str = "CNI_RS_LOG_FILE";
pub const FILE_LEVEL_ENV: &str = "CNI_RS_LOG_FILE_LEVEL";

fn level(var: &str, default: LevelFilter) -> LevelFilter {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse::<LevelFilter>().ok())
        .unwrap_or(default)
}

fn var(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

pub fn init() {
    let context = Context::from_env(var);
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .with_filter(level(ENV, LevelFilter::WARN));
    // A log file that cannot be opened must not fail the plugin: it is said
    // on stderr and the plugin goes on.
    let file = var(FILE_ENV).and_then(|path| {
        let path = PathBuf::from(path);
        match JsonFileLayer::open(&path, context.clone()) {
            Ok(layer) => Some(layer.with_filter(level(FILE_LEVEL_ENV, LevelFilter::INFO))),
            Err(e) => {
                eprintln!("cannot open log file {} ({FILE_ENV}): {e}", path.display());
                None
            }
        }
    });
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
