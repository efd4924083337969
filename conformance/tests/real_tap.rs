//! tap on the real kernel, our binary in namespaces (a namespace plays the
//! host, the tap goes into a container namespace beside it):
//! - multi-queue, owner and group as the kernel reports them (`ip -d link`,
//!   `/sys/class/net/eth0/tun_flags`), CHECK, DEL, DEL again;
//! - a user (the test, as a VM would) attaches two queues to the
//!   multi-queue tap and the tap gets carrier, and a single-queue tap takes
//!   one queue only;
//! - `bridge`: a bridge in the container the tap becomes a port of;
//! - `selinuxContext` on this kernel (no SELinux): ADD fails and leaves nothing;
//! - the reference tap (plugins v1.5.1; `/usr/lib/cni` 1.1.1 has none) as
//!   recorded in `data/tap_reference_v1.5.1.json`: our binary on the same
//!   cases must do the same, except where the record names a deliberate
//!   difference.

use cni_backend_linux::netns::{run_in, NetnsFile};
use cni_conformance::differential::{link_details, Attachment, Impl, Side};
use cni_conformance::realns::{in_ns_output, ip_json, ip_ok, our_plugin, reference_for};
use serde_json::{json, Value};
use std::os::fd::{AsRawFd, OwnedFd};

const IFF_TAP: u32 = 0x0002;
const IFF_MULTI_QUEUE: u32 = 0x0100;
const IFF_PERSIST: u32 = 0x0800;
const IFF_NO_PI: u32 = 0x1000;
const IFF_VNET_HDR: u32 = 0x4000;

fn run(
    side: &Side,
    verb: &str,
    conf: &Value,
    att: &Attachment,
    args: Option<&str>,
) -> (i32, Value) {
    let out = side.run_binary(
        &our_plugin("tap"),
        verb,
        conf.to_string().as_bytes(),
        att,
        args,
    );
    let v = if out.stdout.trim().is_empty() {
        Value::Null
    } else {
        out.json()
    };
    (out.code, v)
}

/// `/sys/class/net/<name>/tun_flags` in `ns`, as a number.
fn tun_flags(ns: &str, name: &str) -> Option<u32> {
    let text = in_ns_output(ns, "cat", &[&format!("/sys/class/net/{name}/tun_flags")]);
    u32::from_str_radix(text.trim().trim_start_matches("0x"), 16).ok()
}

/// (mtu, qdisc, master, address) of a link, from `ip -j link`.
fn link_facts(ns: &str, name: &str) -> (u64, String, Option<String>, String) {
    let v = ip_json(ns, &["link", "show", "dev", name]);
    let l = &v[0];
    (
        l["mtu"].as_u64().unwrap_or(0),
        l["qdisc"].as_str().unwrap_or("").to_string(),
        l["master"].as_str().map(str::to_string),
        l["address"].as_str().unwrap_or("").to_string(),
    )
}

fn global_addrs(ns: &str, name: &str) -> Vec<String> {
    let v = ip_json(ns, &["addr", "show", "dev", name, "scope", "global"]);
    let mut out: Vec<String> = v[0]["addr_info"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| format!("{}/{}", a["local"].as_str().unwrap_or(""), a["prefixlen"]))
        .collect();
    out.sort();
    out
}

/// `struct ifreq` with the flags, as TUNSETIFF takes it.
#[repr(C)]
struct IfReq {
    name: [u8; 16],
    flags: u16,
    _pad: [u8; 22],
}

/// Attaches `n` queues to tap `name` in the namespace at `path`, as a VM
/// would: the descriptors (the queues go when they are dropped), or the
/// errno of the first attach that failed.
fn attach_queues(path: &str, name: &str, n: usize, multi_queue: bool) -> Result<Vec<OwnedFd>, i32> {
    let ns = NetnsFile::open(path).expect("opening the container namespace");
    run_in(&ns, || {
        let mut fds = Vec::new();
        for _ in 0..n {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/net/tun")
                .map_err(|e| e.raw_os_error().unwrap_or(-1))?;
            let mut req = IfReq {
                name: [0; 16],
                flags: (IFF_TAP | IFF_NO_PI | if multi_queue { IFF_MULTI_QUEUE } else { 0 }) as u16,
                _pad: [0; 22],
            };
            req.name[..name.len()].copy_from_slice(name.as_bytes());
            // SAFETY: TUNSETIFF reads and writes one 40-byte `struct ifreq`.
            let rc =
                unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut req as *mut IfReq) };
            if rc < 0 {
                return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(-1));
            }
            fds.push(OwnedFd::from(file));
        }
        Ok(fds)
    })
    .expect("running in the container namespace")
}

