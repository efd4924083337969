//! GC: the saved host state of attachments of this network that are not in
//! `cni.dev/valid-attachments` goes, as do temporary files of writers that
//! died. Their devices are not touched: a runtime's GC names attachments it
//! no longer knows, and the device of one is wherever its namespace's end
//! left it (a physical device back in the host, a virtual one gone).

use super::config::HostDeviceConf;
use super::saved;
use crate::common::state_file;
use cni_core::fsio::FileOps;
use cni_core::CniError;

pub fn remove_stale_states(fs: &dyn FileOps, conf: &HostDeviceConf) -> Result<(), CniError> {
    let Some(valid) = conf.common.valid_attachments()? else {
        return Ok(());
    };
    state_file::remove_stale(
        fs,
        &conf.data_dir,
        &valid,
        |file| matches!(saved::read(fs, file), Ok(Some(s)) if s.network == conf.common.name),
    )
}
