//! A fake `Exec` for libcni tests: plugins are closures registered by type,
//! and every call's plugin, environment and stdin is recorded. Not the shared
//! `invoke::testing::InMemoryExec`: these tests assert the environment's exact
//! order (the six `CNI_*` variables, then the base environment), which its
//! map-shaped `Invocation::env` does not keep.
#![allow(dead_code)]

use cni_core::invoke::Exec;
use cni_core::libcni::{CniConfig, NetworkConfigList};
use cni_core::CniError;
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Call {
    pub plugin: String,
    pub env: Vec<(String, String)>,
    pub stdin: Value,
}

impl Call {
    pub fn var(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    pub fn command(&self) -> &str {
        self.var("CNI_COMMAND").unwrap_or_default()
    }
}

type Handler = Box<dyn Fn(&Call) -> Result<Vec<u8>, CniError>>;

pub struct FakeExec {
    plugins: HashMap<String, Handler>,
    pub calls: RefCell<Vec<Call>>,
}

pub const PLUGIN_DIR: &str = "/fake/cni/bin";

impl FakeExec {
    pub fn new() -> Self {
        FakeExec {
            plugins: HashMap::new(),
            calls: RefCell::new(Vec::new()),
        }
    }

    pub fn register(
        mut self,
        plugin_type: &str,
        handler: impl Fn(&Call) -> Result<Vec<u8>, CniError> + 'static,
    ) -> Self {
        self.plugins
            .insert(plugin_type.to_string(), Box::new(handler));
        self
    }

    /// A well-behaved plugin: ADD appends an interface named after it to
    /// prevResult's; VERSION answers every version; everything else succeeds.
    pub fn with_chaining(self, plugin_type: &str) -> Self {
        let name = plugin_type.to_string();
        self.register(plugin_type, move |call| match call.command() {
            "ADD" => {
                let version = call.stdin["cniVersion"].clone();
                let mut interfaces = call.stdin.pointer("/prevResult/interfaces").and_then(Value::as_array).cloned().unwrap_or_default();
                interfaces.push(json!({"name": name}));
                Ok(serde_json::to_vec(&json!({"cniVersion": version, "interfaces": interfaces})).unwrap())
            }
            "VERSION" => Ok(br#"{"cniVersion":"1.1.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}"#.to_vec()),
            _ => Ok(Vec::new()),
        })
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.borrow().clone()
    }

    pub fn calls_of(&self, command: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.command() == command)
            .collect()
    }

    pub fn clear(&self) {
        self.calls.borrow_mut().clear();
    }
}

impl Exec for FakeExec {
    fn exec_plugin(
        &self,
        plugin: &Path,
        stdin: &[u8],
        env: &[(String, String)],
    ) -> Result<Vec<u8>, CniError> {
        let name = plugin.file_name().unwrap().to_string_lossy().into_owned();
        let call = Call {
            plugin: name.clone(),
            env: env.to_vec(),
            stdin: serde_json::from_slice(stdin).expect("libcni sends JSON"),
        };
        self.calls.borrow_mut().push(call.clone());
        (self.plugins[&name])(&call)
    }

    fn find_in_path(&self, plugin_type: &str, paths: &[PathBuf]) -> Result<PathBuf, CniError> {
        cni_core::invoke::validate_plugin_type(plugin_type)?;
        match (self.plugins.contains_key(plugin_type), paths.first()) {
            (true, Some(dir)) => Ok(dir.join(plugin_type)),
            _ => Err(CniError::new(
                999,
                format!("failed to find plugin {plugin_type:?} in path {paths:?}"),
            )),
        }
    }
}

pub fn list(conf: Value) -> NetworkConfigList {
    NetworkConfigList::from_bytes(&serde_json::to_vec(&conf).unwrap(), "test.conflist").unwrap()
}

pub fn config<'a>(exec: &'a FakeExec, cache: &Path) -> CniConfig<'a> {
    CniConfig::new(
        vec![PathBuf::from(PLUGIN_DIR), PathBuf::from("/opt/other")],
        exec,
    )
    .with_cache_dir(cache)
    // Tests assert exact environments: none taken from the test's own.
    .with_trace_context(None, None)
}

pub fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}
