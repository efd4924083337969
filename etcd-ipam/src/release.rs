//! `etcd-ipam release-node <node> < netconf.json`: frees every address a
//! dead node held on that network (its runtime will never send DEL or GC).

use crate::config::{check_node_name, EtcdConf};
use crate::plugin::with_cluster;
use cni_core::CniError;
use std::io::Read;

/// Runs the command; prints one line per attachment freed.
pub fn main(args: &[String]) -> Result<(), CniError> {
    let [node] = args else {
        return Err(CniError::invalid_env(
            "usage: etcd-ipam release-node NODE < network-config.json",
        ));
    };
    check_node_name(node, "NODE")?;
    let mut stdin = Vec::new();
    std::io::stdin()
        .take(16 << 20)
        .read_to_end(&mut stdin)
        .map_err(|e| CniError::io(format!("reading the network configuration: {e}")))?;
    // Logs as the plugin's: the config may name the log file.
    cni_plugins::logging::init_with_config(&stdin);
    let conf = EtcdConf::parse(&stdin)?;
    let freed = with_cluster(&conf, |c| c.release_node(node))?;
    for a in &freed {
        println!("released {} {}", a.container_id, a.ifname);
    }
    eprintln!(
        "etcd-ipam: released {} attachment(s) of node {node}",
        freed.len()
    );
    Ok(())
}
