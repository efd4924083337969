//! The result cache under failures and crashes: every file call of a write
//! failed in turn leaves the old entry or the new one, never half of one and
//! never a temporary file; the directory is synced after the rename; a crashed
//! writer's temporary file goes on the next write; a symlink is never read.

use cni_core::fsio::{FailingFs, TMP_PREFIX};
use cni_core::libcni::cache::{self, CacheEntry, CachedInfo, CACHE_KIND_V1};
use std::fs::{self, File, FileTimes};
use std::path::Path;
use std::time::{Duration, SystemTime};

fn info(container_id: &str) -> CachedInfo {
    CachedInfo {
        kind: CACHE_KIND_V1.into(),
        container_id: container_id.into(),
        config: br#"{"cniVersion":"1.0.0"}"#.to_vec(),
        ifname: "eth0".into(),
        network_name: "net".into(),
        netns: String::new(),
        cni_args: Vec::new(),
        capability_args: Default::default(),
        result: None,
    }
}

fn cached_id(path: &Path) -> String {
    match cache::read(path).unwrap() {
        Some(CacheEntry::V1(info)) => info.container_id,
        other => panic!("unexpected cache entry {other:?}"),
    }
}

fn tmp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(TMP_PREFIX))
        .collect()
}

#[test]
fn every_failed_call_of_a_write_leaves_a_whole_entry_and_no_temp_file() {
    let mut last_failed = None;
    for n in 1.. {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results").join("net-c1-eth0");
        cache::write(&path, &info("old")).unwrap();
        let fs = FailingFs::failing_call(n);
        let written = cache::write_with(&fs, &path, &info("new"));
        let Some(failed) = fs.failed() else {
            written.unwrap();
            assert_eq!(cached_id(&path), "new");
            break;
        };
        // Orphan clean-up is best effort: failing it does not fail the write.
        if written.is_ok() {
            assert_eq!(cached_id(&path), "new", "call {n} ({failed})");
        }
        let id = cached_id(&path);
        assert!(id == "old" || id == "new", "call {n} ({failed}): {id}");
        assert_eq!(
            tmp_files(path.parent().unwrap()),
            Vec::<String>::new(),
            "call {n} ({failed})"
        );
        last_failed = Some(failed);
        assert!(n < 100, "the sweep does not end");
    }
    let last = last_failed.expect("no call was ever failed");
    assert!(
        last.starts_with("sync_dir ") && last.ends_with("results"),
        "the last call is {last}, not the directory's fsync"
    );
}

fn backdate(path: &Path, by: Duration) {
    let file = File::options().write(true).open(path).unwrap();
    file.set_times(FileTimes::new().set_modified(SystemTime::now() - by))
        .unwrap();
}

#[test]
fn orphaned_temp_file_of_a_dead_writer_is_removed_on_the_next_write() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    fs::create_dir_all(&results).unwrap();
    // PID 2^31-1 never exists (pid_max is at most 2^22).
    let orphan = results.join(format!("{TMP_PREFIX}2147483647-0-net-c0-eth0"));
    fs::write(&orphan, "{\"half").unwrap();
    backdate(&orphan, Duration::from_secs(3600));
    cache::write(&results.join("net-c1-eth0"), &info("c1")).unwrap();
    assert!(!orphan.exists(), "the orphan stayed");
}

#[test]
fn temp_file_of_a_live_or_recent_writer_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    fs::create_dir_all(&results).unwrap();
    let live = results.join(format!("{TMP_PREFIX}{}-0-net-c0-eth0", std::process::id()));
    fs::write(&live, "{").unwrap();
    backdate(&live, Duration::from_secs(3600));
    // A writer we cannot see (another PID namespace) gets time to finish.
    let recent = results.join(format!("{TMP_PREFIX}2147483647-1-net-c0-eth0"));
    fs::write(&recent, "{").unwrap();
    cache::write(&results.join("net-c1-eth0"), &info("c1")).unwrap();
    assert!(live.exists() && recent.exists());
}

#[test]
fn cache_file_that_is_a_symlink_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    fs::create_dir_all(&results).unwrap();
    let elsewhere = dir.path().join("elsewhere");
    fs::write(&elsewhere, serde_json::to_vec(&info("c1")).unwrap()).unwrap();
    let link = results.join("net-c1-eth0");
    std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
    let err = cache::read(&link).unwrap_err().to_string();
    assert!(
        err.contains("net-c1-eth0") && err.contains("symbolic link"),
        "{err}"
    );
    assert!(cache::attachments(dir.path()).unwrap().is_empty());
    // Writing replaces the link; the file it pointed to is untouched.
    cache::write(&link, &info("c2")).unwrap();
    assert_eq!(cached_id(&link), "c2");
    assert!(fs::read_to_string(&elsewhere).unwrap().contains("c1"));
}
