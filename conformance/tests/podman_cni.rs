//! A real runtime on our plugins: Podman 4 (its CNI backend) runs a container
//! on a network whose bridge and host-local are ours, with the reference's
//! portmap, firewall and tuning chained after them (Podman's default list);
//! then that default list on our binaries alone; then on the plugins that our
//! node-installer image (scripts/build-image.sh) copied into a host directory;
//! then on the plugins `scripts/install.sh --cni-bin-dir` installed.
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

/// Podman in a namespace playing the host, its CNI configs in a scratch
/// directory and its plugins looked up in `plugin_dirs`.
struct Setup {
    net: TestNet,
    host: String,
    dir: tempfile::TempDir,
    podman: Podman,
}

fn setup(test: &str, plugin_dirs: &[&Path]) -> Option<Setup> {
    let needs = "root, podman, runc, busybox, nsenter and /usr/lib/cni";
    let have = cni_core::testsupport::is_root()
        && ["podman", "runc", "busybox", "nsenter"]
            .iter()
            .all(|p| available(p))
        && reference_dir().is_some();
    if !cni_core::testsupport::require(test, needs, have) {
        return None;
    }
    let mut net = TestNet::new();
    let host = net.add_ns("host");
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("containers.conf");
    std::fs::create_dir(dir.path().join("net.d")).unwrap();
    let dirs: Vec<String> = plugin_dirs
        .iter()
        .map(|d| format!("\"{}\"", d.display()))
        .collect();
    std::fs::write(
        &conf,
        format!(
            "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n\
             [engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n\
             [network]\nnetwork_backend = \"cni\"\nnetwork_config_dir = \"{}\"\n\
             cni_plugin_dirs = [{}]\n",
            dir.path().join("net.d").display(),
            dirs.join(", ")
        ),
    )
    .unwrap();
    let podman = Podman {
        conf,
        host: host.clone(),
    };
    Some(Setup {
        net,
        host,
        dir,
        podman,
    })
}

impl Setup {
    fn cleanup(&self) -> Cleanup<'_> {
        Cleanup {
            podman: &self.podman,
            network: format!("{}net", self.net.prefix),
            image: format!("localhost/{}-busybox:latest", self.net.prefix),
            container: format!("{}-ctr", self.net.prefix),
        }
    }

    /// What the host namespace shows with `args`, as text.
    fn host_text(&self, program: &str, args: &[&str]) -> String {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.host, program])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Nothing of the container is left in the host: no veth, no lease, no
    /// rule for its mapped port.
    fn assert_nothing_left(&self, network: &str, ip: &str, host_port: &str) {
        let links = self.host_text("ip", &["-o", "link"]);
        assert!(!links.contains("veth"), "host veth removed: {links}");
        let lease = Path::new("/var/lib/cni/networks").join(network).join(ip);
        assert!(!lease.exists(), "lease released");
        let iptables = self.host_text("iptables", &["-t", "nat", "-S"]);
        let nft = self.host_text("nft", &["list", "ruleset"]);
        assert!(
            !iptables.contains(host_port) && !nft.contains(host_port),
            "portmap rules removed:\n{iptables}\n{nft}"
        );
    }
}

