//! TEMPORARY entry point for the `host-local` binary, to be replaced by
//! `cni_core::skel::run` when it lands: reads the CNI_* environment and stdin,
//! calls the [`Plugin`] verb, prints the result or the error document.
//! Only the minimum is here; version gating and result conversion belong to skel.

use cni_core::error::code;
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::{CniError, CniResult};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::PathBuf;

const SUPPORTED: [&str; 7] = [
    "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0",
];

/// Runs `plugin` as the process and returns the exit code.
pub fn run(plugin: &dyn Plugin) -> i32 {
    let Ok(command) = std::env::var("CNI_COMMAND") else {
        eprintln!("{}", plugin.about());
        return 0;
    };
    if command == "VERSION" {
        println!(
            "{}",
            json!({"cniVersion": "1.1.0", "supportedVersions": SUPPORTED})
        );
        return 0;
    }
    let mut stdin = Vec::new();
    let version = match std::io::stdin().read_to_end(&mut stdin) {
        Ok(_) => config_version(&stdin),
        Err(e) => return fail(CniError::io(format!("reading stdin: {e}")), ""),
    };
    let args = match cmd_args(&command, stdin) {
        Ok(a) => a,
        Err(e) => return fail(e, &version),
    };
    let outcome = match command.as_str() {
        "ADD" => plugin.add(&args).map(Some),
        "DEL" => plugin.del(&args).map(|_| None),
        "CHECK" => plugin.check(&args).map(|_| None),
        "GC" => plugin.gc(&args).map(|_| None),
        "STATUS" => plugin.status(&args).map(|_| None),
        other => Err(CniError::invalid_env(format!(
            "unknown CNI_COMMAND: {other}"
        ))),
    };
    match outcome {
        Ok(Some(result)) => {
            let mut out = std::io::stdout().lock();
            let text = cni_core::json::to_string_indent4(&render(&result));
            if out.write_all(text.as_bytes()).is_err() {
                return 1;
            }
            0
        }
        Ok(None) => 0,
        Err(e) => fail(e, &version),
    }
}

fn fail(e: CniError, version: &str) -> i32 {
    let e = if e.cni_version.is_empty() {
        e.with_version(version)
    } else {
        e
    };
    print!("{}", e.to_json_pretty());
    1
}

fn config_version(stdin: &[u8]) -> String {
    serde_json::from_slice::<Value>(stdin)
        .ok()
        .and_then(|v| v.get("cniVersion")?.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn env(name: &str, missing: &mut Vec<&'static str>, key: &'static str) -> String {
    let v = std::env::var(name).unwrap_or_default();
    if v.is_empty() {
        missing.push(key);
    }
    v
}

fn cmd_args(command: &str, stdin: Vec<u8>) -> Result<CmdArgs, CniError> {
    let per_container = matches!(command, "ADD" | "DEL" | "CHECK");
    let mut missing = Vec::new();
    let mut ignored = Vec::new();
    let (req, opt) = (&mut missing, &mut ignored);
    let container_id = env(
        "CNI_CONTAINERID",
        if per_container { &mut *req } else { &mut *opt },
        "CNI_CONTAINERID",
    );
    let netns = env(
        "CNI_NETNS",
        if matches!(command, "ADD" | "CHECK") {
            &mut *req
        } else {
            &mut *opt
        },
        "CNI_NETNS",
    );
    let ifname = env(
        "CNI_IFNAME",
        if per_container { &mut *req } else { &mut *opt },
        "CNI_IFNAME",
    );
    let path = env("CNI_PATH", req, "CNI_PATH");
    if !missing.is_empty() {
        return Err(CniError::invalid_env(format!(
            "required env variables [{}] missing",
            missing.join(",")
        )));
    }
    if per_container {
        validate_container_id(&container_id)?;
        validate_ifname(&ifname)?;
    }
    Ok(CmdArgs {
        container_id,
        netns,
        ifname,
        args: std::env::var("CNI_ARGS").unwrap_or_default(),
        path: path.split(':').map(PathBuf::from).collect(),
        stdin,
    })
}

fn validate_container_id(id: &str) -> Result<(), CniError> {
    let ok = id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(CniError::new(
            code::INVALID_ENVIRONMENT,
            format!("CNI_CONTAINERID: invalid characters in container ID {id:?}"),
        ))
    }
}

fn validate_ifname(name: &str) -> Result<(), CniError> {
    let bad = name.len() > 15
        || name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control());
    if bad {
        return Err(CniError::new(
            code::INVALID_ENVIRONMENT,
            format!("CNI_IFNAME: invalid interface name {name:?}"),
        ));
    }
    Ok(())
}

/// The result at the configuration's version. TEMPORARY: skel's conversion
/// replaces this; it only adds what the reference's 0.3.x/0.4.0 output has
/// (`version` per address) and the 0.1.0/0.2.0 `ip4`/`ip6` shape.
pub fn render(result: &CniResult) -> Value {
    let v = result.cni_version.as_str();
    let mut doc = serde_json::to_value(result).unwrap_or(Value::Null);
    if matches!(v, "0.3.0" | "0.3.1" | "0.4.0") {
        if let Some(ips) = doc.get_mut("ips").and_then(Value::as_array_mut) {
            for (ip, model) in ips.iter_mut().zip(&result.ips) {
                let family = if model.address.addr().is_ipv4() {
                    "4"
                } else {
                    "6"
                };
                if let Some(obj) = ip.as_object_mut() {
                    obj.insert("version".into(), Value::from(family));
                }
            }
        }
    } else if matches!(v, "0.1.0" | "0.2.0") {
        let mut legacy = json!({"cniVersion": v});
        for ipc in &result.ips {
            let key = if ipc.address.addr().is_ipv4() {
                "ip4"
            } else {
                "ip6"
            };
            let routes: Vec<Value> = result
                .routes
                .iter()
                .filter(|r| r.dst.addr().is_ipv4() == ipc.address.addr().is_ipv4())
                .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
                .collect();
            let mut entry = json!({"ip": ipc.address.to_string()});
            if let Some(gw) = ipc.gateway {
                entry["gateway"] = Value::from(gw.to_string());
            }
            if !routes.is_empty() {
                entry["routes"] = Value::from(routes);
            }
            legacy[key] = entry;
        }
        if !result.dns.is_empty() {
            legacy["dns"] = serde_json::to_value(&result.dns).unwrap_or(Value::Null);
        }
        return legacy;
    }
    doc
}
