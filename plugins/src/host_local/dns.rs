//! DNS settings from a resolv.conf-format file, read as the reference reads it.

use cni_core::spec::Dns;
use cni_core::CniError;
use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Far above any real resolv.conf (glibc reads at most a few kilobytes of
/// it); bounds what a configured path such as `/dev/zero` can cost.
pub const MAX_RESOLV_CONF_BYTES: u64 = 1024 * 1024;

pub fn parse_resolv_conf(text: &str) -> Dns {
    let mut dns = Dns::default();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 2 {
            continue;
        }
        let rest = fields[1..].iter().map(|s| s.to_string());
        match fields[0] {
            "nameserver" => dns.nameservers.push(fields[1].to_string()),
            "domain" => dns.domain = fields[1].to_string(),
            "search" => dns.search.extend(rest),
            "options" => dns.options.extend(rest),
            _ => {}
        }
    }
    dns
}

/// Parses resolv.conf bytes; bytes that are not UTF-8 are replaced, as Go's
/// scanner passes them through, so they never fail an ADD.
pub fn parse_resolv_conf_bytes(bytes: &[u8]) -> Dns {
    parse_resolv_conf(&String::from_utf8_lossy(bytes))
}

/// Reads `path`, which must be a regular file (a symlink to one is fine:
/// `/etc/resolv.conf` often is one) of at most [`MAX_RESOLV_CONF_BYTES`].
pub fn read_resolv_conf(path: &Path) -> Result<Dns, CniError> {
    let shown = path.display();
    let io_error =
        |e: std::io::Error| CniError::io(format!("ipam.resolvConf: reading {shown}: {e}"));
    // O_NONBLOCK: opening a FIFO must not hang before we can refuse it.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(io_error)?;
    if !file.metadata().map_err(io_error)?.is_file() {
        return Err(CniError::invalid_config(format!(
            "ipam.resolvConf: {shown} is not a regular file"
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_RESOLV_CONF_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > MAX_RESOLV_CONF_BYTES {
        return Err(CniError::invalid_config(format!(
            "ipam.resolvConf: {shown} is larger than {MAX_RESOLV_CONF_BYTES} bytes"
        )));
    }
    Ok(parse_resolv_conf_bytes(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_directive_and_skips_comments() {
        let d = parse_resolv_conf(
            "# c\n; c\nnameserver 10.0.0.1\nnameserver fd00::1\ndomain example.com\nsearch a.com b.com\noptions ndots:2 edns0\nbogus\n",
        );
        assert_eq!(d.nameservers, ["10.0.0.1", "fd00::1"]);
        assert_eq!(d.domain, "example.com");
        assert_eq!(d.search, ["a.com", "b.com"]);
        assert_eq!(d.options, ["ndots:2", "edns0"]);
    }
}
