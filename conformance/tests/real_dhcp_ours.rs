//! Our dhcp plugin and daemon against dnsmasq, all inside namespaces the
//! test makes (`cni_conformance::dhcp_lab`): leases for bridge and macvlan
//! networks (IPv4, IPv6, dual stack), DEL releasing them at the server,
//! renewal across a daemon restart and of 300 leases at their T1, an
//! interface or namespace that disappears, 100
//! containers at once, and the errors of a missing or foreign daemon.

use cni_conformance::dhcp_lab::{
    addresses, files_in, wait_for, DhcpLab, ServerSetup, DNS4, DNS6, PREFIX_LEN4, ROUTER4, SUBNET4,
};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

fn have(name: &str) -> bool {
    let ok = cni_core::testsupport::is_root() && Path::new("/usr/sbin/dnsmasq").exists();
    cni_core::testsupport::require(name, "root and dnsmasq (Debian dnsmasq-base)", ok)
}

fn ip_of(result: &Value, family: &str) -> String {
    let sep = if family == "4" { '.' } else { ':' };
    result["ips"]
        .as_array()
        .expect("ips")
        .iter()
        .filter_map(|ip| ip["address"].as_str())
        .find(|a| a.contains(sep))
        .unwrap_or_else(|| panic!("no IPv{family} address in {result}"))
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn a_bridge_network_leases_ipv4_and_ipv6_and_del_releases_both() {
    if !have("a_bridge_network_leases_ipv4_and_ipv6_and_del_releases_both") {
        return;
    }
    let mut lab = DhcpLab::new(&ServerSetup::default());
    lab.start_daemon();
    let ctr = lab.net.add_ns("ctr");
    let conf = lab.conf("bridge", &["ipv4", "ipv6"]);

    let added = lab.run("bridge", "ADD", "dual1", &ctr, &conf);
    added.assert_ok();
    let result = added.json();
    let v4 = ip_of(&result, "4");
    let v6 = ip_of(&result, "6");
    assert!(v4.starts_with(&format!("{SUBNET4}.")), "{result}");
    assert!(v6.starts_with("fd97::1"), "{result}");
    let gateways: Vec<&str> = result["ips"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["gateway"].as_str())
        .collect();
    assert_eq!(gateways, vec![ROUTER4], "{result}");
    let nameservers = &result["dns"]["nameservers"];
    assert_eq!(nameservers, &serde_json::json!([DNS4, DNS6]), "{result}");
    assert_eq!(
        result["dns"]["search"],
        serde_json::json!(["lab.test"]),
        "{result}"
    );
    let shown = addresses(&ctr, "eth0");
    assert!(
        shown.contains(&format!("{v4}/{PREFIX_LEN4}")) && shown.contains(&format!("{v6}/64")),
        "{shown}"
    );
    assert_eq!(
        files_in(&lab.state_dir()).len(),
        1,
        "one lease file per attachment"
    );
    assert!(
        lab.leases().contains(&v4) && lab.leases().contains(&v6),
        "{}",
        lab.leases()
    );

    let mut checked = conf.clone();
    checked["prevResult"] = result.clone();
    lab.run("bridge", "CHECK", "dual1", &ctr, &checked)
        .assert_ok();
    // A retried ADD (a lost reply) gets the same addresses.
    let again = lab.run("dhcp", "ADD", "dual1", &ctr, &conf);
    again.assert_ok();
    assert_eq!(ip_of(&again.json(), "4"), v4);

    lab.run("bridge", "DEL", "dual1", &ctr, &conf).assert_ok();
    wait_for(
        "dnsmasq to log both releases",
        Duration::from_secs(10),
        || {
            // dnsmasq names a DHCPv6 release by the client's DUID, not the address.
            lab.count_in_log(&format!("DHCPRELEASE({}) {v4}", lab.bridge)) == 1
                && lab.count_in_log(&format!("DHCPRELEASE({}) 00:04:", lab.bridge)) == 1
        },
    );
    wait_for(
        "the released leases to leave dnsmasq's lease file",
        Duration::from_secs(10),
        || !lab.leases().contains(&v4) && !lab.leases().contains(&v6),
    );
    assert!(
        files_in(&lab.state_dir()).is_empty(),
        "lease file left: {:?}",
        files_in(&lab.state_dir())
    );
    lab.run("bridge", "DEL", "dual1", &ctr, &conf).assert_ok();
}

#[test]
fn a_macvlan_network_gets_an_ipv4_lease_with_its_host_name_and_an_ipv6_only_network_an_ipv6_one() {
    if !have("a_macvlan_network_gets_an_ipv4_lease_with_its_host_name_and_an_ipv6_only_network_an_ipv6_one") {
        return;
    }
    let mut lab = DhcpLab::new(&ServerSetup::default());
    lab.start_daemon();
    let ctr = lab.net.add_ns("mv");
    let mut conf = lab.conf("macvlan", &["ipv4"]);
    conf["ipam"]["provide"] = serde_json::json!([{"option": "host-name", "value": "mv-web"}]);
    let added = lab.run("macvlan", "ADD", "mv1", &ctr, &conf);
    added.assert_ok();
    let result = added.json();
    let v4 = ip_of(&result, "4");
    assert!(addresses(&ctr, "eth0").contains(&format!("{v4}/{PREFIX_LEN4}")));
    assert_eq!(result["ips"].as_array().unwrap().len(), 1, "{result}");
    assert!(
        lab.log().contains("client provides name: mv-web"),
        "the provided host name reaches the server"
    );
    lab.run("macvlan", "DEL", "mv1", &ctr, &conf).assert_ok();
    wait_for(
        "dnsmasq to log the release",
        Duration::from_secs(10),
        || {
            lab.log()
                .contains(&format!("DHCPRELEASE({}) {v4}", lab.bridge))
        },
    );

    let ctr6 = lab.net.add_ns("v6");
    let conf6 = lab.conf("bridge", &["ipv6"]);
    let added = lab.run("bridge", "ADD", "v6only", &ctr6, &conf6);
    added.assert_ok();
    let result = added.json();
    let v6 = ip_of(&result, "6");
    assert_eq!(result["ips"].as_array().unwrap().len(), 1, "{result}");
    assert!(addresses(&ctr6, "eth0").contains(&format!("{v6}/64")));
    lab.run("bridge", "DEL", "v6only", &ctr6, &conf6)
        .assert_ok();
}

#[test]
fn a_restarted_daemon_resumes_its_leases_and_renews_them_with_the_server() {
    if !have("a_restarted_daemon_resumes_its_leases_and_renews_them_with_the_server") {
        return;
    }
    let setup = ServerSetup {
        lease: "2m",
        t1_t2: Some((6, 12)),
        classless: vec!["192.168.77.0/24,10.97.0.254", "0.0.0.0/0,10.97.0.1"],
    };
    let mut lab = DhcpLab::new(&setup);
    lab.start_daemon();
    let ctr = lab.net.add_ns("ctr");
    let conf = lab.conf("bridge", &["ipv4"]);
    let added = lab.run("bridge", "ADD", "renew1", &ctr, &conf);
    added.assert_ok();
    let result = added.json();
    let v4 = ip_of(&result, "4");
    let routes: Vec<String> = result["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r["dst"], r["gw"]))
        .collect();
    assert_eq!(
        routes,
        vec![
            "\"192.168.77.0/24\" \"10.97.0.254\"",
            "\"0.0.0.0/0\" \"10.97.0.1\""
        ],
        "option 121 routes replace the router's default route"
    );
    let acks_before = lab.count_in_log(&format!("DHCPACK({}) {v4}", lab.bridge));

    lab.kill_daemon();
    assert_eq!(
        files_in(&lab.state_dir()).len(),
        1,
        "the lease stays on disk"
    );
    lab.start_daemon();
    lab.run("dhcp", "CHECK", "renew1", &ctr, &conf).assert_ok();
    wait_for(
        "a renewal by the restarted daemon",
        Duration::from_secs(20),
        || lab.count_in_log(&format!("DHCPACK({}) {v4}", lab.bridge)) > acks_before,
    );
    assert!(
        lab.daemon_log().contains("resuming 1"),
        "{}",
        lab.daemon_log()
    );
    lab.run("bridge", "DEL", "renew1", &ctr, &conf).assert_ok();
    wait_for(
        "dnsmasq to log the release",
        Duration::from_secs(10),
        || {
            lab.log()
                .contains(&format!("DHCPRELEASE({}) {v4}", lab.bridge))
        },
    );
}

/// A lab with our daemon and one bridge attachment `id`, bound, in a
/// namespace of its own.
fn lab_with_one_lease(id: &str) -> (DhcpLab, String, Value) {
    let mut lab = DhcpLab::new(&ServerSetup::default());
    lab.start_daemon();
    let ctr = lab.net.add_ns("ctr");
    let conf = lab.conf("bridge", &["ipv4"]);
    lab.run("bridge", "ADD", id, &ctr, &conf).assert_ok();
    assert_eq!(files_in(&lab.state_dir()).len(), 1);
    (lab, ctr, conf)
}

fn ip_ok(args: &[&str]) {
    let status = std::process::Command::new("ip")
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "ip {args:?}");
}

#[test]
fn an_interface_that_disappears_ends_its_lease() {
    if !have("an_interface_that_disappears_ends_its_lease") {
        return;
    }
    let (lab, ctr, conf) = lab_with_one_lease("gone1");
    ip_ok(&["-n", &ctr, "link", "del", "eth0"]);
    wait_for(
        "the daemon to drop the lease",
        Duration::from_secs(10),
        || files_in(&lab.state_dir()).is_empty(),
    );
    assert!(
        lab.daemon_log().contains("its interface was removed"),
        "{}",
        lab.daemon_log()
    );
    let check = lab.run("dhcp", "CHECK", "gone1", &ctr, &conf);
    assert_ne!(check.code, 0, "CHECK of a dropped lease must fail");
    assert!(check.stdout.contains("holds no lease"), "{}", check.stdout);
    lab.run("bridge", "DEL", "gone1", &ctr, &conf).assert_ok();
}

#[test]
fn one_daemon_serves_a_hundred_containers_at_once() {
    if !have("one_daemon_serves_a_hundred_containers_at_once") {
        return;
    }
    let mut lab = DhcpLab::new(&ServerSetup::default());
    lab.start_daemon();
    let conf = lab.conf("bridge", &["ipv4"]);
    let namespaces: Vec<String> = (0..100).map(|i| lab.net.add_ns(&format!("c{i}"))).collect();
    let results: Vec<Value> = std::thread::scope(|s| {
        let runs: Vec<_> = namespaces
            .iter()
            .enumerate()
            .map(|(i, ns)| {
                let (lab, conf) = (&lab, &conf);
                s.spawn(move || lab.run("bridge", "ADD", &format!("many{i}"), ns, conf))
            })
            .collect();
        runs.into_iter()
            .map(|r| {
                let run = r.join().unwrap();
                run.assert_ok();
                run.json()
            })
            .collect()
    });
    let mut ips: Vec<String> = results.iter().map(|r| ip_of(r, "4")).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 100, "every container got its own address");
    assert_eq!(files_in(&lab.state_dir()).len(), 100);
    std::thread::scope(|s| {
        for (i, ns) in namespaces.iter().enumerate() {
            let (lab, conf) = (&lab, &conf);
            s.spawn(move || {
                lab.run("bridge", "DEL", &format!("many{i}"), ns, conf)
                    .assert_ok()
                    .code
            });
        }
    });
    assert!(files_in(&lab.state_dir()).is_empty());
    wait_for(
        "dnsmasq to log 100 releases",
        Duration::from_secs(10),
        || lab.count_in_log("DHCPRELEASE(") == 100,
    );
}

