//! A DHCP network for tests, all inside namespaces the test makes: a
//! namespace that plays the host with a bridge, dnsmasq serving DHCPv4 and
//! DHCPv6 on it, our `dhcp` daemon, and a parent link for macvlan networks
//! on the same segment. Processes are killed and namespaces removed on drop.

use crate::realns::{our_plugin, PluginRun, TestNet};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The lab's IPv4 network (`10.97.0.0/16`, leases from 10.97.0.100 to
/// 10.97.7.250: room for a thousand containers) as an address prefix.
pub const SUBNET4: &str = "10.97";
pub const PREFIX_LEN4: u8 = 16;
pub const ROUTER4: &str = "10.97.0.1";
pub const DNS4: &str = "10.97.0.53";
pub const PREFIX6: &str = "fd97::";
pub const DNS6: &str = "fd97::53";

/// How dnsmasq answers.
#[derive(Debug, Clone)]
pub struct ServerSetup {
    /// Lease time (dnsmasq's shortest is 2 minutes).
    pub lease: &'static str,
    /// Renewal (option 58) and rebinding (59) times in seconds, when set.
    pub t1_t2: Option<(u32, u32)>,
    /// Option 121 routes as dnsmasq writes them (`192.168.5.0/24,10.97.0.254`).
    pub classless: Vec<&'static str>,
}

impl Default for ServerSetup {
    fn default() -> Self {
        ServerSetup {
            lease: "1h",
            t1_t2: None,
            classless: Vec::new(),
        }
    }
}

pub struct DhcpLab {
    pub net: TestNet,
    pub host: String,
    pub bridge: String,
    /// Parent of macvlan networks: a veth whose peer is on the bridge.
    pub uplink: String,
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub bin: PathBuf,
    /// The daemon's `-timeout` (how long an ADD waits for a lease).
    pub timeout: &'static str,
    dnsmasq: Option<Child>,
    daemon: Option<Child>,
    reference_daemon: Option<Child>,
}

impl DhcpLab {
    pub fn new(setup: &ServerSetup) -> DhcpLab {
        let mut lab = Self::without_server();
        lab.start_dnsmasq(setup);
        lab
    }

