//! Real etcd servers for the tests (Debian's `etcd-server`), on 127.0.0.1
//! ports picked free, data in a temporary directory, killed on drop; and
//! the plugin binary run as a runtime would run it.

#![allow(dead_code)]

use cni_core::testsupport::require;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ETCD: &str = "/usr/bin/etcd";

/// Whether etcd is installed; skips loudly (fails under CI's require flag).
pub fn have_etcd(test: &str) -> bool {
    require(
        test,
        "etcd (apt-get install etcd-server)",
        Path::new(ETCD).exists(),
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

struct Member {
    name: String,
    client_port: u16,
    peer_port: u16,
    /// Plain HTTP `/health` and `/metrics`, also when clients use TLS.
    metrics_port: u16,
    child: Option<Child>,
}

/// Server TLS: clients must present a certificate signed by `ca`.
#[derive(Clone)]
pub struct ServerTls {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// One etcd cluster of 1 or 3 members.
pub struct Etcd {
    dir: tempfile::TempDir,
    members: Vec<Member>,
    token: String,
    tls: Option<ServerTls>,
}

impl Etcd {
    pub fn start(n: usize) -> Etcd {
        Self::start_with(n, None)
    }

    pub fn start_with(n: usize, tls: Option<ServerTls>) -> Etcd {
        let dir = tempfile::tempdir().expect("temp dir");
        let members = (0..n)
            .map(|i| Member {
                name: format!("m{i}"),
                client_port: free_port(),
                peer_port: free_port(),
                metrics_port: free_port(),
                child: None,
            })
            .collect();
        let token = format!("cni-rs-test-{}", std::process::id());
        let mut etcd = Etcd {
            dir,
            members,
            token,
            tls,
        };
        for i in 0..n {
            etcd.spawn(i);
        }
        etcd.wait_healthy(Duration::from_secs(20));
        etcd
    }

    fn initial_cluster(&self) -> String {
        self.members
            .iter()
            .map(|m| format!("{}=http://127.0.0.1:{}", m.name, m.peer_port))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn spawn(&mut self, i: usize) {
        let initial = self.initial_cluster();
        let data = self.dir.path().join(format!("data{i}"));
        let log = std::fs::File::create(self.dir.path().join(format!("log{i}"))).expect("log file");
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let tls_args: Vec<String> = match &self.tls {
            Some(t) => vec![
                "--client-cert-auth".into(),
                format!("--trusted-ca-file={}", t.ca.display()),
                format!("--cert-file={}", t.cert.display()),
                format!("--key-file={}", t.key.display()),
            ],
            None => Vec::new(),
        };
        let m = &mut self.members[i];
        let client = format!("{scheme}://127.0.0.1:{}", m.client_port);
        let metrics = format!("http://127.0.0.1:{}", m.metrics_port);
        let peer = format!("http://127.0.0.1:{}", m.peer_port);
        let child = Command::new(ETCD)
            .args(["--name", &m.name, "--data-dir"])
            .arg(&data)
            .args([
                "--listen-client-urls",
                &client,
                "--advertise-client-urls",
                &client,
            ])
            .args([
                "--listen-peer-urls",
                &peer,
                "--initial-advertise-peer-urls",
                &peer,
            ])
            .args([
                "--initial-cluster",
                &initial,
                "--initial-cluster-state",
                "new",
            ])
            .args(["--initial-cluster-token", &self.token])
            .args(["--listen-metrics-urls", &metrics])
            .args(&tls_args)
            // Fast elections: a killed leader is replaced within a second.
            .args(["--heartbeat-interval", "50", "--election-timeout", "500"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting etcd");
        m.child = Some(child);
    }

    /// Starts a killed member again on its data directory.
    pub fn restart(&mut self, i: usize) {
        self.spawn(i);
    }

    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.members[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn endpoints(&self) -> Vec<String> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        self.members
            .iter()
            .map(|m| format!("{scheme}://127.0.0.1:{}", m.client_port))
            .collect()
    }

    pub fn running(&self) -> Vec<usize> {
        (0..self.members.len())
            .filter(|i| self.members[*i].child.is_some())
            .collect()
    }

    /// The member whose metrics say it leads.
    pub fn leader(&self) -> Option<usize> {
        self.running().into_iter().find(|i| {
            http_get(self.members[*i].metrics_port, "/metrics")
                .is_some_and(|body| body.lines().any(|l| l == "etcd_server_is_leader 1"))
        })
    }

    /// Waits until every running member reports healthy (a leader exists).
    pub fn wait_healthy(&self, limit: Duration) {
        let start = Instant::now();
        loop {
            let ok = self.running().iter().all(|i| {
                http_get(self.members[*i].metrics_port, "/health")
                    .is_some_and(|b| b.contains("\"health\":\"true\""))
            });
            if ok && self.leader().is_some() {
                return;
            }
            if start.elapsed() > limit {
                let logs: String = (0..self.members.len())
                    .map(|i| {
                        std::fs::read_to_string(self.dir.path().join(format!("log{i}")))
                            .unwrap_or_default()
                    })
                    .collect();
                panic!("etcd not healthy within {limit:?}:\n{logs}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            self.kill(i);
        }
    }
}

/// A plain HTTP/1.0 GET on 127.0.0.1, the body on success.
fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

pub fn plugin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_etcd-ipam"))
}

/// A network configuration using etcd-ipam; `ipam` holds extra keys.
pub fn netconf(version: &str, name: &str, endpoints: &[String], node: &str, ipam: Value) -> Value {
    let mut ipam_obj = serde_json::json!({
        "type": "etcd-ipam",
        "endpoints": endpoints,
        "nodeName": node,
        "quarantineSeconds": 0,
        "requestTimeoutMs": 2000,
        "dialTimeoutMs": 1000,
    });
    if let (Some(dst), Value::Object(extra)) = (ipam_obj.as_object_mut(), ipam) {
        dst.extend(extra);
    }
    serde_json::json!({
        "cniVersion": version,
        "name": name,
        "type": "bridge",
        "ipam": ipam_obj,
    })
}

pub struct Run {
    pub ok: bool,
    pub json: Value,
    pub stderr: String,
}

impl Run {
    pub fn code(&self) -> u64 {
        self.json["code"].as_u64().unwrap_or(0)
    }
    pub fn addrs(&self) -> Vec<String> {
        self.json["ips"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i["address"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Starts the plugin for `command` on `container` (not waiting).
pub fn spawn(command: &str, container: &str, conf: &Value) -> Child {
    spawn_args(command, container, conf, "")
}

/// As [`spawn`], with `CNI_ARGS`.
pub fn spawn_args(command: &str, container: &str, conf: &Value, cni_args: &str) -> Child {
    spawn_bin(&plugin(), command, container, conf, cni_args)
}

/// Starts the plugin `bin` as a runtime would.
pub fn spawn_bin(
    bin: &Path,
    command: &str,
    container: &str,
    conf: &Value,
    cni_args: &str,
) -> Child {
    let mut child = Command::new(bin)
        .env_clear()
        .env("CNI_ARGS", cni_args)
        .env("CNI_COMMAND", command)
        .env("CNI_CONTAINERID", container)
        .env("CNI_NETNS", "/var/run/netns/unused")
        .env("CNI_IFNAME", "eth0")
        .env("CNI_PATH", "/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running etcd-ipam");
    let body = conf.to_string();
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(body.as_bytes());
    }
    child
}

pub fn finish(child: Child) -> Run {
    let out = child.wait_with_output().expect("waiting for etcd-ipam");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    Run {
        ok: out.status.success(),
        json: serde_json::from_str(&stdout).unwrap_or(Value::Null),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn run(command: &str, container: &str, conf: &Value) -> Run {
    finish(spawn(command, container, conf))
}

/// Every key under `prefix` and its value, read through the plugin's own
/// etcd client.
pub fn dump(endpoints: &[String], prefix: &str) -> Vec<(String, String)> {
    use cni_core::ipam::cluster::Kv;
    let settings = cni_etcd_ipam::config::EtcdSettings {
        endpoints: endpoints.to_vec(),
        dial_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        credentials: None,
        tls: None,
    };
    let mut kv = cni_etcd_ipam::etcd_kv::EtcdKv::connect(&settings).expect("connecting");
    kv.range(prefix)
        .expect("range")
        .into_iter()
        .map(|(k, e)| (k, String::from_utf8_lossy(&e.value).into_owned()))
        .collect()
}

/// Makes a CA, a server certificate for 127.0.0.1 and a client certificate
/// with openssl (P-256 keys) in `dir`; None when openssl is missing.
pub fn make_certs(dir: &Path) -> Option<(ServerTls, PathBuf, PathBuf)> {
    let ossl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()?;
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(())
    };
    let key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    ossl(
        &[
            &["req", "-x509"][..],
            &key,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "1",
                "-subj",
                "/CN=cni-rs test CA",
            ],
        ]
        .concat(),
    )?;
    for (name, ext) in [
        (
            "server",
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth",
        ),
        ("client", "extendedKeyUsage=clientAuth"),
    ] {
        std::fs::write(dir.join(format!("{name}.ext")), ext).ok()?;
        let (k, csr, pem, extf) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
            format!("{name}.ext"),
        );
        ossl(
            &[
                &["req"][..],
                &key,
                &["-keyout", &k, "-out", &csr, "-subj", &format!("/CN={name}")],
            ]
            .concat(),
        )?;
        ossl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "1",
            "-extfile",
            &extf,
        ])?;
    }
    Some((
        ServerTls {
            ca: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
        },
        dir.join("client.pem"),
        dir.join("client.key"),
    ))
}
