//! A plugin's own state for one attachment, kept between ADD and DEL in a
//! small file under its `dataDir` (tuning's previous settings, host-device's
//! host name and addresses): written crash-safely (temporary file, fsync,
//! rename, directory fsync), never through a symlink, read with a size cap.

use super::attachment::FirstError;
use cni_core::fsio::{
    process_alive, read_if_exists, remove_if_exists, remove_orphaned_tmp, replace_file,
    tmp_writer_pid, FileOps, TMP_PREFIX,
};
use cni_core::spec::config::Attachment;
use cni_core::CniError;
use std::collections::HashSet;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// A state file larger than this is not ours.
const STATE_CAP: u64 = 1 << 20;

/// The file of one attachment: `<dataDir>/<containerID>_<ifname>.json`.
pub fn path(data_dir: &Path, container_id: &str, ifname: &str) -> PathBuf {
    data_dir.join(file_name(container_id, ifname))
}

pub fn file_name(container_id: &str, ifname: &str) -> String {
    format!("{container_id}_{ifname}.json")
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> CniError {
    CniError::io(format!("{what} {}: {e}", path.display()))
}

/// Writes `bytes` as the file, `saving` saying what it holds (for errors).
pub fn write(
    fs: &dyn FileOps,
    data_dir: &Path,
    file: &Path,
    bytes: &[u8],
    saving: &str,
) -> Result<(), CniError> {
    fs.create_dir_all(data_dir, 0o700)
        .map_err(|e| io_error("creating", data_dir, e))?;
    replace_file(fs, data_dir, file, bytes, 0o600, true)
        .map_err(|e| io_error(&format!("saving {saving} to"), file, e))?;
    fs.sync_dir(data_dir)
        .map_err(|e| io_error("syncing", data_dir, e))
}

/// The file's bytes: `Ok(None)` when it is absent, `Err` with the reason
/// when it cannot be read.
pub fn read(fs: &dyn FileOps, file: &Path) -> Result<Option<Vec<u8>>, String> {
    read_if_exists(fs, file, STATE_CAP).map_err(|e| e.to_string())
}

/// GC: removes the state files under `data_dir` of attachments not in
/// `valid` that `ours` claims (another network may share the directory), and
/// temporary files whose writer died. A missing directory holds nothing;
/// every file is tried, the first failure is reported.
pub fn remove_stale(
    fs: &dyn FileOps,
    data_dir: &Path,
    valid: &[Attachment],
    ours: impl Fn(&Path) -> bool,
) -> Result<(), CniError> {
    let keep: HashSet<String> = valid
        .iter()
        .map(|a| file_name(&a.container_id, &a.ifname))
        .collect();
    let names = match fs.read_dir(data_dir) {
        Ok(names) => names,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error("listing", data_dir, e)),
    };
    let mut outcome = FirstError::default();
    for name in names.iter().filter_map(|n| n.to_str()) {
        if !name.ends_with(".json") || name.starts_with(TMP_PREFIX) || keep.contains(name) {
            continue;
        }
        let file = data_dir.join(name);
        if ours(&file) {
            outcome.note(remove(fs, data_dir, &file));
        }
    }
    remove_orphaned_tmp(fs, data_dir, |n| {
        tmp_writer_pid(n).is_none_or(|pid| !process_alive(pid))
    });
    outcome.into_result()
}

pub fn remove(fs: &dyn FileOps, data_dir: &Path, file: &Path) -> Result<(), CniError> {
    remove_if_exists(fs, file).map_err(|e| io_error("removing", file, e))?;
    match fs.sync_dir(data_dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error("syncing", data_dir, e)),
        _ => Ok(()),
    }
}
