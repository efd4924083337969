//! A real runtime on our plugins: Podman 4 (its CNI backend) runs a container
//! on a network whose bridge and host-local are ours, with the reference's
//! portmap, firewall and tuning chained after them (Podman's default list).
//! Podman runs inside a namespace that plays the host (`nsenter --net=...`,
//! since `ip netns exec` remounts /sys and Podman then finds no cgroups).
//! Needs root, podman, runc and busybox; CI installs them and forbids skipping.

use cni_conformance::realns::{our_plugin, plugin_dir, reference_dir, TestNet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Podman {
    conf: PathBuf,
    host: String,
}

impl Podman {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("nsenter")
            .arg(format!("--net=/var/run/netns/{}", self.host))
            .arg("podman")
            .args(args)
            .env("CONTAINERS_CONF", &self.conf)
            .output()
            .expect("running podman")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "podman {args:?}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn available(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Removes what the test made in Podman's storage, also when it fails.
struct Cleanup<'a> {
    podman: &'a Podman,
    network: String,
    image: String,
    container: String,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = self.podman.run(&["rm", "-f", "-t", "0", &self.container]);
        let _ = self.podman.run(&["network", "rm", "-f", &self.network]);
        let _ = self.podman.run(&["rmi", "-f", &self.image]);
        let _ = std::fs::remove_dir_all(Path::new("/var/lib/cni/networks").join(&self.network));
    }
}

/// A busybox image made from the host's busybox-static, so no registry is needed.
fn import_busybox(podman: &Podman, dir: &Path, image: &str) {
    let root = dir.join("root/bin");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy("/bin/busybox", root.join("busybox")).unwrap();
    for tool in ["sh", "ip", "ping", "sleep"] {
        std::os::unix::fs::symlink("busybox", root.join(tool)).unwrap();
    }
    let tar = dir.join("busybox.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(dir.join("root"))
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    podman.ok(&["import", "-q", tar.to_str().unwrap(), image]);
}

#[test]
fn podman_runs_a_container_on_our_bridge_and_host_local() {
    let needs = "root, podman, runc, busybox, nsenter and /usr/lib/cni";
    let have = cni_core::testsupport::is_root()
        && ["podman", "runc", "busybox", "nsenter"]
            .iter()
            .all(|p| available(p))
        && reference_dir().is_some();
    if !cni_core::testsupport::require(
        "podman_runs_a_container_on_our_bridge_and_host_local",
        needs,
        have,
    ) {
        return;
    }
    our_plugin("bridge");
    our_plugin("host-local");
    let mut net = TestNet::new();
    let host = net.add_ns("host");
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("containers.conf");
    std::fs::create_dir(dir.path().join("net.d")).unwrap();
    std::fs::write(
        &conf,
        format!(
            "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n\
             [engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n\
             [network]\nnetwork_backend = \"cni\"\nnetwork_config_dir = \"{}\"\n\
             cni_plugin_dirs = [\"{}\", \"/usr/lib/cni\"]\n",
            dir.path().join("net.d").display(),
            plugin_dir().display()
        ),
    )
    .unwrap();
    let podman = Podman {
        conf,
        host: host.clone(),
    };
    let cleanup = Cleanup {
        podman: &podman,
        network: format!("{}net", net.prefix),
        image: format!("localhost/{}-busybox:latest", net.prefix),
        container: format!("{}-ctr", net.prefix),
    };
    import_busybox(&podman, dir.path(), &cleanup.image);
    podman.ok(&[
        "network",
        "create",
        "--subnet",
        "10.94.0.0/24",
        &cleanup.network,
    ]);

    let out = podman.ok(&[
        "run",
        "--rm",
        "--name",
        &cleanup.container,
        "--network",
        &cleanup.network,
        "--ip",
        "10.94.0.50",
        "-p",
        "18081:80",
        &cleanup.image,
        "sh",
        "-c",
        "ip addr show eth0; ip route; ping -c 1 -W 2 10.94.0.1",
    ]);
    assert!(
        out.contains("inet 10.94.0.50/24"),
        "the requested address (CNI_ARGS IP=): {out}"
    );
    assert!(
        out.contains("link/ether 0a:58:0a:5e:00:32"),
        "our deterministic MAC: {out}"
    );
    assert!(out.contains("qlen 1000"), "txqueuelen 1000: {out}");
    assert!(out.contains("default via 10.94.0.1"), "{out}");
    assert!(
        out.contains("1 packets received"),
        "the gateway answers: {out}"
    );

    // --rm ran DEL through the whole list: nothing of the container is left.
    let links = Command::new("ip")
        .args(["-n", &host, "-o", "link"])
        .output()
        .unwrap();
    let links = String::from_utf8_lossy(&links.stdout);
    assert!(!links.contains("veth"), "host veth removed: {links}");
    let leases = Path::new("/var/lib/cni/networks")
        .join(&cleanup.network)
        .join("10.94.0.50");
    assert!(!leases.exists(), "lease released");
    let nat = Command::new("ip")
        .args(["netns", "exec", &host, "iptables", "-t", "nat", "-S"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&nat.stdout).contains("18081"),
        "portmap rules removed"
    );
}
