//! Running one plugin binary once, as a runtime would, and reading what it
//! printed: a result, an error document, or something that is neither.

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Long enough for any plugin on a loaded machine; a hang is an outcome.
const TIMEOUT: Duration = Duration::from_secs(20);

/// What one invocation printed.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok(Value),
    Error {
        code: u64,
        msg: String,
    },
    /// No JSON document on stdout (a crash, a panic).
    Broken {
        status: Option<i32>,
        stdout: String,
    },
}

impl Outcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok(_))
    }
}

/// One invocation's environment.
pub struct Invocation<'a> {
    pub command: &'a str,
    pub container_id: &'a str,
    pub ifname: &'a str,
    pub netns: &'a str,
    pub cni_args: &'a str,
    pub stdin: &'a str,
}

pub fn invoke(bin: &Path, inv: &Invocation<'_>) -> std::io::Result<Outcome> {
    let mut child = Command::new(bin)
        .env_clear()
        .env("CNI_COMMAND", inv.command)
        .env("CNI_CONTAINERID", inv.container_id)
        .env("CNI_NETNS", inv.netns)
        .env("CNI_IFNAME", inv.ifname)
        .env("CNI_PATH", "/nonexistent")
        .env("CNI_ARGS", inv.cni_args)
        .env("CNI_RS_LOG", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        // A plugin that exits before reading is an outcome, not a harness error.
        let _ = stdin.write_all(inv.stdin.as_bytes());
    }
    // The 1.1.1 reference loops for ever on some subnets (first byte zero).
    let deadline = Instant::now() + TIMEOUT;
    while child.try_wait()?.is_none() {
        if Instant::now() > deadline {
            child.kill()?;
            child.wait()?;
            return Ok(Outcome::Broken {
                status: None,
                stdout: format!("no exit within {TIMEOUT:?}"),
            });
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let out = child.wait_with_output()?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    Ok(classify(out.status.success(), out.status.code(), stdout))
}

pub fn classify(success: bool, status: Option<i32>, stdout: String) -> Outcome {
    let doc = serde_json::from_str::<Value>(&stdout).ok();
    match (success, doc) {
        (true, Some(v)) => Outcome::Ok(v),
        (true, None) if stdout.trim().is_empty() => Outcome::Ok(Value::Null),
        (false, Some(v)) if v.get("code").is_some() => Outcome::Error {
            code: v["code"].as_u64().unwrap_or(0),
            msg: v["msg"].as_str().unwrap_or_default().to_string(),
        },
        _ => Outcome::Broken { status, stdout },
    }
}
