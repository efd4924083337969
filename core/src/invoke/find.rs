//! Looking a plugin up by its `type` in the `CNI_PATH` directories.

use crate::error::{code, CniError};
use std::path::{Path, PathBuf};

/// A type is a file name: empty, or containing `/` or `..`, it could name a
/// file outside the plugin directories, so it is refused.
pub fn validate_plugin_type(plugin_type: &str) -> Result<(), CniError> {
    if plugin_type.is_empty() {
        return Err(CniError::invalid_config("no plugin type provided"));
    }
    if plugin_type.contains('/') || plugin_type.contains("..") || plugin_type.contains('\0') {
        return Err(CniError::invalid_config(format!(
            "invalid plugin type {plugin_type:?}: a type is a file name and must not contain '/' or '..'"
        )));
    }
    Ok(())
}

fn not_found(plugin_type: &str, paths: &[PathBuf]) -> CniError {
    let dirs: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    CniError::new(
        code::IO_FAILURE,
        format!(
            "failed to find plugin {plugin_type:?} in path [{}]",
            dirs.join(" ")
        ),
    )
}

/// The first executable regular file named `plugin_type` in `paths`. Unlike
/// the reference, a non-executable file does not shadow a plugin in a later
/// directory (exec would fail on it anyway).
pub fn find_in_path(plugin_type: &str, paths: &[PathBuf]) -> Result<PathBuf, CniError> {
    find_with(plugin_type, paths, is_executable_file)
}

fn is_executable_file(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// For in-memory lookups: the same refusal and message, with `exists` deciding.
pub(crate) fn find_with(
    plugin_type: &str,
    paths: &[PathBuf],
    exists: impl Fn(&Path) -> bool,
) -> Result<PathBuf, CniError> {
    validate_plugin_type(plugin_type)?;
    paths
        .iter()
        .map(|dir| dir.join(plugin_type))
        .find(|p| exists(p))
        .ok_or_else(|| not_found(plugin_type, paths))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_path_like_types() {
        for bad in ["", "../bridge", "a/b", "/usr/bin/true", "..", "x..y"] {
            let e = find_in_path(bad, &[PathBuf::from("/usr/bin")]).unwrap_err();
            assert_eq!(e.code, 7, "{bad}");
            if !bad.is_empty() {
                assert!(e.msg.contains(&format!("{bad:?}")), "{}", e.msg);
            }
        }
    }

    #[test]
    fn first_directory_wins_and_not_found_names_every_directory() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let executable = |p: std::path::PathBuf| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::write(&p, "").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        executable(b.path().join("p"));
        executable(a.path().join("p2"));
        executable(b.path().join("p2"));
        std::fs::write(a.path().join("p3"), "").unwrap(); // not executable: skipped
        executable(b.path().join("p3"));
        std::fs::create_dir(a.path().join("p")).unwrap(); // a directory is not a plugin
        let dirs = vec![a.path().to_path_buf(), b.path().to_path_buf()];
        assert_eq!(find_in_path("p", &dirs).unwrap(), b.path().join("p"));
        assert_eq!(find_in_path("p2", &dirs).unwrap(), a.path().join("p2"));
        assert_eq!(find_in_path("p3", &dirs).unwrap(), b.path().join("p3"));
        let e = find_in_path("nope", &dirs).unwrap_err();
        assert!(e.msg.contains("\"nope\""), "{}", e.msg);
        for d in &dirs {
            assert!(e.msg.contains(&d.display().to_string()), "{}", e.msg);
        }
    }
}
