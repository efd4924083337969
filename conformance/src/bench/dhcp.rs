//! The bridge with dhcp IPAM: a DHCP server (dnsmasq with `--no-ping`, so it
//! answers at once) on a bridge of the implementation's own, and that
//! implementation's `dhcp daemon`, running for as long as the attacher.
//! What is timed is the bridge plugin's ADD, CHECK and DEL, as a runtime
//! runs them: the daemon's lease exchange is inside them.

use super::attach::{Attacher, Container, PluginAttacher};
use super::step::{Outcome, Probe, Step};
use crate::dhcp_lab::dnsmasq_server_args;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct DhcpAttacher {
    inner: PluginAttacher,
    servers: Vec<Child>,
}

impl DhcpAttacher {
    /// Makes the bridge with its gateway address, starts dnsmasq on it and
    /// the daemon from the attacher's plugin directory. `ours`: our daemon
    /// also gets a state directory of its own (the reference has none).
    pub fn start(inner: PluginAttacher, ours: bool) -> Result<DhcpAttacher, String> {
        let lan = &inner.lan;
        let setup = format!(
            "link add {br} type bridge\naddr add {gw}/16 dev {br}\nlink set {br} up\n",
            br = lan.bridge,
            gw = lan.gateway4()
        );
        Step::tool("/usr/sbin/ip", &["-batch", "-"], setup).run(Probe::Timed)?;
        let mut attacher = DhcpAttacher {
            servers: Vec::new(),
            inner,
        };
        let lan = attacher.inner.lan.clone();
        let leases = lan
            .data_dir
            .with_file_name(format!("{}-dnsmasq.leases", lan.bridge));
        let octet = lan.octet;
        let dnsmasq = Command::new("dnsmasq")
            .args(dnsmasq_server_args(&lan.bridge, &leases))
            .arg(format!("--dhcp-range=10.{octet}.0.100,10.{octet}.0.250,1h"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("bridge+dhcp: starting dnsmasq: {e}"))?;
        attacher.servers.push(dnsmasq);
        let socket = lan.dhcp_socket();
        let mut daemon = Command::new(attacher.inner.dir.join("dhcp"));
        daemon.arg("daemon").arg("-socketpath").arg(&socket);
        if ours {
            daemon.arg("-statedir").arg(
                lan.data_dir
                    .with_file_name(format!("{}-dhcp-state", lan.bridge)),
            );
        }
        let daemon = daemon
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "bridge+dhcp: starting {} dhcp daemon: {e}",
                    attacher.inner.label
                )
            })?;
        attacher.servers.push(daemon);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            if Instant::now() > deadline {
                return Err(format!(
                    "bridge+dhcp: the {} dhcp daemon did not listen on {}",
                    attacher.inner.label,
                    socket.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(attacher)
    }
}

impl Attacher for DhcpAttacher {
    fn label(&self) -> &str {
        self.inner.label()
    }

    fn add(&self, c: Container, probe: Probe) -> Result<Outcome, String> {
        self.inner.add(c, probe)
    }

    fn check(&self, c: Container, added: &[u8], probe: Probe) -> Result<Outcome, String> {
        self.inner.check(c, added, probe)
    }

    fn del(&self, c: Container, added: &[u8], probe: Probe) -> Result<Outcome, String> {
        self.inner.del(c, added, probe)
    }
}

impl Drop for DhcpAttacher {
    fn drop(&mut self) {
        for child in &mut self.servers {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(self.inner.lan.dhcp_socket());
    }
}
