//! `Exec` over real processes.

use super::output::parse_error_output;
use super::Exec;
use crate::error::CniError;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs plugin binaries. The plugin's stderr is passed through to ours.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawExec;

/// A binary being replaced is briefly "text file busy"; the reference retries.
const BUSY_RETRIES: u32 = 5;

impl Exec for RawExec {
    fn exec_plugin(
        &self,
        plugin: &Path,
        stdin: &[u8],
        env: &[(String, String)],
    ) -> Result<Vec<u8>, CniError> {
        let mut attempt = 0;
        let output = loop {
            match run_once(plugin, stdin, env) {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && attempt < BUSY_RETRIES => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
                Err(e) => {
                    return Err(CniError::io(format!(
                        "failed to run plugin {}: {e}",
                        plugin.display()
                    )))
                }
                Ok(out) => break out,
            }
        };
        if !output.stderr.is_empty() {
            let _ = std::io::stderr().write_all(&output.stderr);
        }
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(parse_error_output(
                &plugin.display().to_string(),
                &output.stdout,
                &output.stderr,
                &output.status.to_string(),
            ))
        }
    }

    fn find_in_path(&self, plugin_type: &str, paths: &[PathBuf]) -> Result<PathBuf, CniError> {
        super::find::find_in_path(plugin_type, paths)
    }
}

fn run_once(
    plugin: &Path,
    stdin: &[u8],
    env: &[(String, String)],
) -> std::io::Result<std::process::Output> {
    let mut child = Command::new(plugin)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut pipe = child.stdin.take();
    // Written from a thread so a plugin that prints before reading all of a
    // large config cannot deadlock against us.
    std::thread::scope(|s| {
        s.spawn(|| {
            if let Some(p) = pipe.as_mut() {
                // A plugin may exit without reading stdin; that is its business.
                let _ = p.write_all(stdin);
            }
            drop(pipe);
        });
        child.wait_with_output()
    })
}