#[test]
fn without_a_daemon_or_with_a_foreign_one_the_plugin_says_so() {
    if !have("without_a_daemon_or_with_a_foreign_one_the_plugin_says_so") {
        return;
    }
    let mut lab = DhcpLab::new(&ServerSetup::default());
    let ctr = lab.net.add_ns("ctr");
    let conf = lab.conf("bridge", &["ipv4"]);
    let run = lab.run("dhcp", "ADD", "none1", &ctr, &conf);
    assert_eq!(run.code, 1);
    let error = run.json();
    assert_eq!(error["code"], 11, "{error}");
    let msg = error["msg"].as_str().unwrap();
    assert!(
        msg.contains("dhcp daemon") && msg.contains(lab.socket.to_str().unwrap()),
        "{msg}"
    );
    let mut conf11 = conf.clone();
    conf11["cniVersion"] = "1.1.0".into();
    let status = lab.run("dhcp", "STATUS", "", "", &conf11);
    assert_eq!(status.json()["code"], 50, "{}", status.stdout);

    if !cni_core::testsupport::require(
        "without_a_daemon_or_with_a_foreign_one_the_plugin_says_so (foreign daemon part)",
        "the reference's /usr/lib/cni/dhcp",
        Path::new("/usr/lib/cni/dhcp").exists(),
    ) {
        return;
    }
    let mut foreign = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.host,
            "/usr/lib/cni/dhcp",
            "daemon",
            "-socketpath",
        ])
        .arg(&lab.socket)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let socket = lab.socket.clone();
    wait_for(
        "the reference daemon's socket",
        Duration::from_secs(10),
        || std::os::unix::net::UnixStream::connect(&socket).is_ok(),
    );
    let run = lab.run("dhcp", "ADD", "foreign1", &ctr, &conf);
    let _ = foreign.kill();
    let _ = foreign.wait();
    let error = run.json();
    assert_eq!(error["code"], 100, "{error}");
    assert!(error["msg"].as_str().unwrap().contains("HTTP"), "{error}");
}

