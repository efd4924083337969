//! What the fuzz targets in `fuzz/` check, shared with the tests that replay
//! their committed corpora on stable (`tests/fuzz_corpus.rs` of each crate).
//! Each oracle takes any bytes, panics when a property fails, and returns
//! whether the parser accepted the input, so a replay can insist that its
//! corpus reaches both the accepting and the refusing paths.

mod config;
#[cfg(feature = "dhcp")]
mod dhcp;
mod invoke;
mod libcni;

pub use config::valid_attachments;
#[cfg(feature = "dhcp")]
pub use dhcp::{dhcp_v4_reply, dhcp_v6_reply};
pub use invoke::{delegate_output, version_info};
pub use libcni::{base64_text, conf_files, config_inject, result_cache};
use std::path::{Path, PathBuf};

/// One fuzz target's oracle: panics on a broken property, else says whether
/// the input was accepted.
pub type Oracle = fn(&[u8]) -> bool;

/// The targets whose oracles live in this crate, by corpus directory name.
pub const TARGETS: &[(&str, Oracle)] = &[
    ("delegate_output", invoke::delegate_output),
    ("version_info", invoke::version_info),
    ("libcni_conf", libcni::conf_files),
    ("result_cache", libcni::result_cache),
    ("base64", libcni::base64_text),
    ("config_inject", libcni::config_inject),
    ("valid_attachments", config::valid_attachments),
];

/// The targets of the `dhcp` feature's client machines.
#[cfg(feature = "dhcp")]
pub const DHCP_TARGETS: &[(&str, Oracle)] = &[
    ("dhcp_v4_reply", dhcp::dhcp_v4_reply),
    ("dhcp_v6_reply", dhcp::dhcp_v6_reply),
];

/// An input of two parts: the bytes before the first NUL and those after it
/// (all of it is the second part when there is no NUL).
pub fn split_at_nul(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&[], data),
    }
}

/// `fuzz/corpus/<target>` seen from a crate's manifest directory.
pub fn corpus_dir(manifest_dir: &str, target: &str) -> PathBuf {
    Path::new(manifest_dir).join("../fuzz/corpus").join(target)
}

/// Runs every file of `target`'s corpus through `oracle`; panics naming the
/// file whose property fails, and when the corpus misses the accepting or
/// the refusing path.
pub fn replay_corpus(manifest_dir: &str, target: &str, oracle: Oracle) {
    let dir = corpus_dir(manifest_dir, target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .collect();
    files.sort();
    let (mut accepted, mut refused) = (0, 0);
    for file in &files {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        match std::panic::catch_unwind(|| oracle(&data)) {
            Ok(true) => accepted += 1,
            Ok(false) => refused += 1,
            Err(_) => panic!("{target}: {} breaks a property", file.display()),
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "{target}: corpus {} has {accepted} accepted and {refused} refused inputs",
        dir.display()
    );
}
