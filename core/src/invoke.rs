//! Running plugins: find one by type in `CNI_PATH`, exec it, parse what it says.

use crate::CniError;
use std::path::{Path, PathBuf};

/// Process execution, behind a trait so libcni and delegation can be tested
/// with in-process plugins. Mirrors the reference's `invoke.Exec`.
pub trait Exec {
    /// Runs the plugin with exactly `env` as its environment and `stdin` as its
    /// input. Returns stdout on success; on a non-zero exit, the plugin's error
    /// document (parsed from stdout) unchanged, or an I/O error naming the plugin.
    fn exec_plugin(
        &self,
        plugin: &Path,
        stdin: &[u8],
        env: &[(String, String)],
    ) -> Result<Vec<u8>, CniError>;

    /// Finds an executable named `plugin_type` in `paths`, first match wins.
    /// A type containing `/` or `..` is refused; not found names the type and
    /// every directory searched.
    fn find_in_path(&self, plugin_type: &str, paths: &[PathBuf]) -> Result<PathBuf, CniError>;
}

mod delegate;
mod find;
mod output;
mod raw;
#[cfg(feature = "testing")]
pub mod testing;

pub use delegate::{
    delegate_add, delegate_add_with_env, delegate_check, delegate_check_with_env, delegate_del,
    delegate_del_with_env, delegate_env, delegate_verb_with_env, exec_plugin_with_result,
    exec_plugin_without_result, get_version_info, get_version_info_with_env, process_env,
};
pub use find::{find_in_path, validate_plugin_type};
pub use output::{parse_error_output, parse_result_output};
pub use raw::RawExec;
