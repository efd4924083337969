//! GC: the saved host state of attachments of this network that are not in
//! `cni.dev/valid-attachments` goes, as do temporary files of writers that
//! died. Their devices are not touched: a runtime's GC names attachments it
//! no longer knows, and the device of one is wherever its namespace's end
//! left it (a physical device back in the host, a virtual one gone).

use super::config::HostDeviceConf;
use super::saved;
use crate::common::attachment::FirstError;
use crate::common::state_file;
use cni_core::fsio::{process_alive, remove_orphaned_tmp, tmp_writer_pid, FileOps, TMP_PREFIX};
use cni_core::CniError;
use std::collections::HashSet;
use std::io::ErrorKind;

pub fn remove_stale_states(fs: &dyn FileOps, conf: &HostDeviceConf) -> Result<(), CniError> {
    let Some(valid) = conf.common.valid_attachments()? else {
        return Ok(());
    };
    let keep: HashSet<String> = valid
        .iter()
        .map(|a| state_file::file_name(&a.container_id, &a.ifname))
        .collect();
    let data_dir = &conf.data_dir;
    let names = match fs.read_dir(data_dir) {
        Ok(names) => names,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(CniError::io(format!("listing {}: {e}", data_dir.display()))),
    };
    let mut outcome = FirstError::default();
    for name in names.iter().filter_map(|n| n.to_str()) {
        if !name.ends_with(".json") || name.starts_with(TMP_PREFIX) || keep.contains(name) {
            continue;
        }
        let file = data_dir.join(name);
        // Only this network's: another network may share the directory.
        let ours = matches!(saved::read(fs, &file), Ok(Some(s)) if s.network == conf.common.name);
        if ours {
            outcome.note(state_file::remove(fs, data_dir, &file));
        }
    }
    remove_orphaned_tmp(fs, data_dir, |n| {
        tmp_writer_pid(n).is_none_or(|pid| !process_alive(pid))
    });
    outcome.into_result()
}
