//! Taps, on both backends: made persistent in the handle's namespace with
//! the flags, owner and group asked for; no carrier (nobody holds them
//! open); a taken name is `Exists` (never attached to); the MTU range of a
//! tap; an SELinux context refused on a kernel without SELinux; a MAC
//! refused after the tap was made leaves nothing.

use super::{expect_kind, link, open, SuiteEnv};
use cni_core::net::{LinkKind, NetErrorKind, TapInfo, TapSpec};

fn tap(name: &str) -> TapSpec {
    TapSpec {
        name: name.into(),
        ..TapSpec::default()
    }
}

pub fn tap_is_persistent_with_its_flags_owner_and_group(env: &mut dyn SuiteEnv) {
    let ns = env.new_netns();
    let n = open(env, &ns);
    let spec = TapSpec {
        multi_queue: true,
        no_pi: true,
        vnet_hdr: true,
        owner: Some(4242),
        group: Some(4243),
        mtu: Some(1400),
        mac: Some("02:00:00:00:7a:01".parse().unwrap()),
        txqueuelen: Some(1000),
        ..tap("tap0")
    };
    let made = n.create_tap(&spec).unwrap();
    let seen = link(&*n, "tap0");
    assert_eq!(seen, made);
    assert_eq!(seen.kind, LinkKind::Tap);
    assert_eq!(
        seen.tap,
        Some(TapInfo {
            multi_queue: true,
            pi: false,
            vnet_hdr: true,
            persist: true,
            owner: Some(4242),
            group: Some(4243),
        })
    );
    assert_eq!((seen.mtu, seen.txqueuelen), (1400, 1000));
    assert_eq!(seen.mac.to_string(), "02:00:00:00:7a:01");
    n.set_up(seen.index, true).unwrap();
    let up = link(&*n, "tap0");
    assert!(up.up && !up.oper_up, "up without carrier: {up:?}");

    let plain = n.create_tap(&tap("tap1")).unwrap();
    let t = plain.tap.expect("a tap");
    assert!(t.pi && !t.multi_queue && !t.vnet_hdr && t.persist);
    assert_eq!((t.owner, t.group), (None, None));
    assert_eq!((plain.mtu, plain.txqueuelen), (1500, 1000));

    n.delete_link(seen.index).unwrap();
    assert!(n.link_by_name("tap0").unwrap_err().is_not_found());
}

pub fn tap_name_taken_is_exists_and_bad_specs_leave_nothing(env: &mut dyn SuiteEnv) {
    let ns = env.new_netns();
    let n = open(env, &ns);
    n.create_tap(&tap("tap0")).unwrap();
    expect_kind(
        n.create_tap(&tap("tap0")),
        NetErrorKind::Exists,
        "a tap of that name",
    );
    expect_kind(n.create_tap(&tap("lo")), NetErrorKind::Exists, "lo");
    let before = n.links().unwrap();
    let too_big = TapSpec {
        mtu: Some(65522),
        ..tap("tap1")
    };
    expect_kind(n.create_tap(&too_big), NetErrorKind::Invalid, "mtu 65522");
    let selinux = TapSpec {
        selinux_context: Some("system_u:system_r:container_t:s0".into()),
        ..tap("tap2")
    };
    // Neither the simulator nor this project's test kernels have SELinux.
    expect_kind(
        n.create_tap(&selinux),
        NetErrorKind::Invalid,
        "an SELinux context",
    );
    // Refused after the tap exists (Linux: by netlink, once it is
    // persistent), so the tap must be taken away again.
    let multicast = TapSpec {
        mac: Some("01:00:5e:00:00:01".parse().unwrap()),
        ..tap("tap3")
    };
    assert!(n.create_tap(&multicast).is_err(), "a multicast MAC");
    assert_eq!(n.links().unwrap(), before, "a failed create left a link");
}
