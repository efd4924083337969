//! The result cache, in the reference's format and place so that its libcni
//! and ours read each other's entries:
//! `<cacheDir>/results/<network>-<containerID>-<ifname>` holding `cachedInfo`.

use super::base64;
use super::error::LibcniError;
use crate::spec::wire::null_default;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub const CACHE_KIND_V1: &str = "cniCacheV1";
pub const DEFAULT_CACHE_DIR: &str = "/var/lib/cni";

/// One cache file, field for field the reference's `cachedInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedInfo {
    pub kind: String,
    #[serde(rename = "containerId", default)]
    pub container_id: String,
    /// The network configuration list's bytes (base64 in the file, as Go writes `[]byte`).
    #[serde(with = "bytes_as_base64", default)]
    pub config: Vec<u8>,
    #[serde(rename = "ifName", default)]
    pub ifname: String,
    #[serde(rename = "networkName", default)]
    pub network_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub netns: String,
    #[serde(
        rename = "cniArgs",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_default"
    )]
    pub cni_args: Vec<(String, String)>,
    #[serde(
        rename = "capabilityArgs",
        default,
        skip_serializing_if = "Map::is_empty",
        deserialize_with = "null_default"
    )]
    pub capability_args: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Map<String, Value>>,
}

mod bytes_as_base64 {
    use super::*;

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(Vec::new()),
            Some(text) => base64::decode(&text).map_err(serde::de::Error::custom),
        }
    }
}

/// What a cache file turned out to hold.
#[derive(Debug, Clone, PartialEq)]
pub enum CacheEntry {
    V1(Box<CachedInfo>),
    /// Before `cniCacheV1` the reference stored the bare result.
    LegacyResult(Map<String, Value>),
}

impl CacheEntry {
    pub fn result(&self) -> Option<&Map<String, Value>> {
        match self {
            CacheEntry::V1(info) => info.result.as_ref(),
            CacheEntry::LegacyResult(r) => Some(r),
        }
    }
}

/// `<cache_dir>/results/<network>-<containerID>-<ifname>`.
pub fn cache_file_path(
    cache_dir: &Path,
    network: &str,
    container_id: &str,
    ifname: &str,
) -> Result<PathBuf, LibcniError> {
    // Every part must be a plain name: they are joined into one file name.
    super::validate::network_name(network)?;
    super::validate::container_id(container_id)?;
    super::validate::interface_name(ifname)?;
    Ok(cache_dir
        .join("results")
        .join(format!("{network}-{container_id}-{ifname}")))
}

/// Writes `info` to `path` atomically (a temporary file in the same
/// directory, then rename): a reader never sees half an entry.
pub fn write(path: &Path, info: &CachedInfo) -> Result<(), LibcniError> {
    let dir = path.parent().ok_or_else(|| LibcniError::Cache {
        path: path.to_path_buf(),
        reason: "has no parent directory".into(),
    })?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| LibcniError::Io {
            path: dir.to_path_buf(),
            action: "creating cache directory",
            source,
        })?;
    let bytes = serde_json::to_vec(info).map_err(|e| LibcniError::Cache {
        path: path.to_path_buf(),
        reason: format!("cannot encode: {e}"),
    })?;

    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{file_name}.tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let io_err = |action: &'static str| {
        move |source| LibcniError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    };
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io_err("creating cache file"))?;
        file.write_all(&bytes)
            .map_err(io_err("writing cache file"))?;
        file.sync_all().map_err(io_err("syncing cache file"))?;
        std::fs::rename(&tmp, path).map_err(io_err("renaming cache file into place"))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Reads a cache file. A missing file is `None`; a file that is not a
/// `cniCacheV1` entry is read as the legacy bare result.
pub fn read(path: &Path) -> Result<Option<CacheEntry>, LibcniError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(LibcniError::Io {
                path: path.to_path_buf(),
                action: "reading cache file",
                source,
            })
        }
    };
    parse(&bytes)
        .map(Some)
        .map_err(|reason| LibcniError::Cache {
            path: path.to_path_buf(),
            reason,
        })
}

/// Parses cache file contents (see [`read`]).
pub fn parse(bytes: &[u8]) -> Result<CacheEntry, String> {
    if let Ok(info) = serde_json::from_slice::<CachedInfo>(bytes) {
        if info.kind == CACHE_KIND_V1 {
            return Ok(CacheEntry::V1(Box::new(info)));
        }
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(result)) => Ok(CacheEntry::LegacyResult(result)),
        Ok(_) => Err("neither a cniCacheV1 entry nor a result object".into()),
        Err(e) => Err(format!("not valid JSON: {e}")),
    }
}

/// Removes a cache file; one that is already gone is fine.
pub fn remove(path: &Path) -> Result<(), LibcniError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(LibcniError::Io {
            path: path.to_path_buf(),
            action: "removing cache file",
            source,
        }),
    }
}

/// Every valid `cniCacheV1` entry under `<cache_dir>/results`, in file-name
/// order; unreadable or foreign files are skipped as the reference does.
pub fn attachments(cache_dir: &Path) -> Result<Vec<CachedInfo>, LibcniError> {
    let dir = cache_dir.join("results");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(LibcniError::Io {
                path: dir,
                action: "reading cache directory",
                source,
            })
        }
    };
    let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    Ok(names
        .iter()
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .filter_map(|p| std::fs::read(p).ok())
        .filter_map(|bytes| match parse(&bytes) {
            Ok(CacheEntry::V1(info))
                if !info.ifname.is_empty() && !info.network_name.is_empty() =>
            {
                Some(*info)
            }
            _ => None,
        })
        .collect())
}