#[test]
fn a_user_attaches_two_queues_to_the_multi_queue_tap_and_one_to_a_single_queue_tap() {
    if reference_for(
        "a_user_attaches_two_queues_to_the_multi_queue_tap_and_one_to_a_single_queue_tap",
    )
    .is_none()
    {
        return;
    }
    let mut side = Side::new(Impl::Reference);
    for (id, multi_queue) in [("mq2", true), ("sq1", false)] {
        let att = side.container(id, id);
        let ctr = Side::ns_of(&att);
        let conf = side.conf(
            &json!({"name": "tap-q", "type": "tap", "multiQueue": multi_queue}),
            "1.0.0",
        );
        let (code, result) = run(&side, "ADD", &conf, &att, None);
        assert_eq!(code, 0, "{result}");
        assert!(
            link_details(&ctr, "eth0").contains("NO-CARRIER"),
            "nobody attached yet"
        );
        if multi_queue {
            let queues = attach_queues(&att.netns, "eth0", 2, true).expect("two queues");
            let details = link_details(&ctr, "eth0");
            assert!(details.contains("numqueues 2"), "{details}");
            assert!(
                details.contains("LOWER_UP"),
                "a queue brings carrier: {details}"
            );
            drop(queues);
            let details = link_details(&ctr, "eth0");
            assert!(
                details.contains("numqueues 0") && details.contains("persist on"),
                "{details}"
            );
        } else {
            let one = attach_queues(&att.netns, "eth0", 1, false).expect("one queue");
            assert_eq!(
                attach_queues(&att.netns, "eth0", 1, false).err(),
                Some(libc::EBUSY),
                "a single-queue tap takes one user"
            );
            assert_eq!(
                attach_queues(&att.netns, "eth0", 1, true).err(),
                Some(libc::EINVAL),
                "nor a multi-queue attach"
            );
            drop(one);
        }
        assert_eq!(run(&side, "DEL", &conf, &att, None), (0, Value::Null));
        assert!(link_details(&ctr, "eth0").is_empty());
    }
}

