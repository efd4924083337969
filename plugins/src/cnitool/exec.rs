//! A minimal process `Exec` for cnitool.
//!
//! TEMPORARY: to be replaced by core's `invoke::RawExec` / `find_in_path`
//! once they land; kept deliberately small and behaviour-compatible with them.

use cni_core::error::code;
use cni_core::invoke::Exec;
use cni_core::CniError;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs plugins as child processes with exactly the given environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessExec;

impl Exec for ProcessExec {
    fn exec_plugin(
        &self,
        plugin: &Path,
        stdin: &[u8],
        env: &[(String, String)],
    ) -> Result<Vec<u8>, CniError> {
        let io_err = |what: &str, e: std::io::Error| {
            CniError::io(format!("{what} {}: {e}", plugin.display()))
        };
        let mut child = Command::new(plugin)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| io_err("cannot run plugin", e))?;
        // Fed from a thread so a plugin that writes before it reads cannot deadlock us.
        let mut child_stdin = child
            .stdin
            .take()
            .ok_or_else(|| CniError::io("plugin stdin unavailable"))?;
        let input = stdin.to_vec();
        let feeder = std::thread::spawn(move || {
            // A plugin may exit without reading its input; that is its business.
            let _ = child_stdin.write_all(&input);
        });
        let mut stderr = Vec::new();
        let stderr_reader = child.stderr.take().map(|mut pipe| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = pipe.read_to_end(&mut buf);
                buf
            })
        });
        let mut stdout = Vec::new();
        if let Some(mut pipe) = child.stdout.take() {
            pipe.read_to_end(&mut stdout)
                .map_err(|e| io_err("reading output of plugin", e))?;
        }
        let status = child.wait().map_err(|e| io_err("waiting for plugin", e))?;
        let _ = feeder.join();
        if let Some(reader) = stderr_reader {
            stderr = reader.join().unwrap_or_default();
        }
        // The plugin's log lines belong to the user, as with the reference.
        let _ = std::io::stderr().write_all(&stderr);
        if status.success() {
            return Ok(stdout);
        }
        if let Ok(err) = serde_json::from_slice::<CniError>(&stdout) {
            return Err(err);
        }
        let detail = String::from_utf8_lossy(if stdout.is_empty() { &stderr } else { &stdout })
            .trim()
            .to_string();
        Err(CniError::new(
            code::GENERIC,
            format!("netplugin failed ({status}): {detail:?}"),
        ))
    }

    fn find_in_path(&self, plugin_type: &str, paths: &[PathBuf]) -> Result<PathBuf, CniError> {
        if plugin_type.is_empty() || plugin_type.contains('/') || plugin_type.contains("..") {
            return Err(CniError::invalid_config(format!(
                "invalid plugin type {plugin_type:?}: must be a plain file name"
            )));
        }
        if paths.is_empty() {
            return Err(CniError::invalid_env(format!(
                "no plugin directories given (CNI_PATH is empty) to find plugin {plugin_type:?}"
            )));
        }
        paths
            .iter()
            .map(|dir| dir.join(plugin_type))
            .find(|candidate| {
                std::fs::metadata(candidate)
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })
            .ok_or_else(|| {
                let searched = paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                CniError::new(
                    code::GENERIC,
                    format!("failed to find plugin {plugin_type:?} in path [{searched}]"),
                )
            })
    }
}
