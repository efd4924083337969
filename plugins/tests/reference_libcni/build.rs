// Builds the reference libcni driver (main.go beside this file) for the
// tests that compare with it; shared with `#[path]` so there is one recipe.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const REFERENCE_SRC: &str = "/usr/share/gocode/src/github.com/containernetworking/cni/libcni";

/// The driver built into `dir`, or None after a loud skip when `go` or the
/// reference source is missing (a failure with CNI_TEST_REQUIRE_REFERENCE_LIBCNI=1).
pub fn build(test: &str, dir: &Path) -> Option<PathBuf> {
    let have_go = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_go || !Path::new(REFERENCE_SRC).exists() {
        if std::env::var("CNI_TEST_REQUIRE_REFERENCE_LIBCNI").as_deref() == Ok("1") {
            panic!("{test}: needs `go` and {REFERENCE_SRC} (apt-get install golang-go golang-github-appc-cni-dev)");
        }
        eprintln!("SKIPPED (needs go and golang-github-appc-cni-dev): {test}");
        return None;
    }
    let reference = dir.join("reference_libcni");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference_libcni/main.go");
    let out = Command::new("go")
        .args(["build", "-o"])
        .arg(&reference)
        .arg(&src)
        .env("GO111MODULE", "off")
        .env("GOPATH", "/usr/share/gocode")
        .env("GOCACHE", dir.join("gocache"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "go build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(reference)
}