#[test]
fn multi_queue_owner_and_group_as_the_kernel_shows_them() {
    if reference_for("multi_queue_owner_and_group_as_the_kernel_shows_them").is_none() {
        return;
    }
    let mut side = Side::new(Impl::Reference);
    let att = side.container("ctr", "mq");
    let ctr = Side::ns_of(&att);
    let before = side.net.state(&ctr);
    let conf = side.conf(
        &json!({"name": "tap-mq", "type": "tap", "multiQueue": true, "owner": 4242,
            "group": 4243, "mtu": 1400,
            "ipam": {"type": "host-local", "ranges": [
                [{"subnet": "10.42.0.0/24"}], [{"subnet": "fd42::/64"}]],
                     "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]}}),
        // The reference host-local (1.1.1) this side runs stops at 1.0.0.
        "1.0.0",
    );
    let (code, result) = run(&side, "ADD", &conf, &att, None);
    assert_eq!(code, 0, "{result}");
    let details = link_details(&ctr, "eth0");
    for word in [
        "tun type tap",
        "multi_queue",
        "persist on",
        "user 4242",
        "group 4243",
        "mtu 1400",
        "qlen 1000",
    ] {
        assert!(details.contains(word), "{word:?} not in {details}");
    }
    let flags = tun_flags(&ctr, "eth0").expect("tun_flags");
    let want = IFF_TAP | IFF_MULTI_QUEUE | IFF_PERSIST | IFF_NO_PI | IFF_VNET_HDR;
    assert_eq!(flags, want, "tun_flags {flags:#x}");
    assert_eq!(global_addrs(&ctr, "eth0"), ["10.42.0.2/24", "fd42::2/64"]);
    let (_, _, _, mac) = link_facts(&ctr, "eth0");
    assert_eq!(result["interfaces"][0]["mac"], mac.as_str());
    assert_eq!(mac, "0a:58:0a:2a:00:02", "derived from the address");

    let mut check = conf.clone();
    check["prevResult"] = result.clone();
    assert_eq!(run(&side, "CHECK", &check, &att, None), (0, Value::Null));
    let mut other_owner = check.clone();
    other_owner["owner"] = json!(7);
    let (code, err) = run(&side, "CHECK", &other_owner, &att, None);
    assert_ne!(code, 0);
    assert!(err["msg"].as_str().unwrap_or("").contains("owner"), "{err}");

    assert_eq!(run(&side, "DEL", &conf, &att, None), (0, Value::Null));
    assert_eq!(side.net.state(&ctr), before, "DEL left something");
    assert!(side.leases("tap-mq").is_empty());
    assert_eq!(run(&side, "DEL", &conf, &att, None), (0, Value::Null));
}

#[test]
fn the_tap_joins_a_bridge_in_the_container() {
    if reference_for("the_tap_joins_a_bridge_in_the_container").is_none() {
        return;
    }
    let mut side = Side::new(Impl::Reference);
    let att = side.container("ctr", "br");
    let ctr = Side::ns_of(&att);
    ip_ok(&ctr, &["link", "add", "br0", "type", "bridge"]);
    let conf = side.conf(
        &json!({"name": "tap-br", "type": "tap", "bridge": "br0",
            "ipam": {"type": "host-local", "subnet": "10.43.0.0/24"}}),
        "1.0.0",
    );
    let (code, result) = run(&side, "ADD", &conf, &att, None);
    assert_eq!(code, 0, "{result}");
    assert_eq!(link_facts(&ctr, "eth0").2.as_deref(), Some("br0"));
    let mut check = conf.clone();
    check["prevResult"] = result;
    assert_eq!(run(&side, "CHECK", &check, &att, None), (0, Value::Null));
    ip_ok(&ctr, &["link", "set", "eth0", "nomaster"]);
    let (code, err) = run(&side, "CHECK", &check, &att, None);
    assert_ne!(code, 0, "{err}");
    assert_eq!(run(&side, "DEL", &conf, &att, None), (0, Value::Null));
    assert!(link_details(&ctr, "eth0").is_empty());
    assert!(
        !link_details(&ctr, "br0").is_empty(),
        "the bridge is not ours"
    );
}

#[test]
fn selinux_context_without_selinux_fails_and_leaves_nothing() {
    if reference_for("selinux_context_without_selinux_fails_and_leaves_nothing").is_none() {
        return;
    }
    let mut side = Side::new(Impl::Reference);
    let att = side.container("ctr", "se");
    let ctr = Side::ns_of(&att);
    let before = side.net.state(&ctr);
    let conf = side.conf(
        &json!({"name": "tap-se", "type": "tap",
            "selinuxContext": "system_u:system_r:container_t:s0",
            "ipam": {"type": "host-local", "subnet": "10.44.0.0/24"}}),
        "1.0.0",
    );
    let (code, err) = run(&side, "ADD", &conf, &att, None);
    assert_ne!(code, 0);
    let msg = err["msg"].as_str().unwrap_or("");
    assert!(msg.contains("SELinux") && msg.contains("eth0"), "{err}");
    assert_eq!(side.net.state(&ctr), before);
    assert!(side.leases("tap-se").is_empty());
}

/// The recorded reference's behaviour, case by case, against ours.
#[test]
fn ours_does_what_the_recorded_reference_did() {
    if reference_for("ours_does_what_the_recorded_reference_did").is_none() {
        return;
    }
    let record: Value =
        serde_json::from_str(include_str!("data/tap_reference_v1.5.1.json")).unwrap();
    for (i, case) in record["cases"].as_array().unwrap().iter().enumerate() {
        let label = format!("case {i}: {}", case["conf"]);
        let mut side = Side::new(Impl::Reference);
        let att = side.container("ctr", "rec");
        let ctr = Side::ns_of(&att);
        ip_ok(&ctr, &["link", "add", "br0", "type", "bridge"]);
        let before = side.net.state(&ctr);
        let conf = side.conf(&case["conf"], "1.0.0");
        let args = case["cni_args"]
            .as_str()
            .or(record["cni_args"].as_str())
            .filter(|a| !a.is_empty());
        let (code, out) = run(&side, "ADD", &conf, &att, args);
        let differs = case.get("ours_differs").is_some();
        if case["add_ok"] == json!(false) {
            assert_ne!(
                code, 0,
                "{label}: the reference failed, ours succeeded: {out}"
            );
            if !differs {
                assert_eq!(out["code"], case["code"], "{label}");
            }
            assert_eq!(side.net.state(&ctr), before, "{label}: ours left something");
            continue;
        }
        assert_eq!(code, 0, "{label}: {out}");
        let (mtu, qdisc, master, mac) = link_facts(&ctr, "eth0");
        let flags = tun_flags(&ctr, "eth0").map(|f| format!("{f:#x}"));
        assert_eq!(flags.as_deref(), case["tun_flags"].as_str(), "{label}");
        assert_eq!(qdisc, case["qdisc"].as_str().unwrap(), "{label}");
        assert_eq!(master.as_deref(), case["master"].as_str(), "{label}");
        assert_eq!(
            global_addrs(&ctr, "eth0"),
            case["addresses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect::<Vec<_>>(),
            "{label}"
        );
        if differs {
            // With owner and group: ours applies the MTU the reference drops.
            assert_eq!(mtu, conf["mtu"].as_u64().unwrap(), "{label}");
        } else {
            assert_eq!(mtu, case["mtu"].as_u64().unwrap(), "{label}");
            assert_eq!(mac, case["mac"].as_str().unwrap(), "{label}");
        }
        assert_eq!(out["interfaces"][0]["mac"], mac.as_str(), "{label}");
        assert_eq!(
            run(&side, "DEL", &conf, &att, args),
            (0, Value::Null),
            "{label}"
        );
        assert_eq!(side.net.state(&ctr), before, "{label}: DEL left something");
    }
}