#[test]
fn podman_runs_a_container_on_our_bridge_and_host_local() {
    let test = "podman_runs_a_container_on_our_bridge_and_host_local";
    let reference = reference_dir().unwrap_or(Path::new("/usr/lib/cni"));
    let Some(s) = setup(test, &[&plugin_dir(), reference]) else {
        return;
    };
    our_plugin("bridge");
    our_plugin("host-local");
    let cleanup = s.cleanup();
    import_busybox(&s.podman, s.dir.path(), &cleanup.image);
    s.podman.ok(&[
        "network",
        "create",
        "--subnet",
        "10.94.0.0/24",
        &cleanup.network,
    ]);

    let out = s.podman.ok(&[
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
    // --rm ran DEL through the whole list.
    s.assert_nothing_left(&cleanup.network, "10.94.0.50", "18081");
}

/// Podman's default chain (bridge + host-local, portmap, firewall, tuning)
/// with our build as the only plugin directory: a request to the mapped
/// host port reaches a server in the container, `--ip` is honoured, and
/// `podman rm` leaves nothing behind.
#[test]
fn podman_runs_its_default_chain_on_our_binaries_only() {
    let test = "podman_runs_its_default_chain_on_our_binaries_only";
    let Some(s) = setup(test, &[&plugin_dir()]) else {
        return;
    };
    for plugin in ["bridge", "host-local", "portmap", "firewall", "tuning"] {
        our_plugin(plugin);
    }
    let cleanup = s.cleanup();
    import_busybox(&s.podman, s.dir.path(), &cleanup.image);
    s.podman.ok(&[
        "network",
        "create",
        "--subnet",
        "10.95.0.0/24",
        &cleanup.network,
    ]);
    s.podman.ok(&[
        "run",
        "-d",
        "--name",
        &cleanup.container,
        "--network",
        &cleanup.network,
        "--ip",
        "10.95.0.60",
        "-p",
        "18082:80",
        &cleanup.image,
        "sh",
        "-c",
        "busybox mkdir -p /www && echo served-by-cni-rs > /www/index.html \
         && exec busybox httpd -f -p 80 -h /www",
    ]);
    let addr = s
        .podman
        .ok(&["exec", &cleanup.container, "ip", "addr", "show", "eth0"]);
    assert!(addr.contains("inet 10.95.0.60/24"), "--ip honoured: {addr}");

    // From the host namespace to the host's own address on the bridge
    // (busybox's wget crashes on this host; bash's /dev/tcp is enough).
    let get = |addr: &str| {
        let script =
            format!("exec 3<>/dev/tcp/{addr}; printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3");
        s.host_text("timeout", &["3", "bash", "-c", &script])
    };
    let mut body = String::new();
    for _ in 0..20 {
        body = get("10.95.0.1/18082");
        if body.contains("served-by-cni-rs") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert!(
        body.contains("served-by-cni-rs"),
        "the mapped port serves the container's httpd: {body:?}; directly: {:?}\n{}",
        get("10.95.0.60/80"),
        s.host_text("nft", &["list", "ruleset"]),
    );

    s.podman.ok(&["rm", "-f", "-t", "0", &cleanup.container]);
    s.assert_nothing_left(&cleanup.network, "10.95.0.60", "18082");
}

/// Where the shipped static binaries are (the image needs them static: it has
/// no libc): `CNI_RS_STATIC_BIN_DIR`, which scripts/test.sh sets from
/// scripts/cargo-env.sh's `static_bin_dir`, else `cargo build-static`'s musl
/// directory.
fn static_bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CNI_RS_STATIC_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("x86_64-unknown-linux-musl/release")
}

/// Every shipped plugin, from the scripts' one list.
fn shipped_plugins() -> Vec<String> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/shipped-plugins.sh");
    let script =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let list = script
        .lines()
        .find_map(|l| l.strip_prefix("SHIPPED_PLUGINS=\""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("SHIPPED_PLUGINS=\"...\" in scripts/shipped-plugins.sh");
    list.split_whitespace().map(str::to_owned).collect()
}

/// Removes the installer image, also when the test fails.
struct RemoveImage<'a>(&'a Podman, String);

impl Drop for RemoveImage<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["rmi", "-f", &self.1]);
    }
}

/// The node-installer image (scripts/build-image.sh) copies every plugin into
/// a mounted host directory, complete and executable, and writes the network
/// configuration it is given into the mounted config directory; Podman then
/// runs a container on that network with those plugins alone.
#[test]
fn installer_image_installs_the_plugins_podman_then_runs_on() {
    let test = "installer_image_installs_the_plugins_podman_then_runs_on";
    let built = static_bin_dir();
    let have_static = shipped_plugins()
        .iter()
        .map(String::as_str)
        .chain(["cni-install"])
        .all(|p| built.join(p).is_file());
    if !cni_core::testsupport::require(
        test,
        "the static binaries (`cargo build-static`, CI's check-static.sh)",
        have_static,
    ) {
        return;
    }
    let node = tempfile::tempdir().unwrap();
    let bin_dir = node.path().join("opt/cni/bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let Some(s) = setup(test, &[&bin_dir]) else {
        return;
    };
    let cleanup = s.cleanup();
    let installer = RemoveImage(
        &s.podman,
        format!("localhost/{}-installer:test", s.net.prefix),
    );

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/build-image.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("--from")
        .arg(&built)
        .args(["--tag", &installer.1])
        .env(
            "PODMAN",
            format!("nsenter --net=/var/run/netns/{} podman", s.host),
        )
        .env("CONTAINERS_CONF", &s.podman.conf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "build-image.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let conf_dir = s.dir.path().join("net.d");
    let conflist = serde_json::json!({
        "cniVersion": "1.0.0", "name": cleanup.network,
        "plugins": [
            {"type": "bridge", "bridge": "cnirsinst0", "isGateway": true, "ipMasq": false,
             "ipam": {"type": "host-local", "routes": [{"dst": "0.0.0.0/0"}],
                      "ranges": [[{"subnet": "10.97.0.0/24", "gateway": "10.97.0.1"}]]}},
            {"type": "portmap", "capabilities": {"portMappings": true}},
            {"type": "firewall"},
            {"type": "tuning"}
        ]
    });
    let said = s.podman.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        &format!("{}:/host/opt/cni/bin", bin_dir.display()),
        "-v",
        &format!("{}:/host/etc/cni/net.d", conf_dir.display()),
        "-e",
        &format!("CNI_NETWORK_CONFIG={conflist}"),
        &installer.1,
        "--conf-name",
        "50-installed.conflist",
    ]);
    let shipped = shipped_plugins();
    assert!(
        said.contains(&format!("{} plugins", shipped.len())),
        "{said}"
    );

    // Complete (the same bytes as the build), executable, nothing else left.
    for p in &shipped {
        let installed = bin_dir.join(p);
        let meta = std::fs::metadata(&installed).unwrap_or_else(|e| panic!("{p}: {e}"));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o755, "{p}");
        assert!(
            std::fs::read(&installed).unwrap() == std::fs::read(built.join(p)).unwrap(),
            "{p} arrived complete"
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(&bin_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected = shipped.clone();
    expected.sort();
    assert_eq!(
        names, expected,
        "the plugins and nothing else (no temporary files)"
    );
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(conf_dir.join("50-installed.conflist")).unwrap())
            .unwrap();
    assert_eq!(written, conflist);

    // Podman finds the network in the config the installer wrote, and runs
    // it on the plugins the installer copied (its only plugin directory).
    import_busybox(&s.podman, s.dir.path(), &cleanup.image);
    let out = s.podman.ok(&[
        "run",
        "--rm",
        "--name",
        &cleanup.container,
        "--network",
        &cleanup.network,
        "--ip",
        "10.97.0.70",
        &cleanup.image,
        "sh",
        "-c",
        "ip addr show eth0; ping -c 1 -W 2 10.97.0.1",
    ]);
    assert!(out.contains("inet 10.97.0.70/24"), "{out}");
    assert!(
        out.contains("1 packets received"),
        "the gateway answers: {out}"
    );
    s.assert_nothing_left(&cleanup.network, "10.97.0.70", "18083");
}