#[test]
fn malformed_server_replies_are_ignored_and_add_ends_in_a_clear_error() {
    if !have("malformed_server_replies_are_ignored_and_add_ends_in_a_clear_error") {
        return;
    }
    let mut lab = DhcpLab::without_server();
    lab.timeout = "3s";
    lab.start_daemon();
    let ctr = lab.net.add_ns("ctr");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let server = {
        let (host, stop, answered) = (lab.host.clone(), stop.clone(), answered.clone());
        std::thread::spawn(move || garbage_server(&host, &stop, &answered))
    };
    let conf = lab.conf("bridge", &["ipv4"]);
    let run = lab.run("bridge", "ADD", "junk1", &ctr, &conf);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    server.join().unwrap();
    assert!(
        answered.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "the fake server saw no DISCOVER"
    );
    let error = run.json();
    assert_eq!(error["code"], 11, "{error}");
    let msg = error["msg"].as_str().unwrap();
    assert!(msg.contains("no lease") && msg.contains("eth0"), "{msg}");
    assert!(files_in(&lab.state_dir()).is_empty());
    let links = std::process::Command::new("ip")
        .args(["-n", &ctr, "-o", "link"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&links.stdout).contains("eth0"),
        "the failed ADD left its interface"
    );
}

/// Answers every datagram on port 67 of the host namespace with broken
/// DHCP replies: truncated, a wrong magic cookie, an option running past the
/// end, and an OFFER-looking packet with a bad message type.
fn garbage_server(
    host: &str,
    stop: &std::sync::atomic::AtomicBool,
    answered: &std::sync::atomic::AtomicUsize,
) {
    use std::sync::atomic::Ordering;
    let ns = cni_backend_linux::netns::NetnsFile::open(format!("/var/run/netns/{host}")).unwrap();
    cni_backend_linux::netns::run_in(&ns, || {
        let socket = std::net::UdpSocket::bind("0.0.0.0:67").unwrap();
        socket.set_broadcast(true).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut buf = [0u8; 1500];
        while !stop.load(Ordering::SeqCst) {
            let Ok((n, _)) = socket.recv_from(&mut buf) else {
                continue;
            };
            if n < 240 {
                continue;
            }
            answered.fetch_add(1, Ordering::SeqCst);
            let mut reply = buf[..n].to_vec();
            reply[0] = 2; // BOOTREPLY, same xid and chaddr: it reaches the client's machine
            let to = "255.255.255.255:68";
            let _ = socket.send_to(&reply[..100], to);
            let mut bad_cookie = reply.clone();
            bad_cookie[236] = 0;
            let _ = socket.send_to(&bad_cookie, to);
            let mut overrun = reply[..240].to_vec();
            overrun.extend_from_slice(&[53, 200, 2]);
            let _ = socket.send_to(&overrun, to);
            let mut bad_type = reply[..240].to_vec();
            bad_type[16..20].copy_from_slice(&[10, 97, 0, 99]);
            bad_type.extend_from_slice(&[53, 1, 77, 54, 4, 10, 97, 0, 1, 255]);
            let _ = socket.send_to(&bad_type, to);
        }
    })
    .unwrap();
}

