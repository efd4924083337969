//! Replays the `netlink_frames` fuzz corpus (real kernel replies, and a few
//! cut or padded wrong) through what the fuzz target calls, so stable CI
//! runs it.

use cni_backend_linux::transport::inspect::inspect_datagram;
use std::path::Path;

#[test]
fn every_corpus_datagram_inspects_without_panic_and_framing_agrees() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/netlink_frames");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let inspection = inspect_datagram(&bytes);
        assert!(
            inspection.framing_agrees(),
            "{}: {inspection:?}",
            path.display()
        );
        replayed += 1;
    }
    assert!(
        replayed >= 10,
        "corpus at {} has {replayed} files",
        dir.display()
    );
}

#[test]
fn corpus_reads_the_kernel_s_extended_ack_text() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/netlink_frames");
    let bytes = std::fs::read(dir.join("route-newroute-invalid-prefix-0")).unwrap();
    let frames = inspect_datagram(&bytes).frames.unwrap();
    let status = frames[0].status.clone().unwrap();
    assert_eq!(status.errno, 22);
    assert_eq!(
        status.extack.as_deref(),
        Some("Invalid prefix for given prefix length")
    );
}

#[test]
fn corpus_cut_and_padded_datagrams_are_framing_errors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/netlink_frames");
    for name in [
        "route-getlink-dump-0-truncated",
        "route-getlink-dump-1-trailing-fragment",
    ] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let inspection = inspect_datagram(&bytes);
        assert!(inspection.frames.is_err(), "{name}: {inspection:?}");
        assert!(inspection.route_dump.is_err(), "{name}: {inspection:?}");
    }
}
