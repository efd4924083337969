//! Plugin logs go to stderr — stdout carries only the one JSON document.
//! `CNI_RS_LOG` picks the level (`error`, `warn` — the default —, `info`,
//! `debug`, `trace`, `off`); an unknown value keeps the default.

use tracing_subscriber::filter::LevelFilter;

pub const ENV: &str = "CNI_RS_LOG";

pub fn init() {
    let level = std::env::var(ENV)
        .ok()
        .and_then(|v| v.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::WARN);
    // A second init (tests) keeps the first subscriber; nothing to report.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .without_time()
        .with_target(false)
        .try_init();
}