#[test]
fn a_namespace_removed_without_del_ends_its_lease() {
    if !have("a_namespace_removed_without_del_ends_its_lease") {
        return;
    }
    let (lab, ctr, conf) = lab_with_one_lease("nsgone1");
    ip_ok(&["netns", "del", &ctr]);
    wait_for(
        "the daemon to drop the lease",
        Duration::from_secs(10),
        || files_in(&lab.state_dir()).is_empty(),
    );
    assert!(
        lab.daemon_log().contains("its network namespace is gone"),
        "{}",
        lab.daemon_log()
    );
    // Its sockets closed, the namespace goes, and with it the container's end
    // of the veth: the host end leaves the bridge.
    wait_for(
        "the veth to leave the bridge",
        Duration::from_secs(10),
        || {
            let out = std::process::Command::new("ip")
                .args(["-n", &lab.host, "-o", "link", "show", "master", &lab.bridge])
                .output()
                .unwrap();
            !String::from_utf8_lossy(&out.stdout).contains("veth")
        },
    );
    // The runtime's DEL after the fact, with a namespace path that is gone.
    lab.run("bridge", "DEL", "nsgone1", &ctr, &conf).assert_ok();
}

#[test]
fn our_result_is_the_references_plus_dns() {
    let name = "our_result_is_the_references_plus_dns";
    if !have(name)
        || !cni_core::testsupport::require(
            name,
            "the reference's /usr/lib/cni/dhcp",
            Path::new("/usr/lib/cni/dhcp").exists(),
        )
    {
        return;
    }
    let mut lab = DhcpLab::new(&ServerSetup::default());
    lab.start_daemon();
    let (reference_bin, reference_socket) = lab.start_reference_daemon();
    let ours_ns = lab.net.add_ns("ours");
    let theirs_ns = lab.net.add_ns("theirs");
    let ours_conf = lab.conf("bridge", &["ipv4"]);
    let mut theirs_conf = ours_conf.clone();
    theirs_conf["ipam"] = serde_json::json!({"type": "dhcp", "daemonSocketPath": reference_socket});

    let ours = lab.run("bridge", "ADD", "diff1", &ours_ns, &ours_conf);
    let theirs = lab.run_from(
        &reference_bin,
        "bridge",
        "ADD",
        "diff2",
        &theirs_ns,
        &theirs_conf,
    );
    let (mut ours, mut theirs) = (ours.ok_json(), theirs.ok_json());
    for result in [&mut ours, &mut theirs] {
        let ip = ip_of(result, "4");
        assert!(ip.starts_with(&format!("{SUBNET4}.")), "{result}");
        result["ips"][0]["address"] = "leased".into();
        for iface in result["interfaces"].as_array_mut().unwrap() {
            iface["mac"] = "mac".into();
            if iface.get("sandbox").is_some() {
                iface["sandbox"] = "netns".into();
            }
            if iface["name"].as_str().unwrap().starts_with("veth") {
                iface["name"] = "veth".into();
            }
        }
    }
    assert_eq!(
        theirs.get("dns"),
        None,
        "the reference returns no DNS: {theirs}"
    );
    assert_eq!(
        ours["dns"]["nameservers"],
        serde_json::json!([DNS4]),
        "{ours}"
    );
    ours.as_object_mut().unwrap().remove("dns");
    assert_eq!(
        ours, theirs,
        "apart from the leased address and DNS, our result is the reference's"
    );
    lab.run("bridge", "DEL", "diff1", &ours_ns, &ours_conf)
        .assert_ok();
    lab.run_from(
        &reference_bin,
        "bridge",
        "DEL",
        "diff2",
        &theirs_ns,
        &theirs_conf,
    )
    .assert_ok();
}

