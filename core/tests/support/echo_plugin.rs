#![allow(dead_code)] // each test crate uses a different part of this helper
//! A tiny plugin on skel, shared by the test binary and the in-process tests.
//! ADD answers a fixed rich result (or the config's `result` field, in the
//! model's 1.1.0 shape); any verb fails with the config's `fail` object when
//! present; ADD panics with the config's `panic` text when present; `args` from CNI_ARGS are validated against the IP/MAC schema.

use cni_core::skel::{CmdArgs, Plugin};
use cni_core::spec::args::{load_args, IpMacArgs};
use cni_core::{CniError, CniResult};

pub struct EchoPlugin;

pub const SUPPORTED: &[&str] = cni_core::spec::version::ALL;

fn config(args: &CmdArgs) -> Result<serde_json::Value, CniError> {
    serde_json::from_slice(&args.stdin).map_err(|e| CniError::decode(e.to_string()))
}

fn requested_failure(conf: &serde_json::Value) -> Result<(), CniError> {
    match conf.get("fail") {
        None => Ok(()),
        Some(f) => Err(serde_json::from_value(f.clone())
            .unwrap_or_else(|e| CniError::invalid_config(format!("bad fail field: {e}")))),
    }
}

pub fn rich_result() -> CniResult {
    serde_json::from_str(include_str!("rich_result.json")).expect("rich_result.json is valid")
}

impl Plugin for EchoPlugin {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = config(args)?;
        requested_failure(&conf)?;
        if let Some(text) = conf.get("panic").and_then(|v| v.as_str()) {
            panic!("{text}");
        }
        load_args::<IpMacArgs>(&args.args)?;
        match conf.get("result") {
            Some(r) => {
                serde_json::from_value(r.clone()).map_err(|e| CniError::decode(e.to_string()))
            }
            None => Ok(rich_result()),
        }
    }
    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        requested_failure(&config(args)?)
    }
    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        requested_failure(&config(args)?)
    }
    fn status(&self, args: &CmdArgs) -> Result<(), CniError> {
        requested_failure(&config(args)?)
    }
    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        requested_failure(&config(args)?)
    }
    fn about(&self) -> String {
        "CNI echo test plugin".into()
    }
}
