//! Which sysctls a config may set: only the container namespace's own
//! (`net.*`, cleaned as the reference cleans the path), and, when the node has an
//! allowlist (`/etc/cni/tuning/allowlist.conf`, one Go regular expression a
//! line), only keys one of its lines matches.
//!
//! The expressions are compiled without Unicode, on bytes: that is Go's own
//! meaning of `\d`, `\w`, `\s` and `\b` (ASCII), the same matches on the
//! ASCII keys sysctls have, and no Unicode tables in the binary (~850 KiB of
//! text, most of the tuning plugin's resident memory). A `\p{..}` class, which
//! Go would take, is refused naming its line.

use cni_core::spec::config::ConfigError;
use regex::bytes::{Regex, RegexBuilder};
use std::io::ErrorKind;
use std::path::Path;

/// Where the reference looks for the allowlist.
pub const DEFAULT_ALLOWLIST: &str = "/etc/cni/tuning/allowlist.conf";

/// An allowlist larger than this is refused rather than read.
const ALLOWLIST_CAP: u64 = 1 << 20;

/// The sysctl file (as a path under /proc/sys) a key names for `ifname`:
/// dots become slashes, then the first `IFNAME` becomes the interface name
/// (after the dots, so an interface such as `eth0.100` stays one component),
/// then the path is cleaned as the reference's `filepath.Join` cleans it
/// (empty and `.` components dropped, `..` taking the one before it away)
/// and must name a setting under `net/`, the container namespace's own.
pub fn sysctl_path(key: &str, ifname: &str) -> Result<String, ConfigError> {
    let path = key.replace('.', "/").replacen("IFNAME", ifname, 1);
    let refuse = |why: &str| {
        ConfigError::invalid("sysctl", format!("invalid net sysctl key {key:?}: {why}"))
    };
    if path.contains('\0') {
        return Err(refuse("it holds a NUL byte"));
    }
    let mut clean: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                clean.pop();
            }
            name => clean.push(name),
        }
    }
    if clean.first() != Some(&"net") || clean.len() < 2 {
        return Err(refuse(
            "only keys under net. (the container's network namespace) may be set",
        ));
    }
    Ok(clean.join("/"))
}

/// The allowlist's expressions; `None` when the file is absent (then
/// every `net.*` key is allowed).
pub fn read_allowlist(path: &Path) -> Result<Option<Vec<Regex>>, ConfigError> {
    let bytes = match std::fs::File::open(path) {
        Ok(file) => {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::Read::take(file, ALLOWLIST_CAP), &mut bytes)
                .map_err(|e| allowlist_error(path, &e.to_string()))?;
            bytes
        }
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(allowlist_error(path, &e.to_string())),
    };
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            RegexBuilder::new(line)
                .unicode(false)
                .build()
                .map_err(|e| allowlist_error(path, &format!("line {line:?}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn allowlist_error(path: &Path, why: &str) -> ConfigError {
    ConfigError::invalid(
        "sysctl",
        format!("reading the sysctl allowlist {}: {why}", path.display()),
    )
}

/// Every key (as written in the config) must match some line, anywhere in
/// the key, as Go's `regexp.MatchString` matches.
pub fn check_allowed<'k>(
    keys: impl IntoIterator<Item = &'k str>,
    allowlist: &[Regex],
) -> Result<(), ConfigError> {
    for key in keys {
        if !allowlist.iter().any(|re| re.is_match(key.as_bytes())) {
            let allowed: Vec<&str> = allowlist.iter().map(Regex::as_str).collect();
            return Err(ConfigError::invalid(
                "sysctl",
                format!("sysctl {key} is not allowed; only those matching {allowed:?} are"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_proc_sys_paths_with_the_interface_substituted() {
        assert_eq!(
            sysctl_path("net.core.somaxconn", "eth0").unwrap(),
            "net/core/somaxconn"
        );
        assert_eq!(
            sysctl_path("net.ipv4.conf.IFNAME.proxy_arp", "eth0.100").unwrap(),
            "net/ipv4/conf/eth0.100/proxy_arp"
        );
        assert_eq!(
            sysctl_path("net/ipv6/conf/IFNAME/accept_ra", "net1").unwrap(),
            "net/ipv6/conf/net1/accept_ra"
        );
    }

    #[test]
    fn keys_are_cleaned_as_the_reference_cleans_them() {
        for (key, path) in [
            ("net..x", "net/x"),
            ("/net/ipv4/ip_forward", "net/ipv4/ip_forward"),
            (
                "net.ipv4.conf.eth0..proxy_arp",
                "net/ipv4/conf/eth0/proxy_arp",
            ),
            // Dots are slashes first, so `..` never climbs (as there).
            ("net/ipv4/../core/./somaxconn", "net/ipv4/core/somaxconn"),
            ("net/../kernel/panic", "net/kernel/panic"),
        ] {
            assert_eq!(sysctl_path(key, "eth0").unwrap(), path, "{key}");
        }
    }

    #[test]
    fn keys_outside_net_are_refused_naming_the_key() {
        for bad in [
            "kernel.panic",
            "net",
            "netfoo.x",
            "net/",
            ".net",
            "../../proc/sys/net/ipv4/ip_forward",
            "",
        ] {
            let e = sysctl_path(bad, "eth0").unwrap_err();
            assert_eq!(e.field(), "sysctl", "{bad}");
            assert!(e.reason().contains(&format!("{bad:?}")), "{bad}: {e}");
        }
    }

    #[test]
    fn allowlist_is_absent_or_a_list_of_unanchored_expressions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("allowlist.conf");
        assert!(read_allowlist(&path).unwrap().is_none());
        std::fs::write(
            &path,
            "^net\\.ipv4\\.conf\\.IFNAME\\.[a-z_]*$\n\n  net.core.somaxconn  \n",
        )
        .unwrap();
        let list = read_allowlist(&path).unwrap().unwrap();
        assert_eq!(list.len(), 2);
        check_allowed(
            ["net.ipv4.conf.IFNAME.proxy_arp", "net.core.somaxconn"],
            &list,
        )
        .unwrap();
        let e = check_allowed(["net.ipv4.ip_forward"], &list).unwrap_err();
        assert!(
            e.reason().contains("net.ipv4.ip_forward is not allowed"),
            "{e}"
        );
        // Go's classes: \w and \d are ASCII, (?i) folds case.
        std::fs::write(
            &path,
            "^net\\.\\w+\\.(?i)SOMAXCONN$\n^net\\.unix\\.max_dgram_qlen\\d$\n",
        )
        .unwrap();
        let list = read_allowlist(&path).unwrap().unwrap();
        check_allowed(["net.core.somaxconn", "net.unix.max_dgram_qlen7"], &list).unwrap();
        check_allowed(["net.cöre.somaxconn"], &list).unwrap_err();
        check_allowed(["net.unix.max_dgram_qlen٣"], &list).unwrap_err();
        std::fs::write(&path, "net.(\n").unwrap();
        assert!(read_allowlist(&path)
            .unwrap_err()
            .reason()
            .contains("net.("));
    }
}