/// Renewal timing of the test below: T1 and T2 in seconds (option 58/59).
const MANY_T1: u64 = 20;

#[test]
fn one_daemon_renews_three_hundred_leases_on_time() {
    if !have("one_daemon_renews_three_hundred_leases_on_time") {
        return;
    }
    // Each lease costs two neighbour (ARP) entries, one per side, and the
    // kernel's neighbour table is shared by every namespace with a default
    // limit of 1024 (`gc_thresh3`, settable only in the machine's own
    // namespace, which tests leave alone): 300 here plus the 100-container
    // test running beside it stay below it. The machines themselves are
    // tested with 1,000 leases on a simulated clock (core/src/dhcp/tests).
    const N: usize = 300;
    let setup = ServerSetup {
        lease: "2m",
        t1_t2: Some((MANY_T1 as u32, 2 * MANY_T1 as u32)),
        classless: Vec::new(),
    };
    let mut lab = DhcpLab::new(&setup);
    lab.start_daemon();
    let ctr = lab.net.add_ns("many");
    // One container namespace with N interfaces on the server's bridge: N
    // attachments, as N containers would be.
    let (mut host_batch, mut ctr_batch) = (String::new(), String::new());
    for i in 0..N {
        let host_end = format!("{}h{i}", lab.net.prefix);
        host_batch += &format!("link add {host_end} type veth peer name e{i} netns {ctr}\n");
        host_batch += &format!("link set {host_end} master {} up\n", lab.bridge);
        ctr_batch += &format!("link set e{i} up\n");
    }
    // Many interfaces on one link in one namespace would each answer
    // ARP for all their addresses (ARP flux), and a reply to one address
    // would arrive on another interface; a container has one interface per
    // link, which these settings stand for.
    let sysctl = std::process::Command::new("ip")
        .args(["netns", "exec", &ctr, "sysctl", "-q", "-w"])
        .args([
            "net.ipv4.conf.all.arp_ignore=1",
            "net.ipv4.conf.all.arp_announce=2",
        ])
        .status()
        .unwrap();
    assert!(sysctl.success());
    ip_batch(&lab.host, &host_batch);
    ip_batch(&ctr, &ctr_batch);
    let conf = lab.conf("bridge", &["ipv4"]);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..16 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= N {
                    return;
                }
                let ifname = format!("e{i}");
                let id = format!("k{i}");
                let run = lab.run_on(&lab.bin, "dhcp", "ADD", (&id, &ctr, &ifname), &conf);
                let mut result = run.ok_json();
                result["ifname"] = ifname.into();
                results.lock().unwrap().push(result);
            });
        }
    });
    let results = results.into_inner().unwrap();
    // What the main plugin would do with each result: the address on the
    // interface (renewals are unicast from it, and answered to it).
    let mut addrs = String::new();
    for result in &results {
        let (address, ifname) = (
            result["ips"][0]["address"].as_str().unwrap(),
            result["ifname"].as_str().unwrap(),
        );
        addrs += &format!("addr add {address} dev {ifname}\n");
    }
    ip_batch(&ctr, &addrs);
    let mut ips: Vec<String> = results.iter().map(|r| ip_of(r, "4")).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), N, "every attachment got its own address");
    assert_eq!(files_in(&lab.state_dir()).len(), N);

    // Every lease is renewed once T1 has passed since its ACK, not before.
    let acks = |ip: &str| -> Vec<u32> { ack_times(&lab.log(), &lab.bridge, ip) };
    wait_for(
        "every lease renewed",
        Duration::from_secs(MANY_T1 + 40),
        || {
            let log = lab.log();
            ips.iter()
                .all(|ip| ack_times(&log, &lab.bridge, ip).len() >= 2)
        },
    );
    for ip in &ips {
        let times = acks(ip);
        let waited = u64::from(times[1] - times[0]);
        assert!(
            (MANY_T1 - 1..=MANY_T1 + 3).contains(&waited),
            "{ip}: renewed {waited} s after its ACK, T1 is {MANY_T1} s"
        );
    }
}

fn ip_batch(ns: &str, batch: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("ip")
        .args(["-n", ns, "-batch", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(batch.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "ip -n {ns} -batch");
}

/// When dnsmasq ACKed `ip` on `bridge`, in seconds of the day (its log has
/// `Mon DD HH:MM:SS` stamps).
fn ack_times(log: &str, bridge: &str, ip: &str) -> Vec<u32> {
    let needle = format!("DHCPACK({bridge}) {ip} ");
    log.lines()
        .filter(|l| l.contains(&needle))
        .filter_map(|l| {
            let clock = l.split_whitespace().nth(2)?;
            let mut parts = clock.split(':').map(|p| p.parse::<u32>().ok());
            Some(parts.next()?? * 3600 + parts.next()?? * 60 + parts.next()??)
        })
        .collect()
}
