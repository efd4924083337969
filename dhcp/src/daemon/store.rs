//! Leases on disk, so a restarted daemon goes on renewing them: one file per
//! attachment under the state directory, replaced atomically (a new file,
//! synced, renamed over the old one) and never through a symlink.

use crate::config::LeaseOptions;
use cni_core::dhcp::{v4, v6};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Everything needed to resume an attachment's leases after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// `containerID/network/ifname`, the attachment's identity.
    pub key: String,
    pub container_id: String,
    pub network: String,
    pub ifname: String,
    /// As the runtime gave it, without the daemon's host prefix.
    pub netns: String,
    pub hwaddr: [u8; 6],
    pub options: LeaseOptions,
    pub lease4: Option<v4::Lease>,
    pub lease6: Option<v6::Lease>,
}

#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The state directory, created 0700 if missing; a symlink or a file in
    /// its place is refused.
    pub fn open(dir: &Path) -> io::Result<Store> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let meta = fs::symlink_metadata(dir)?;
        if !meta.is_dir() {
            return Err(io::Error::other(format!(
                "state directory {} is not a directory (a symlink is not followed)",
                dir.display()
            )));
        }
        Ok(Store {
            dir: dir.to_path_buf(),
        })
    }

    pub fn save(&self, record: &Record) -> io::Result<()> {
        let path = self.path_of(&record.key);
        let tmp = path.with_extension("tmp");
        match fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let body = serde_json::to_vec_pretty(record).map_err(io::Error::other)?;
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)?;
        file.write_all(&body)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, &path)?;
        File::open(&self.dir)?.sync_all()
    }

    pub fn remove(&self, key: &str) -> io::Result<()> {
        match fs::remove_file(self.path_of(key)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// Every readable record. A file that is not one (corrupt, foreign, a
    /// symlink) is renamed `*.bad` and left for the operator, not followed.
    pub fn load_all(&self) -> io::Result<Vec<Record>> {
        let mut records = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let path = entry?.path();
            match path.extension().and_then(|e| e.to_str()) {
                Some("json") => {}
                Some("tmp") => {
                    let _ = fs::remove_file(&path);
                    continue;
                }
                _ => continue,
            }
            match read_record(&path) {
                Ok(record) if self.path_of(&record.key) == path => records.push(record),
                Ok(_) => set_aside(&path, "its name does not match its attachment"),
                Err(e) => set_aside(&path, &e.to_string()),
            }
        }
        Ok(records)
    }

    fn path_of(&self, key: &str) -> PathBuf {
        let digest = Sha256::digest(key.as_bytes());
        let name: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}.json"))
    }
}

fn read_record(path: &Path) -> io::Result<Record> {
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    let mut body = Vec::new();
    Read::take(&mut file, 1 << 20).read_to_end(&mut body)?;
    serde_json::from_slice(&body).map_err(io::Error::other)
}

fn set_aside(path: &Path, why: &str) {
    tracing::warn!(
        "lease file {} is unusable ({why}); renamed *.bad",
        path.display()
    );
    let _ = fs::rename(path, path.with_extension("bad"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Families;

    fn record(key: &str) -> Record {
        Record {
            key: key.to_string(),
            container_id: "c1".into(),
            network: "lan".into(),
            ifname: "eth0".into(),
            netns: "/run/netns/x".into(),
            hwaddr: [2, 0, 0, 0, 0, 1],
            options: LeaseOptions {
                families: Families {
                    ipv4: true,
                    ipv6: false,
                },
                request: vec![1, 3],
                provide: vec![],
                ipv6_prefix_len: 64,
                priority: 0,
            },
            lease4: None,
            lease6: None,
        }
    }

    #[test]
    fn saved_records_load_back_and_removed_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state")).unwrap();
        store.save(&record("c1/lan/eth0")).unwrap();
        store.save(&record("c2/lan/eth0")).unwrap();
        let mut keys: Vec<String> = store
            .load_all()
            .unwrap()
            .into_iter()
            .map(|r| r.key)
            .collect();
        keys.sort();
        assert_eq!(keys, vec!["c1/lan/eth0", "c2/lan/eth0"]);
        store.remove("c1/lan/eth0").unwrap();
        store.remove("c1/lan/eth0").unwrap();
        assert_eq!(store.load_all().unwrap().len(), 1);
        let mode = fs::metadata(store.path_of("c2/lan/eth0"))
            .unwrap()
            .permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
    }

    #[test]
    fn a_symlink_in_place_of_a_record_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "keep").unwrap();
        let key = "c1/lan/eth0";
        std::os::unix::fs::symlink(&victim, store.path_of(key)).unwrap();
        std::os::unix::fs::symlink(&victim, store.path_of(key).with_extension("tmp")).unwrap();
        store.save(&record(key)).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
        assert!(!fs::symlink_metadata(store.path_of(key))
            .unwrap()
            .is_symlink());
    }

    #[test]
    fn corrupt_and_misnamed_files_are_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        fs::write(dir.path().join("00.json"), "{not json").unwrap();
        let misnamed = serde_json::to_vec(&record("c9/lan/eth0")).unwrap();
        fs::write(dir.path().join("01.json"), misnamed).unwrap();
        assert!(store.load_all().unwrap().is_empty());
        assert!(dir.path().join("00.bad").exists());
        assert!(dir.path().join("01.bad").exists());
    }

    #[test]
    fn a_symlink_as_the_state_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        fs::create_dir(&real).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(Store::open(&link).is_err());
    }
}
