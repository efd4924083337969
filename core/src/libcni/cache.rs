//! The result cache, in the reference's format and place so that its libcni
//! and ours read each other's entries:
//! `<cacheDir>/results/<network>-<containerID>-<ifname>` holding `cachedInfo`.

use super::base64;
use super::error::LibcniError;
use crate::fsio::{
    process_alive, read_capped, read_if_exists, remove_orphaned_tmp, replace_file, tmp_writer_pid,
    FileOps, RealFs,
};
use crate::spec::wire::null_default;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

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

/// Larger than any result a plugin returns with its configuration; a file
/// beyond it is not ours, and reading it must not cost unbounded memory.
pub const MAX_CACHE_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// A temporary file whose writer is gone and which is at least this old was
/// left by a crash mid-write. The age guards writers in another PID namespace,
/// whose IDs mean nothing here.
pub const ORPHAN_MIN_AGE: Duration = Duration::from_secs(60);

fn io_error<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl FnOnce(std::io::Error) -> LibcniError + 'a {
    move |source| LibcniError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// Writes `info` to `path` atomically (a temporary file in the same
/// directory, fsynced, renamed, the directory fsynced): a reader never sees
/// half an entry, and a written entry survives a power cut.
pub fn write(path: &Path, info: &CachedInfo) -> Result<(), LibcniError> {
    write_with(&RealFs, path, info)
}

/// As [`write`], every file operation going through `fs`. Also removes the
/// temporary files crashed writers left in the directory.
pub fn write_with(fs: &dyn FileOps, path: &Path, info: &CachedInfo) -> Result<(), LibcniError> {
    let dir = path.parent().ok_or_else(|| LibcniError::Cache {
        path: path.to_path_buf(),
        reason: "has no parent directory".into(),
    })?;
    fs.create_dir_all(dir, 0o700)
        .map_err(io_error(dir, "creating cache directory"))?;
    let bytes = serde_json::to_vec(info).map_err(|e| LibcniError::Cache {
        path: path.to_path_buf(),
        reason: format!("cannot encode: {e}"),
    })?;
    remove_orphaned_tmp(fs, dir, |name| is_orphan(fs, &dir.join(name)));
    replace_file(fs, dir, path, &bytes, 0o600, true)
        .map_err(io_error(path, "writing cache file"))?;
    fs.sync_dir(dir)
        .map_err(io_error(dir, "syncing cache directory"))
}

fn is_orphan(fs: &dyn FileOps, tmp: &Path) -> bool {
    let name = tmp.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let writer_alive = tmp_writer_pid(name).is_some_and(process_alive);
    let old = fs
        .modified(tmp)
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age >= ORPHAN_MIN_AGE);
    !writer_alive && old
}

/// Reads a cache file. A missing file is `None`; a file that is not a
/// `cniCacheV1` entry is read as the legacy bare result. A symlink is refused.
pub fn read(path: &Path) -> Result<Option<CacheEntry>, LibcniError> {
    let Some(bytes) = read_if_exists(&RealFs, path, MAX_CACHE_FILE_BYTES)
        .map_err(io_error(path, "reading cache file"))?
    else {
        return Ok(None);
    };
    parse(&bytes)
        .map(Some)
        .map_err(|reason| LibcniError::Cache {
            path: path.to_path_buf(),
            reason,
        })
}

/// Parses cache file contents (see [`read`]). The document is read as a
/// JSON object first, so a key written twice takes its last value, as in
/// Go, rather than turning a `cniCacheV1` entry into a bare result.
pub fn parse(bytes: &[u8]) -> Result<CacheEntry, String> {
    let value = match serde_json::from_slice::<Value>(bytes) {
        Ok(value @ Value::Object(_)) => value,
        Ok(_) => return Err("neither a cniCacheV1 entry nor a result object".into()),
        Err(e) => return Err(format!("not valid JSON: {e}")),
    };
    if let Ok(info) = CachedInfo::deserialize(&value) {
        if info.kind == CACHE_KIND_V1 {
            return Ok(CacheEntry::V1(Box::new(info)));
        }
    }
    match value {
        Value::Object(result) => Ok(CacheEntry::LegacyResult(result)),
        _ => Err("neither a cniCacheV1 entry nor a result object".into()),
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
        .filter_map(|p| read_capped(&RealFs, p, MAX_CACHE_FILE_BYTES).ok())
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