/// `scripts/install.sh --cni-bin-dir <dir>` (from the static binaries when
/// built, as in CI, else from this build's) installs every shipped plugin, and Podman runs a
/// container on a bridge network with that directory as its only plugin
/// directory: the container has its requested address and reaches the
/// gateway, the mapped port's rules exist while it runs, and removing it
/// leaves nothing behind.
#[test]
fn podman_runs_on_the_plugins_install_sh_installed() {
    let test = "podman_runs_on_the_plugins_install_sh_installed";
    let node = tempfile::tempdir().unwrap();
    let bin_dir = node.path().join("opt/cni/bin");
    let Some(s) = setup(test, &[&bin_dir]) else {
        return;
    };
    // The shipped static binaries, as the README's install builds them, when
    // they are built (CI's check-static.sh runs first); else this build's.
    let static_dir = static_bin_dir();
    let built = if shipped_plugins()
        .iter()
        .all(|p| static_dir.join(p).is_file())
    {
        static_dir
    } else {
        for p in shipped_plugins() {
            our_plugin(&p);
        }
        plugin_dir()
    };
    eprintln!("{test}: installing from {}", built.display());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/install.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("--cni-bin-dir")
        .arg(&bin_dir)
        .arg("--prefix")
        .arg(node.path().join("usr"))
        .arg("--from")
        .arg(&built)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "install.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut installed: Vec<String> = std::fs::read_dir(&bin_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    installed.sort();
    let mut expected = shipped_plugins();
    expected.sort();
    assert_eq!(installed, expected, "every shipped plugin, nothing else");

    let cleanup = s.cleanup();
    import_busybox(&s.podman, s.dir.path(), &cleanup.image);
    s.podman.ok(&[
        "network",
        "create",
        "--subnet",
        "10.96.0.0/24",
        &cleanup.network,
    ]);
    s.podman.ok(&[
        "run",
        "-d",
        "--name",
        &cleanup.container,
        "--network",
        &cleanup.network,
        "--ip",
        "10.96.0.80",
        "-p",
        "18084:80",
        &cleanup.image,
        "sleep",
        "60",
    ]);
    let out = s.podman.ok(&[
        "exec",
        &cleanup.container,
        "sh",
        "-c",
        "ip addr show eth0; ping -c 1 -W 2 10.96.0.1",
    ]);
    assert!(out.contains("inet 10.96.0.80/24"), "--ip honoured: {out}");
    assert!(
        out.contains("1 packets received"),
        "the gateway answers: {out}"
    );
    let nft = s.host_text("nft", &["list", "ruleset"]);
    assert!(
        nft.contains("18084"),
        "the installed portmap mapped the port: {nft}"
    );
    let links = s.host_text("ip", &["-o", "link"]);
    assert!(
        links.contains("veth"),
        "the host end of the container: {links}"
    );

    s.podman.ok(&["rm", "-f", "-t", "0", &cleanup.container]);
    s.assert_nothing_left(&cleanup.network, "10.96.0.80", "18084");
}
