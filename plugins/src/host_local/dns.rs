//! DNS settings from a resolv.conf-format file, read as the reference reads it.

use cni_core::spec::Dns;
use cni_core::CniError;
use std::path::Path;

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

pub fn read_resolv_conf(path: &Path) -> Result<Dns, CniError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CniError::io(format!("ipam.resolvConf: reading {}: {e}", path.display())))?;
    Ok(parse_resolv_conf(&text))
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
