//! Names the kernel rewrites: given `eth%d` or `br%d`, the kernel picks a
//! name of its own (`eth0`, `br0`, ...), so a plugin that let them through
//! would make links it cannot find again, and leave one behind per retry.
//! Ours refuses them before anything changes.

use cni_conformance::differential::{Impl, Side};
use cni_conformance::realns::privileged;
use serde_json::json;

#[test]
fn percent_in_ifname_or_bridge_name_is_refused_and_creates_nothing() {
    if !privileged("percent_in_ifname_or_bridge_name_is_refused_and_creates_nothing") {
        return;
    }
    let mut side = Side::new(Impl::Ours);
    let conf = side.conf(
        &json!({"name": "pct", "type": "bridge", "bridge": "pctbr0", "isGateway": true,
                "ipam": {"type": "host-local", "subnet": "10.79.1.0/24"}}),
        "1.0.0",
    );
    let mut att = side.container("c", "pct-ctr");
    let host_before = side.net.state(&side.host);
    let ns = att.netns.rsplit('/').next().unwrap_or_default().to_string();
    let ctr_before = side.net.state(&ns);

    att.ifname = "eth%d".to_string();
    let run = side.run("ADD", &conf, &att);
    assert_eq!(
        run.code, 1,
        "ADD with CNI_IFNAME eth%d must fail: {}",
        run.stdout
    );
    assert_eq!(run.json()["code"], 4, "{}", run.stdout);

    att.ifname = "eth0".to_string();
    let mut bad_bridge = conf.clone();
    bad_bridge["bridge"] = json!("br%d");
    let run = side.run("ADD", &bad_bridge, &att);
    assert_eq!(run.json()["code"], 7, "{}", run.stdout);
    assert!(
        run.json()["msg"]
            .as_str()
            .unwrap_or_default()
            .starts_with("bridge"),
        "{}",
        run.stdout
    );

    assert_eq!(side.net.state(&side.host), host_before, "host changed");
    assert_eq!(side.net.state(&ns), ctr_before, "container changed");
    assert!(side.leases("pct").is_empty(), "a lease was taken");
}
