//! The build stamp every plugin binary carries (see `src/build_stamp.rs`): a
//! SHA-256 over everything that decides what host-local's code does — this
//! crate's and core's sources and manifests, the lock file, the version.
//! Two binaries with the same stamp run the same IPAM code; a stamp that is
//! a content hash stays the same across clean rebuilds of one tree.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let inputs = [
        "src",
        "Cargo.toml",
        "../core/src",
        "../core/Cargo.toml",
        "../Cargo.lock",
    ];
    let mut hasher = Sha256::new();
    hasher.update(std::env::var("CARGO_PKG_VERSION").unwrap_or_default());
    for input in inputs {
        let path = manifest.join(input);
        println!("cargo:rerun-if-changed={}", path.display());
        hash_tree(&mut hasher, &path, Path::new(input));
    }
    let stamp: [u8; 32] = hasher.finalize().into();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let code = format!("const BUILD_STAMP: [u8; 32] = {stamp:?};\n");
    if let Err(e) = std::fs::write(out.join("build_stamp.rs"), code) {
        panic!("writing the build stamp: {e}");
    }
}

/// Files in name order, each as its path, length and bytes, so moving text
/// between files changes the stamp too. A missing input (a packaged crate
/// has no `../core`) adds nothing.
fn hash_tree(hasher: &mut Sha256, path: &Path, name: &Path) {
    if let Ok(entries) = std::fs::read_dir(path) {
        let mut children: Vec<_> = entries.flatten().map(|e| e.file_name()).collect();
        children.sort();
        for child in children {
            hash_tree(hasher, &path.join(&child), &name.join(&child));
        }
    } else if let Ok(bytes) = std::fs::read(path) {
        hasher.update(name.to_string_lossy().as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
}
