//! Kernel errno values to [`NetError`] kinds, with the operation and object named.

use cni_core::net::{NetError, NetErrorKind};
use nix::errno::Errno;

/// The kind plugin logic branches on for a kernel errno.
pub fn kind_of(errno: Errno) -> NetErrorKind {
    match errno {
        Errno::EEXIST => NetErrorKind::Exists,
        Errno::ENOENT | Errno::ENODEV | Errno::ESRCH | Errno::EADDRNOTAVAIL => {
            NetErrorKind::NotFound
        }
        // IPv6 reports an unusable gateway as EHOSTUNREACH where IPv4 says ENETUNREACH.
        Errno::ENETUNREACH | Errno::EHOSTUNREACH => NetErrorKind::Unreachable,
        Errno::EBUSY => NetErrorKind::Busy,
        Errno::EINVAL | Errno::ERANGE | Errno::ENAMETOOLONG => NetErrorKind::Invalid,
        Errno::EPERM | Errno::EACCES => NetErrorKind::Permission,
        Errno::EOPNOTSUPP => NetErrorKind::Unsupported,
        _ => NetErrorKind::Other,
    }
}

/// `"<what>: <strerror> (<extack>)"`, kind from the errno.
pub fn errno_error(what: impl AsRef<str>, errno: Errno, detail: Option<&str>) -> NetError {
    let what = what.as_ref();
    let msg = match detail {
        Some(d) if !d.is_empty() => format!("{what}: {} ({d})", errno.desc()),
        _ => format!("{what}: {}", errno.desc()),
    };
    NetError::new(kind_of(errno), msg)
}

/// For `std::io::Error`s from files and sockets.
pub fn io_error(what: impl AsRef<str>, err: &std::io::Error) -> NetError {
    match err.raw_os_error() {
        Some(code) => errno_error(what, Errno::from_raw(code), None),
        None => NetError::other(format!("{}: {err}", what.as_ref())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_kinds_follow_the_contract() {
        assert_eq!(kind_of(Errno::EEXIST), NetErrorKind::Exists);
        for e in [
            Errno::ENOENT,
            Errno::ENODEV,
            Errno::ESRCH,
            Errno::EADDRNOTAVAIL,
        ] {
            assert_eq!(kind_of(e), NetErrorKind::NotFound, "{e}");
        }
        assert_eq!(kind_of(Errno::ENETUNREACH), NetErrorKind::Unreachable);
        assert_eq!(kind_of(Errno::EBUSY), NetErrorKind::Busy);
        assert_eq!(kind_of(Errno::EINVAL), NetErrorKind::Invalid);
        assert_eq!(kind_of(Errno::ERANGE), NetErrorKind::Invalid);
        assert_eq!(kind_of(Errno::EPERM), NetErrorKind::Permission);
        assert_eq!(kind_of(Errno::EACCES), NetErrorKind::Permission);
        assert_eq!(kind_of(Errno::EOPNOTSUPP), NetErrorKind::Unsupported);
        assert_eq!(kind_of(Errno::EIO), NetErrorKind::Other);
    }

    #[test]
    fn message_names_operation_and_detail() {
        let e = errno_error(
            "add route 10.0.0.0/8 via 1.2.3.4",
            Errno::ENETUNREACH,
            Some("Nexthop has invalid gateway"),
        );
        assert_eq!(e.kind, NetErrorKind::Unreachable);
        assert!(
            e.msg.starts_with("add route 10.0.0.0/8 via 1.2.3.4: "),
            "{}",
            e.msg
        );
        assert!(
            e.msg.ends_with("(Nexthop has invalid gateway)"),
            "{}",
            e.msg
        );
    }
}
