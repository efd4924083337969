//! Our bridge with the reference `dhcp` IPAM plugin and its daemon, against a
//! real DHCP server (dnsmasq) — all inside namespaces the test makes; DHCP
//! traffic never leaves them. The interface exists and is up before IPAM runs
//! (the reference's own bridge makes the daemon wait for it), and DEL releases
//! the lease while the interface can still carry the DHCPRELEASE.

use cni_conformance::realns::{our_plugin, reference_dir, TestNet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Background processes of the test, killed on drop (also on panic).
struct Daemons(Vec<Child>);

impl Drop for Daemons {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().unwrap();
    assert!(status.success(), "ip {args:?}");
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn bridge_gets_and_releases_a_dhcp_lease_through_the_reference_dhcp_daemon() {
    let name = "bridge_gets_and_releases_a_dhcp_lease_through_the_reference_dhcp_daemon";
    let have = cni_core::testsupport::is_root()
        && Path::new("/usr/sbin/dnsmasq").exists()
        && reference_dir().is_some_and(|d| d.join("dhcp").exists());
    if !cni_core::testsupport::require(name, "root, dnsmasq and /usr/lib/cni/dhcp", have) {
        return;
    }
    let mut net = TestNet::new();
    let host = net.add_ns("host");
    let ctr = net.add_ns("ctr");
    let br = format!("{}br", net.prefix);
    ip(&["-n", &host, "link", "add", &br, "type", "bridge"]);
    ip(&["-n", &host, "addr", "add", "10.97.0.1/24", "dev", &br]);
    ip(&["-n", &host, "link", "set", &br, "up"]);

    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("dnsmasq.log");
    let sock = tmp.path().join("dhcp.sock");
    let quiet = || Stdio::null();
    let mut daemons = Daemons(Vec::new());
    daemons.0.push(
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &host,
                "dnsmasq",
                "--no-daemon",
                "--conf-file=/dev/null",
                "--port=0",
            ])
            .arg(format!("--interface={br}"))
            .args([
                "--bind-interfaces",
                "--dhcp-range=10.97.0.100,10.97.0.150,1h",
            ])
            .args(["--dhcp-option=option:router,10.97.0.1", "--log-dhcp"])
            .arg(format!(
                "--dhcp-leasefile={}",
                tmp.path().join("leases").display()
            ))
            .arg(format!("--log-facility={}", log.display()))
            .stdout(quiet())
            .stderr(quiet())
            .spawn()
            .unwrap(),
    );
    daemons.0.push(
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &host,
                "/usr/lib/cni/dhcp",
                "daemon",
                "-socketpath",
            ])
            .arg(&sock)
            .stdout(quiet())
            .stderr(quiet())
            .spawn()
            .unwrap(),
    );
    wait_for("the dhcp daemon's socket", || sock.exists());

    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(our_plugin("bridge"), bin.join("bridge")).unwrap();
    std::os::unix::fs::symlink("/usr/lib/cni/dhcp", bin.join("dhcp")).unwrap();
    let conf = serde_json::json!({"cniVersion": "1.0.0", "name": "dhcpnet", "type": "bridge",
        "bridge": br, "ipam": {"type": "dhcp", "daemonSocketPath": sock}})
    .to_string();
    let netns = TestNet::path(&ctr);
    let env = |verb: &'static str| {
        [
            ("CNI_COMMAND", verb),
            ("CNI_CONTAINERID", "dhcp1"),
            ("CNI_NETNS", netns.as_str()),
            ("CNI_IFNAME", "eth0"),
            ("CNI_PATH", bin.to_str().unwrap()),
        ]
    };

    let added = net.run_plugin(&host, &bin.join("bridge"), &env("ADD"), conf.as_bytes());
    added.assert_ok();
    let result = added.json();
    let address = result["ips"][0]["address"].as_str().unwrap().to_string();
    let ip_only = address.split('/').next().unwrap().to_string();
    let last: u8 = ip_only.rsplit('.').next().unwrap().parse().unwrap();
    assert!(
        address.starts_with("10.97.0.") && (100..=150).contains(&last),
        "{result}"
    );
    assert_eq!(result["ips"][0]["gateway"], "10.97.0.1");
    let shown = Command::new("ip")
        .args(["-n", &ctr, "-4", "addr", "show", "eth0"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&shown.stdout).contains(&address));
    let routes = Command::new("ip")
        .args(["-n", &ctr, "route"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&routes.stdout).contains("default via 10.97.0.1"));

    net.run_plugin(&host, &bin.join("bridge"), &env("DEL"), conf.as_bytes())
        .assert_ok();
    wait_for("dnsmasq to log the DHCPRELEASE", || {
        std::fs::read_to_string(&log)
            .is_ok_and(|l| l.contains(&format!("DHCPRELEASE({br}) {ip_only}")))
    });
    let links = Command::new("ip")
        .args(["-n", &ctr, "-o", "link"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&links.stdout).contains("eth0"));
}