    /// The namespaces, links and binaries, but no DHCP server: the test
    /// plays one itself.
    pub fn without_server() -> DhcpLab {
        let mut net = TestNet::new();
        let host = net.add_ns("host");
        let bridge = format!("{}br", net.prefix);
        let uplink = format!("{}up", net.prefix);
        let peer = format!("{}upp", net.prefix);
        let ip = |args: &[&str]| run_ok(Command::new("ip").arg("-n").arg(&host).args(args));
        ip(&["link", "add", &bridge, "type", "bridge"]);
        ip(&[
            "addr",
            "add",
            &format!("{ROUTER4}/{PREFIX_LEN4}"),
            "dev",
            &bridge,
        ]);
        ip(&[
            "addr",
            "add",
            &format!("{PREFIX6}1/64"),
            "dev",
            &bridge,
            "nodad",
        ]);
        ip(&["link", "set", &bridge, "up"]);
        ip(&[
            "link", "add", &uplink, "type", "veth", "peer", "name", &peer,
        ]);
        ip(&["link", "set", &peer, "master", &bridge, "up"]);
        ip(&["link", "set", &uplink, "up"]);
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).expect("bin dir");
        for plugin in ["bridge", "macvlan", "dhcp"] {
            std::os::unix::fs::symlink(our_plugin(plugin), bin.join(plugin)).expect("symlink");
        }
        DhcpLab {
            socket: dir.path().join("dhcp.sock"),
            net,
            host,
            bridge,
            uplink,
            bin,
            dir,
            timeout: "20s",
            dnsmasq: None,
            daemon: None,
            reference_daemon: None,
        }
    }

    fn start_dnsmasq(&mut self, setup: &ServerSetup) {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.host, "dnsmasq"])
            .args(dnsmasq_server_args(&self.bridge, &self.leases_path()))
            .arg(format!(
                "--dhcp-range={SUBNET4}.0.100,{SUBNET4}.7.250,{}",
                setup.lease
            ))
            .arg(format!(
                "--dhcp-range={PREFIX6}100,{PREFIX6}1ff,64,{}",
                setup.lease
            ))
            .arg(format!("--dhcp-option=option:router,{ROUTER4}"))
            .arg(format!("--dhcp-option=option:dns-server,{DNS4}"))
            .arg("--dhcp-option=option:domain-search,lab.test")
            .arg(format!("--dhcp-option=option6:dns-server,[{DNS6}]"))
            .arg("--dhcp-option=option:mtu,1400")
            .arg(format!("--log-facility={}", self.log_path().display()))
            .arg("--log-dhcp");
        if let Some((t1, t2)) = setup.t1_t2 {
            cmd.arg(format!("--dhcp-option=option:T1,{t1}"))
                .arg(format!("--dhcp-option=option:T2,{t2}"));
        }
        if !setup.classless.is_empty() {
            cmd.arg(format!(
                "--dhcp-option=option:classless-static-route,{}",
                setup.classless.join(",")
            ));
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn dnsmasq");
        self.dnsmasq = Some(child);
        wait_for("dnsmasq to start", Duration::from_secs(10), || {
            self.log().contains("DHCP, IP range")
        });
    }

    /// Starts our daemon in the host namespace and waits for its socket.
    pub fn start_daemon(&mut self) {
        assert!(self.daemon.is_none(), "daemon already running");
        let _ = std::fs::remove_file(self.socket.with_extension("log"));
        let log = std::fs::File::create(self.daemon_log_path()).expect("daemon log");
        let child = Command::new("ip")
            .args(["netns", "exec", &self.host])
            .arg(our_plugin("dhcp"))
            .arg("daemon")
            .arg("-socketpath")
            .arg(&self.socket)
            .arg("-statedir")
            .arg(self.state_dir())
            .args(["-timeout", self.timeout])
            .env("CNI_DHCP_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn our dhcp daemon");
        self.daemon = Some(child);
        let socket = self.socket.clone();
        wait_for("our dhcp daemon's socket", Duration::from_secs(10), || {
            std::os::unix::net::UnixStream::connect(&socket).is_ok()
        });
    }

    /// Starts the reference's daemon (`/usr/lib/cni/dhcp daemon`) beside
    /// ours, on its own socket, and returns a bin directory whose `dhcp` is
    /// the reference's (and `bridge`/`macvlan` ours) plus that socket.
    pub fn start_reference_daemon(&mut self) -> (PathBuf, PathBuf) {
        let socket = self.dir.path().join("reference-dhcp.sock");
        let bin = self.dir.path().join("reference-bin");
        std::fs::create_dir_all(&bin).expect("bin dir");
        for plugin in ["bridge", "macvlan"] {
            std::os::unix::fs::symlink(our_plugin(plugin), bin.join(plugin)).expect("symlink");
        }
        std::os::unix::fs::symlink("/usr/lib/cni/dhcp", bin.join("dhcp")).expect("symlink");
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.host,
                "/usr/lib/cni/dhcp",
                "daemon",
                "-socketpath",
            ])
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the reference dhcp daemon");
        self.reference_daemon = Some(child);
        let probe = socket.clone();
        wait_for(
            "the reference dhcp daemon's socket",
            Duration::from_secs(10),
            || std::os::unix::net::UnixStream::connect(&probe).is_ok(),
        );
        (bin, socket)
    }

    /// Kills the daemon without warning (SIGKILL): leases stay on disk.
    pub fn kill_daemon(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn leases_path(&self) -> PathBuf {
        self.dir.path().join("dnsmasq.leases")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("dnsmasq.log")
    }

    pub fn daemon_log_path(&self) -> PathBuf {
        self.dir.path().join("daemon.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub fn daemon_log(&self) -> String {
        std::fs::read_to_string(self.daemon_log_path()).unwrap_or_default()
    }

    /// dnsmasq's lease file (its addresses and client IDs).
    pub fn leases(&self) -> String {
        std::fs::read_to_string(self.leases_path()).unwrap_or_default()
    }

    /// A network of `main` (`bridge` or `macvlan`) with dhcp IPAM for `families`.
    pub fn conf(&self, main: &str, families: &[&str]) -> Value {
        let ipam = json!({"type": "dhcp", "daemonSocketPath": self.socket, "families": families});
        match main {
            "macvlan" => json!({"cniVersion": "1.0.0", "name": "lan", "type": "macvlan",
                "master": self.uplink, "mode": "bridge", "ipam": ipam}),
            _ => json!({"cniVersion": "1.0.0", "name": "lan", "type": "bridge",
                "bridge": self.bridge, "ipam": ipam}),
        }
    }

    /// Runs `plugin` (in the lab's bin) for container `id` in namespace `ctr`.
    pub fn run(&self, plugin: &str, verb: &str, id: &str, ctr: &str, conf: &Value) -> PluginRun {
        self.run_from(&self.bin, plugin, verb, id, ctr, conf)
    }

    /// [`run`](Self::run) with the plugins of `bin`.
    pub fn run_from(
        &self,
        bin: &Path,
        plugin: &str,
        verb: &str,
        id: &str,
        ctr: &str,
        conf: &Value,
    ) -> PluginRun {
        self.run_on(bin, plugin, verb, (id, ctr, "eth0"), conf)
    }

    /// Runs `plugin` of `bin` for the attachment (container ID, namespace, ifname).
    pub fn run_on(
        &self,
        bin: &Path,
        plugin: &str,
        verb: &str,
        (id, ctr, ifname): (&str, &str, &str),
        conf: &Value,
    ) -> PluginRun {
        let netns = if ctr.is_empty() {
            String::new()
        } else {
            TestNet::path(ctr)
        };
        let env = [
            ("CNI_COMMAND", verb),
            ("CNI_CONTAINERID", id),
            ("CNI_NETNS", netns.as_str()),
            ("CNI_IFNAME", ifname),
            ("CNI_PATH", bin.to_str().expect("utf-8 path")),
        ];
        self.net.run_plugin(
            &self.host,
            &bin.join(plugin),
            &env,
            conf.to_string().as_bytes(),
        )
    }

    /// How many lines of dnsmasq's log contain `needle`.
    pub fn count_in_log(&self, needle: &str) -> usize {
        self.log().lines().filter(|l| l.contains(needle)).count()
    }
}

impl Drop for DhcpLab {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- dnsmasq log ---\n{}", self.log());
            eprintln!("--- our dhcp daemon's log ---\n{}", self.daemon_log());
        }
        self.kill_daemon();
        for child in [self.dnsmasq.take(), self.reference_daemon.take()]
            .iter_mut()
            .flatten()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// dnsmasq as a DHCP server only, in the foreground, on `interface` alone,
/// answering at once (`--no-ping`) and authoritatively, its leases in
/// `leases`: what the tests and the benchmark both start.
pub fn dnsmasq_server_args(interface: &str, leases: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "--no-daemon",
        "--conf-file=/dev/null",
        "--port=0",
        "--bind-interfaces",
        "--no-ping",
        "--dhcp-authoritative",
    ]
    .map(String::from)
    .to_vec();
    args.push(format!("--interface={interface}"));
    args.push(format!("--dhcp-leasefile={}", leases.display()));
    args
}

pub fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The addresses `ip` shows on `ifname` in namespace `ns`.
pub fn addresses(ns: &str, ifname: &str) -> String {
    let out = Command::new("ip")
        .args(["-n", ns, "addr", "show", "dev", ifname])
        .output()
        .expect("ip addr");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The file names in `dir` (sorted), empty when it does not exist.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
