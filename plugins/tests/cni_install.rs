//! cni-install (the node-installer image's entrypoint) run from this build:
//! every plugin of the source directory lands in the target directory with
//! the same bytes, 0755, replacing what was there, with no temporary file
//! left; the network configuration is written only when it is JSON.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

const CNI_INSTALL: &str = env!("CARGO_BIN_EXE_cni-install");

fn install(args: &[&Path], conf: Option<&str>) -> Output {
    let mut cmd = Command::new(CNI_INSTALL);
    cmd.env_clear();
    for (flag, value) in ["--source", "--bin-dir", "--conf-dir"].iter().zip(args) {
        cmd.arg(flag).arg(value);
    }
    if let Some(conf) = conf {
        cmd.env("CNI_NETWORK_CONFIG", conf);
    }
    cmd.output().unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn cni_install_copies_every_plugin_and_the_config() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, bin, conf) = (
        tmp.path().join("src"),
        tmp.path().join("host/opt/cni/bin"),
        tmp.path().join("host/etc/cni/net.d"),
    );
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(src.join("bridge"), vec![7u8; 300_000]).unwrap();
    std::fs::write(src.join("host-local"), b"host-local bytes").unwrap();
    std::fs::write(bin.join("bridge"), b"an older bridge").unwrap();
    std::fs::set_permissions(bin.join("bridge"), std::fs::Permissions::from_mode(0o700)).unwrap();

    let config = r#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge"}]}"#;
    let out = install(&[&src, &bin, &conf], Some(config));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(names(&bin), ["bridge", "host-local"]);
    for name in ["bridge", "host-local"] {
        assert_eq!(
            std::fs::read(bin.join(name)).unwrap(),
            std::fs::read(src.join(name)).unwrap()
        );
        let mode = std::fs::metadata(bin.join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755, "{name}");
    }
    assert_eq!(names(&conf), ["10-cni-rs.conflist"]);
    assert_eq!(
        std::fs::read_to_string(conf.join("10-cni-rs.conflist")).unwrap(),
        config
    );

    // Not JSON: refused, and the config directory keeps what it had.
    let out = install(&[&src, &bin, &conf], Some("{not json"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not JSON"));
    assert_eq!(names(&conf), ["10-cni-rs.conflist"]);
    assert_eq!(
        std::fs::read_to_string(conf.join("10-cni-rs.conflist")).unwrap(),
        config
    );

    // No configuration given: none written; an empty source is an error.
    let conf2 = tmp.path().join("other-net.d");
    let out = install(&[&src, &bin, &conf2], None);
    assert!(out.status.success());
    assert!(!conf2.exists());
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(!install(&[&empty, &bin, &conf], None).status.success());
    let bad = Command::new(CNI_INSTALL)
        .arg("--bogus")
        .arg("x")
        .output()
        .unwrap();
    assert!(!bad.status.success());
}
