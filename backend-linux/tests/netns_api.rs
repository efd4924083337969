//! The namespace API against the real kernel.

mod common;

use cni_backend_linux::netns::{self, current_thread_ns_id, run_in, InNetns, NetnsFile};
use cni_core::net::NetErrorKind;
use common::{privileged, unique_prefix, TestNs};

#[test]
fn persistent_namespace_survives_its_creating_thread() {
    if !privileged("persistent_namespace_survives_its_creating_thread") {
        return;
    }
    let name = format!("{}-persist", unique_prefix());
    let guard_name = name.clone();
    std::thread::spawn(move || netns::create_named(&guard_name).map(drop))
        .join()
        .unwrap()
        .unwrap();
    let guard = TestNs {
        path: netns::named_path(&name).unwrap(),
        name,
    };
    let ns = NetnsFile::open(&guard.path).unwrap();
    assert_ne!(ns.id().unwrap(), current_thread_ns_id().unwrap());
    // The kernel agrees it is a live network namespace with its own loopback.
    assert!(guard.ip(&["link", "show", "lo"]).contains("lo:"));
}

#[test]
fn closure_runs_inside_the_target_namespace() {
    if !privileged("closure_runs_inside_the_target_namespace") {
        return;
    }
    let t = TestNs::new("target");
    let ns = NetnsFile::open(&t.path).unwrap();
    let before = current_thread_ns_id().unwrap();
    let inside = run_in(&ns, || {
        let st = nix::sys::stat::stat("/proc/thread-self/ns/net").unwrap();
        (st.st_dev, st.st_ino)
    })
    .unwrap();
    assert_eq!(inside, ns.id().unwrap());
    assert_ne!(inside, before);
    assert_eq!(current_thread_ns_id().unwrap(), before);
}

#[test]
fn caller_namespace_is_unchanged_when_the_closure_fails_or_panics() {
    if !privileged("caller_namespace_is_unchanged_when_the_closure_fails_or_panics") {
        return;
    }
    let t = TestNs::new("fail");
    let ns = NetnsFile::open(&t.path).unwrap();
    let before = current_thread_ns_id().unwrap();
    let failed: Result<(), String> = run_in(&ns, || Err("closure failed".to_string())).unwrap();
    assert_eq!(failed, Err("closure failed".to_string()));
    assert_eq!(current_thread_ns_id().unwrap(), before);
    let panicked = run_in(&ns, || -> u32 { panic!("boom in netns") }).unwrap_err();
    assert!(
        panicked.msg.contains("panicked") && panicked.msg.contains("boom in netns"),
        "{}",
        panicked.msg
    );
    assert!(panicked.msg.contains(&t.name), "{}", panicked.msg);
    assert_eq!(current_thread_ns_id().unwrap(), before);
}

#[test]
fn a_regular_file_is_not_a_namespace() {
    if !privileged("a_regular_file_is_not_a_namespace") {
        return;
    }
    let file = tempfile::NamedTempFile::new().unwrap();
    let e = NetnsFile::open(file.path()).unwrap_err();
    assert_eq!(e.kind, NetErrorKind::Invalid);
    assert!(
        e.msg.contains(&file.path().display().to_string()),
        "{}",
        e.msg
    );
    assert!(e.msg.contains("not a network namespace"), "{}", e.msg);
}

#[test]
fn another_kind_of_namespace_is_not_a_network_namespace() {
    if !privileged("another_kind_of_namespace_is_not_a_network_namespace") {
        return;
    }
    let e = NetnsFile::open("/proc/self/ns/uts").unwrap_err();
    assert_eq!(e.kind, NetErrorKind::Invalid);
    assert!(
        e.msg.contains("/proc/self/ns/uts") && e.msg.contains("not a network namespace"),
        "{}",
        e.msg
    );
}

#[test]
fn a_missing_path_is_not_found() {
    if !privileged("a_missing_path_is_not_found") {
        return;
    }
    let path = format!("/var/run/netns/{}-missing", unique_prefix());
    let e = NetnsFile::open(&path).unwrap_err();
    assert_eq!(e.kind, NetErrorKind::NotFound);
    assert!(e.msg.contains(&path), "{}", e.msg);
}

#[test]
fn namespaces_made_by_ip_netns_add_open() {
    if !privileged("namespaces_made_by_ip_netns_add_open") {
        return;
    }
    let t = TestNs::with_iproute("ipr");
    let ns = NetnsFile::open(&t.path).unwrap();
    assert_ne!(ns.id().unwrap(), current_thread_ns_id().unwrap());
    let proc_path = format!("/proc/{}/ns/net", std::process::id());
    assert_eq!(
        NetnsFile::open(&proc_path).unwrap().id().unwrap(),
        NetnsFile::process().unwrap().id().unwrap()
    );
}

#[test]
fn deleting_a_namespace_removes_its_name() {
    if !privileged("deleting_a_namespace_removes_its_name") {
        return;
    }
    let t = TestNs::new("del");
    netns::delete_named(&t.name).unwrap();
    assert!(!t.path.exists());
    assert_eq!(
        NetnsFile::open(&t.path).unwrap_err().kind,
        NetErrorKind::NotFound
    );
    assert_eq!(
        netns::delete_named(&t.name).unwrap_err().kind,
        NetErrorKind::NotFound
    );
    // Creating the same name twice is refused.
    let again = TestNs::new("dup");
    assert_eq!(
        netns::create_named(&again.name).unwrap_err().kind,
        NetErrorKind::Exists
    );
}

#[test]
fn bad_names_are_refused_before_touching_anything() {
    for bad in ["", "a/b", "..", "."] {
        assert_eq!(
            netns::create_named(bad).unwrap_err().kind,
            NetErrorKind::Invalid,
            "{bad:?}"
        );
    }
}

#[test]
fn a_handle_runs_every_job_on_one_thread_inside_its_namespace() {
    if !privileged("a_handle_runs_every_job_on_one_thread_inside_its_namespace") {
        return;
    }
    let ns = TestNs::new("inside");
    let file = NetnsFile::open(&ns.path).unwrap();
    let want = file.id().unwrap();
    let own = current_thread_ns_id().unwrap();
    let inside = InNetns::new(file);
    let job = || (current_thread_ns_id().unwrap(), std::thread::current().id());
    let (first_ns, first_thread) = inside.run(job).unwrap();
    let (second_ns, second_thread) = inside.run(job).unwrap();
    assert_eq!((first_ns, second_ns), (want, want));
    assert_eq!(first_thread, second_thread, "one thread for both jobs");
    assert_ne!(first_thread, std::thread::current().id());
    assert_eq!(
        current_thread_ns_id().unwrap(),
        own,
        "the caller never moved"
    );

    let e = inside.run(|| panic!("job failed")).unwrap_err();
    assert!(e.msg.contains("job failed"), "{}", e.msg);
    assert_eq!(
        inside.run(job).unwrap().0,
        want,
        "still serving after a panic"
    );

    // In its own namespace a handle runs the job right here.
    let here = InNetns::new(NetnsFile::calling_thread().unwrap());
    assert_eq!(here.run(job).unwrap().1, std::thread::current().id());
}
