//! The oracle of the `static_config` fuzz target, shared with the replay of
//! its corpus (`plugins/tests/static_config_corpus.rs`). An input is CNI_ARGS,
//! a NUL byte, then the configuration (no NUL: all configuration).

use super::StaticIpam;
use cni_core::ipam::addr::{canonical, same_family};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::spec::ResultShape;
use cni_core::CniResult;

/// Runs ADD's parsing on any bytes; panics when an accepted configuration
/// breaks what ADD promises. Returns whether ADD accepted it.
pub fn check_input(data: &[u8]) -> bool {
    let (cni_args, conf) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&[][..], data),
    };
    let args = CmdArgs {
        args: String::from_utf8_lossy(cni_args).into_owned(),
        stdin: conf.to_vec(),
        ..CmdArgs::default()
    };
    let Ok(result) = StaticIpam.add(&args) else {
        return false;
    };
    for ip in &result.ips {
        let addr = ip.address.addr();
        assert_eq!(canonical(addr), addr, "IPv4-mapped address kept: {ip:?}");
        if let Some(gw) = ip.gateway {
            assert!(same_family(gw, addr), "gateway of the other family: {ip:?}");
        }
    }
    let version = result.cni_version.clone();
    match ResultShape::of(&version) {
        // skel refuses the version before ADD runs.
        Err(_) => return true,
        // 0.1.0/0.2.0 cannot carry a result without an address.
        Ok(ResultShape::V02) if result.ips.is_empty() => return true,
        Ok(_) => {}
    }
    let rendered = result
        .to_json_at(&version)
        .unwrap_or_else(|e| panic!("accepted config renders no result at {version}: {e}"));
    let back = CniResult::parse(rendered.as_bytes())
        .unwrap_or_else(|e| panic!("rendered result does not parse: {e}\n{rendered}"));
    assert_eq!(
        back.ips.len(),
        result.ips.len(),
        "addresses lost: {rendered}"
    );
    true
}
