//! What ADD changed, saved so DEL can put it back: one file per attachment,
//! `<dataDir>/<containerID>_<ifname>.json`, in the reference's format (its
//! fields, its spelling, its indentation), so a node that switches between
//! the reference and us still restores. Our own additions (`sysctl`,
//! `network`) are fields the reference's decoder skips.

use crate::common::state_file;
use cni_core::fsio::FileOps;
use cni_core::CniError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The previous values of what ADD changes; `None` for what it leaves alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promisc: Option<bool>,
    /// The reference writes no MTU as 0 (`omitempty`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allmulti: Option<bool>,
    #[serde(rename = "txQLen", default, skip_serializing_if = "Option::is_none")]
    pub txqlen: Option<u32>,
    /// Ours: each sysctl ADD set (as a path under /proc/sys) and its value before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sysctl: Vec<SavedSysctl>,
    /// Ours: the network that saved it, so a GC of one network never drops
    /// another network's state (both share the directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSysctl {
    pub key: String,
    pub value: String,
}

impl Saved {
    /// Go's `json.MarshalIndent(v, "", " ")`, byte for byte.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
        // Serializing plain strings, numbers and booleans cannot fail.
        if self.serialize(&mut ser).is_err() {
            out = b"{}".to_vec();
        }
        out
    }
}

pub use crate::common::state_file::{file_name, path, remove, remove_stale};

/// Writes the file crash-safely (see [`state_file`]).
pub fn write(
    fs: &dyn FileOps,
    data_dir: &Path,
    file: &Path,
    saved: &Saved,
) -> Result<(), CniError> {
    state_file::write(
        fs,
        data_dir,
        file,
        &saved.to_bytes(),
        "previous interface settings",
    )
}

/// What the file holds: `Ok(None)` when it is absent, `Err` with the reason
/// when it cannot be read or is not a saved state.
pub fn read(fs: &dyn FileOps, file: &Path) -> Result<Option<Saved>, String> {
    let Some(bytes) = state_file::read(fs, file)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| format!("not a saved tuning state: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_the_references_indented_json() {
        let saved = Saved {
            mac: Some("0a:58:0a:01:00:05".into()),
            promisc: Some(false),
            mtu: Some(1500),
            allmulti: Some(false),
            txqlen: Some(1000),
            ..Saved::default()
        };
        assert_eq!(
            String::from_utf8(saved.to_bytes()).unwrap(),
            "{\n \"mac\": \"0a:58:0a:01:00:05\",\n \"promisc\": false,\n \"mtu\": 1500,\n \"allmulti\": false,\n \"txQLen\": 1000\n}"
        );
        assert_eq!(Saved::default().to_bytes(), b"{}");
    }

    #[test]
    fn a_file_the_reference_wrote_reads_back() {
        let go = br#"{
 "mac": "aa:bb:cc:dd:ee:ff",
 "mtu": 9000
}"#;
        let saved: Saved = serde_json::from_slice(go).unwrap();
        assert_eq!(saved.mac.as_deref(), Some("aa:bb:cc:dd:ee:ff"));
        assert_eq!(
            (saved.mtu, saved.promisc, saved.sysctl.len()),
            (Some(9000), None, 0)
        );
    }

    #[test]
    fn write_read_remove_round_trip_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("tuning");
        let file = path(&data_dir, "ctr1", "eth0");
        assert_eq!(file.file_name().unwrap(), "ctr1_eth0.json");
        let fs = cni_core::fsio::RealFs;
        let saved = Saved {
            sysctl: vec![SavedSysctl {
                key: "net/core/somaxconn".into(),
                value: "4096".into(),
            }],
            network: Some("n".into()),
            ..Saved::default()
        };
        write(&fs, &data_dir, &file, &saved).unwrap();
        assert_eq!(read(&fs, &file).unwrap(), Some(saved));
        assert_eq!(
            std::fs::read_dir(&data_dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        remove(&fs, &data_dir, &file).unwrap();
        assert_eq!(read(&fs, &file).unwrap(), None);
    }
}
