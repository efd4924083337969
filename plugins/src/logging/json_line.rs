//! The operator's log file: one JSON object a line, appended.

use serde_json::{Map, Value};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context as LayerContext;
use tracing_subscriber::Layer;

/// What identifies this invocation on every line (from the `CNI_*`
/// variables and the runtime's trace context).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    pub plugin: String,
    pub command: Option<String>,
    pub container_id: Option<String>,
    pub netns: Option<String>,
    pub ifname: Option<String>,
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
}

impl Context {
    /// `var` reads one variable (empty counts as unset).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Self {
        let plugin = std::env::args_os()
            .next()
            .map(|argv0| {
                Path::new(&argv0)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        Context {
            plugin,
            command: var("CNI_COMMAND"),
            container_id: var("CNI_CONTAINERID"),
            netns: var("CNI_NETNS"),
            ifname: var("CNI_IFNAME"),
            traceparent: var("TRACEPARENT"),
            tracestate: var("TRACESTATE"),
        }
    }

    /// One log line (without the newline).
    pub fn line(&self, time: SystemTime, level: &str, fields: Map<String, Value>) -> String {
        let mut out = Map::new();
        out.insert("time".into(), Value::String(rfc3339(time)));
        out.insert("level".into(), Value::String(level.to_string()));
        out.insert("plugin".into(), Value::String(self.plugin.clone()));
        let optional = [
            ("command", &self.command),
            ("containerID", &self.container_id),
            ("netns", &self.netns),
            ("ifname", &self.ifname),
            ("traceparent", &self.traceparent),
            ("tracestate", &self.tracestate),
        ];
        for (key, value) in optional {
            if let Some(v) = value {
                out.insert(key.into(), Value::String(v.clone()));
            }
        }
        // The event's own fields never replace the invocation's identity.
        for (key, value) in fields {
            out.entry(key).or_insert(value);
        }
        Value::Object(out).to_string()
    }
}

/// Appends one JSON line per event to a file.
pub struct JsonFileLayer {
    file: Mutex<File>,
    context: Context,
}

impl JsonFileLayer {
    /// Opens `path` for appending (created 0600; never through a symlink).
    pub fn open(path: &Path, context: Context) -> std::io::Result<Self> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)?;
        Ok(JsonFileLayer {
            file: Mutex::new(file),
            context,
        })
    }
}

impl<S: Subscriber> Layer<S> for JsonFileLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: LayerContext<'_, S>) {
        let mut fields = Fields(Map::new());
        event.record(&mut fields);
        let level = event.metadata().level().as_str().to_ascii_lowercase();
        let mut line = self.context.line(SystemTime::now(), &level, fields.0);
        line.push('\n');
        // One write per line: O_APPEND keeps concurrent plugins' lines whole.
        if let Ok(mut file) = self.file.lock() {
            let _ = file.write_all(line.as_bytes());
        }
    }
}

struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().into(), Value::String(value.into()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::String(format!("{value:?}")));
    }
}

/// `2024-05-01T12:00:00.123Z`.
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Howard Hinnant's days-to-civil: days since 1970-01-01 to (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_are_rfc3339_utc() {
        let t = UNIX_EPOCH + Duration::from_millis(1_709_251_199_007);
        assert_eq!(rfc3339(t), "2024-02-29T23:59:59.007Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn a_line_carries_the_invocation_and_the_message() {
        let ctx = Context {
            plugin: "bridge".into(),
            command: Some("ADD".into()),
            container_id: Some("c1".into()),
            netns: Some("/var/run/netns/x".into()),
            ifname: Some("eth0".into()),
            traceparent: Some("00-aa-bb-01".into()),
            tracestate: None,
        };
        let mut fields = Map::new();
        fields.insert("message".into(), Value::String("undid veth".into()));
        fields.insert("plugin".into(), Value::String("spoofed".into()));
        let line: Value = serde_json::from_str(&ctx.line(UNIX_EPOCH, "info", fields)).unwrap();
        assert_eq!(
            line,
            serde_json::json!({"time": "1970-01-01T00:00:00.000Z", "level": "info",
                "plugin": "bridge", "command": "ADD", "containerID": "c1",
                "netns": "/var/run/netns/x", "ifname": "eth0",
                "traceparent": "00-aa-bb-01", "message": "undid veth"})
        );
    }
}
