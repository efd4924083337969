//! `Exec` over real processes.

use super::output::parse_error_output;
use super::Exec;
use crate::error::CniError;
use crate::skel::{read_capped, CappedReadError, MAX_DOCUMENT_BYTES};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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
                Err(RunError::Io(e))
                    if e.raw_os_error() == Some(libc::ETXTBSY) && attempt < BUSY_RETRIES =>
                {
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

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The plugin was killed: what it printed cannot be a document we accept.
    #[error("its stdout is {0}")]
    Stdout(CappedReadError),
}

fn run_once(plugin: &Path, stdin: &[u8], env: &[(String, String)]) -> Result<Output, RunError> {
    let mut child = Command::new(plugin)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut pipe = child.stdin.take();
    let (Some(mut out), Some(mut err)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(std::io::Error::other("pipes to the plugin missing").into());
    };
    // stdin is written and stderr drained from threads, so a plugin that
    // prints before reading all of a large config cannot deadlock against us.
    let (stdout, stderr) = std::thread::scope(|s| {
        s.spawn(|| {
            if let Some(p) = pipe.as_mut() {
                // A plugin may exit without reading stdin; that is its business.
                let _ = p.write_all(stdin);
            }
            drop(pipe);
        });
        let stderr = s.spawn(move || read_head(&mut err, MAX_DOCUMENT_BYTES));
        let stdout = read_capped(&mut out, MAX_DOCUMENT_BYTES);
        if stdout.is_err() {
            // It may still be writing; nothing it prints now is read.
            let _ = child.kill();
        }
        drop(out);
        (stdout, stderr.join())
    });
    let status = child.wait()?;
    let stdout = stdout.map_err(|e| match e {
        CappedReadError::Io(e) => RunError::Io(e),
        too_large => RunError::Stdout(too_large),
    })?;
    let stderr = match stderr {
        Ok(Ok(text)) => text,
        Ok(Err(e)) => format!("(reading its stderr failed: {e})").into_bytes(),
        Err(_) => b"(reading its stderr failed)".to_vec(),
    };
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// The first `limit` bytes; the rest is read and dropped so the plugin never
/// blocks on a full pipe. Diagnostics beyond the cap are not an error.
fn read_head(reader: &mut dyn Read, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    reader
        .take(u64::try_from(limit).unwrap_or(u64::MAX))
        .read_to_end(&mut head)?;
    std::io::copy(reader, &mut std::io::sink())?;
    Ok(head)
}
