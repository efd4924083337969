//! An in-memory `Exec`: plugins are closures or [`Plugin`] objects registered
//! by type, so libcni, chains and delegation are tested without processes.

use super::find::find_with;
use super::output::parse_error_output;
use super::Exec;
use crate::error::CniError;
use crate::skel::{dispatch, Plugin};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One call an [`InMemoryExec`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub plugin_type: String,
    pub path: PathBuf,
    pub stdin: Vec<u8>,
    pub env: BTreeMap<String, String>,
}

impl Invocation {
    pub fn command(&self) -> &str {
        self.env
            .get("CNI_COMMAND")
            .map(String::as_str)
            .unwrap_or("")
    }
    pub fn stdin_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.stdin).unwrap_or(serde_json::Value::Null)
    }
}

type Handler = Arc<dyn Fn(&Invocation) -> Result<Vec<u8>, CniError> + Send + Sync>;

/// Plugins by type, found in any directory of the search path.
#[derive(Clone, Default)]
pub struct InMemoryExec {
    handlers: HashMap<String, Handler>,
    calls: Arc<Mutex<Vec<Invocation>>>,
}

impl InMemoryExec {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a closure that gets the invocation and returns stdout, or the
    /// error the plugin would print.
    pub fn register_fn<F>(&mut self, plugin_type: &str, f: F) -> &mut Self
    where
        F: Fn(&Invocation) -> Result<Vec<u8>, CniError> + Send + Sync + 'static,
    {
        self.handlers.insert(plugin_type.to_string(), Arc::new(f));
        self
    }

    /// Registers a [`Plugin`], run through the real dispatcher exactly as its
    /// binary would be.
    pub fn register_plugin<P>(
        &mut self,
        plugin_type: &str,
        plugin: P,
        supported: &'static [&'static str],
    ) -> &mut Self
    where
        P: Plugin + Send + Sync + 'static,
    {
        let name = plugin_type.to_string();
        self.register_fn(plugin_type, move |inv| {
            let out = dispatch(&inv.env, &mut inv.stdin.as_slice(), &plugin, supported);
            if out.exit_code == 0 {
                Ok(out.stdout.into_bytes())
            } else {
                Err(parse_error_output(
                    &name,
                    out.stdout.as_bytes(),
                    out.stderr.as_bytes(),
                    "exit status: 1",
                ))
            }
        })
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Invocation> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl Exec for InMemoryExec {
    fn exec_plugin(
        &self,
        plugin: &Path,
        stdin: &[u8],
        env: &[(String, String)],
    ) -> Result<Vec<u8>, CniError> {
        let plugin_type = plugin
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let handler = self.handlers.get(&plugin_type).ok_or_else(|| {
            CniError::io(format!(
                "failed to run plugin {}: no such plugin registered",
                plugin.display()
            ))
        })?;
        let inv = Invocation {
            plugin_type,
            path: plugin.to_path_buf(),
            stdin: stdin.to_vec(),
            env: env.iter().cloned().collect(),
        };
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(inv.clone());
        }
        handler(&inv)
    }

    fn find_in_path(&self, plugin_type: &str, paths: &[PathBuf]) -> Result<PathBuf, CniError> {
        find_with(plugin_type, paths, |p| {
            p.file_name()
                .is_some_and(|n| self.handlers.contains_key(n.to_string_lossy().as_ref()))
        })
    }
}
