//! Finding a network by name in a configuration directory, as the reference's
//! `ConfFiles` + `LoadConfList` do: every `.conflist` in file-name order
//! first, then every `.conf`/`.json` (turned into a one-plugin list).
//!
//! As current upstream libcni, a `.conflist` is completed by the plugin
//! configurations in `<its dir>/<network name>/*.conf` (file-name order,
//! after any inline `plugins`) unless it sets `loadOnlyInlinedPlugins`, so
//! an operator can drop one plugin's configuration in without rewriting the
//! list.

use super::error::LibcniError;
use super::raw_conf::{NetworkConfigList, PluginConfig};
use super::single::NetworkConfig;
use super::validate;
use crate::spec::config::object_from_bytes;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The files in `dir` (not subdirectories) whose extension is one of
/// `extensions` (without the dot), sorted by name. A missing directory has none.
pub fn conf_files(dir: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>, LibcniError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(LibcniError::Io {
                path: dir.to_path_buf(),
                action: "reading configuration directory",
                source,
            })
        }
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| LibcniError::Io {
            path: dir.to_path_buf(),
            action: "reading configuration directory",
            source,
        })?;
        let path = entry.path();
        // Follows symlinks, as the reference's os.ReadDir + IsDir does not: a
        // symlinked directory is still not a configuration.
        if path.is_dir() {
            continue;
        }
        let matches = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|ext| extensions.contains(&ext));
        if matches {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads and parses one `.conflist` file, with the plugin files beside it
/// (see the module docs). A list that ends up with no plugin is an error.
pub fn conf_list_from_file(path: &Path) -> Result<NetworkConfigList, LibcniError> {
    let bytes = read(path)?;
    let origin = path.display().to_string();
    let mut list = NetworkConfigList::from_bytes_without_plugin_files(&bytes, &origin)?;
    if !list.load_only_inlined_plugins {
        let dir = path.parent().unwrap_or(Path::new("."));
        list.plugins.extend(plugin_conf_files(dir, &list.name)?);
    }
    if list.plugins.is_empty() {
        let name = &list.name;
        return Err(LibcniError::config(
            &origin,
            "plugins",
            format!("missing, and no plugin configurations in {name}/*.conf beside the list"),
        ));
    }
    Ok(list)
}

/// The plugin configurations in `<dir>/<network>/*.conf`, in file-name
/// order; none when that directory does not exist.
pub fn plugin_conf_files(dir: &Path, network: &str) -> Result<Vec<PluginConfig>, LibcniError> {
    // The name becomes a path component: no separators, no `..`.
    validate::network_name(network)?;
    conf_files(&dir.join(network), &["conf"])?
        .iter()
        .map(|file| {
            let origin = file.display().to_string();
            let bytes = read(file)?;
            let conf = object_from_bytes(&bytes)
                .map_err(|e| LibcniError::config(&origin, "(document)", e.reason()))?;
            PluginConfig::from_value(Value::Object(conf), &origin, "")
        })
        .collect()
}

/// Reads one single-plugin `.conf`/`.json` file as a one-plugin list.
pub fn conf_from_file(path: &Path) -> Result<NetworkConfigList, LibcniError> {
    let bytes = read(path)?;
    NetworkConfigList::from_single_conf_bytes(&bytes, &path.display().to_string())
}

/// Reads one single-plugin `.conf`/`.json` file as it is (libcni's
/// single-plugin APIs).
pub(super) fn single_conf_from_file(path: &Path) -> Result<NetworkConfig, LibcniError> {
    let bytes = read(path)?;
    NetworkConfig::from_bytes(&bytes, &path.display().to_string())
}

/// The network called `name` in `dir`. As in the reference, an invalid file
/// met before the match is an error (naming that file), not skipped.
pub fn load_conf_list(dir: &Path, name: &str) -> Result<NetworkConfigList, LibcniError> {
    let lists = conf_files(dir, &["conflist"])?;
    for file in &lists {
        let list = conf_list_from_file(file)?;
        if list.name == name {
            return Ok(list);
        }
    }
    let singles = conf_files(dir, &["conf", "json"])?;
    if singles.is_empty() {
        return Err(if lists.is_empty() {
            LibcniError::NoConfigsFound {
                dir: dir.to_path_buf(),
            }
        } else {
            LibcniError::NetworkNotFound {
                dir: dir.to_path_buf(),
                name: name.to_string(),
            }
        });
    }
    for file in &singles {
        let list = conf_from_file(file)?;
        if list.name == name {
            return Ok(list);
        }
    }
    Err(LibcniError::NetworkNotFound {
        dir: dir.to_path_buf(),
        name: name.to_string(),
    })
}

/// Every network in `dir`, each name once (the one `load_conf_list` would
/// find: `.conflist` files first, then `.conf`/`.json`, in file-name order),
/// and the errors of the files that did not load, so one bad file does not
/// hide the other networks from a node-wide operation.
pub fn load_networks(
    dir: &Path,
) -> Result<(Vec<NetworkConfigList>, Vec<LibcniError>), LibcniError> {
    let mut lists: Vec<NetworkConfigList> = Vec::new();
    let mut errors = Vec::new();
    let loaded = conf_files(dir, &["conflist"])?
        .into_iter()
        .map(|f| conf_list_from_file(&f))
        .chain(
            conf_files(dir, &["conf", "json"])?
                .into_iter()
                .map(|f| conf_from_file(&f)),
        );
    for list in loaded {
        match list {
            Ok(list) if lists.iter().any(|l| l.name == list.name) => {}
            Ok(list) => lists.push(list),
            Err(e) => errors.push(e),
        }
    }
    Ok((lists, errors))
}

fn read(path: &Path) -> Result<Vec<u8>, LibcniError> {
    std::fs::read(path).map_err(|source| LibcniError::Io {
        path: path.to_path_buf(),
        action: "reading network configuration",
        source,
    })
}
