//! `dhcp daemon`'s command line: the reference's flags as Go's `flag` package
//! reads them (`-name value`, `-name=value`, `--name`, booleans without a
//! value, durations such as `10s` or `1m30s`), plus `-statedir`.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flags {
    pub socket_path: PathBuf,
    pub pidfile: Option<PathBuf>,
    /// Prepended to every namespace path (a daemon in a container sees the
    /// host's `/run/netns` under e.g. `/hostfs`).
    pub host_prefix: String,
    /// Accepted for the reference's command lines; our client always sets
    /// the BROADCAST flag (an interface without its address yet cannot
    /// receive a unicast reply).
    pub broadcast: bool,
    /// How long an ADD waits for a lease.
    pub timeout: Duration,
    /// Cap of the retransmission backoff.
    pub resend_max: Duration,
    /// Where leases are kept across restarts.
    pub state_dir: PathBuf,
}

pub const DEFAULT_STATE_DIR: &str = "/var/lib/cni/dhcp";

impl Default for Flags {
    fn default() -> Self {
        Flags {
            socket_path: PathBuf::from(crate::config::DEFAULT_SOCKET_PATH),
            pidfile: None,
            host_prefix: String::new(),
            broadcast: false,
            timeout: Duration::from_secs(10),
            resend_max: Duration::from_secs(62),
            state_dir: PathBuf::from(DEFAULT_STATE_DIR),
        }
    }
}

pub const USAGE: &str = "usage: dhcp daemon [-socketpath PATH] [-pidfile PATH] [-hostprefix PREFIX] [-broadcast] [-timeout DURATION] [-resendmax DURATION] [-resendtimeout DURATION] [-statedir DIR]";

pub fn parse(args: &[String]) -> Result<Flags, String> {
    let mut flags = Flags::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let Some(stripped) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            return Err(format!("unexpected argument {arg:?}\n{USAGE}"));
        };
        let (name, inline) = match stripped.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (stripped, None),
        };
        if name == "broadcast" {
            flags.broadcast = match inline.as_deref() {
                None | Some("true") | Some("1") => true,
                Some("false") | Some("0") => false,
                Some(other) => return Err(format!("-broadcast: {other:?} is not a boolean")),
            };
            continue;
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| rest.next().cloned())
                .ok_or_else(|| format!("flag needs an argument: -{name}\n{USAGE}"))
        };
        match name {
            "socketpath" => flags.socket_path = PathBuf::from(value()?),
            "pidfile" => flags.pidfile = Some(PathBuf::from(value()?)),
            "hostprefix" => flags.host_prefix = value()?,
            "statedir" => flags.state_dir = PathBuf::from(value()?),
            "timeout" => flags.timeout = duration(name, &value()?)?,
            "resendmax" => flags.resend_max = duration(name, &value()?)?,
            // Accepted for the reference's command lines; our client gives up
            // after `-timeout` on ADD and retries for the life of a lease.
            "resendtimeout" => drop(duration(name, &value()?)?),
            "h" | "help" => return Err(USAGE.to_string()),
            other => return Err(format!("flag provided but not defined: -{other}\n{USAGE}")),
        }
    }
    if flags.socket_path.as_os_str().is_empty() {
        flags.socket_path = PathBuf::from(crate::config::DEFAULT_SOCKET_PATH);
    }
    if let Some(pidfile) = &flags.pidfile {
        if !pidfile.is_absolute() {
            return Err(format!("-pidfile {}: path not absolute", pidfile.display()));
        }
    }
    Ok(flags)
}

/// A Go duration: a sequence of decimal numbers with units (`ns`, `us`,
/// `ms`, `s`, `m`, `h`), such as `1m30s` or `1.5s`.
pub fn duration(flag: &str, text: &str) -> Result<Duration, String> {
    let bad = || format!("-{flag}: invalid duration {text:?} (e.g. 10s, 1m30s)");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number: f64 = rest[..number_len].parse().map_err(|_| bad())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += number * seconds;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_references_flags_in_both_spellings() {
        let f = parse(&args(&[
            "-socketpath",
            "/tmp/d.sock",
            "--pidfile=/tmp/d.pid",
            "-broadcast",
            "-timeout",
            "1m30s",
            "--resendmax=5s",
            "-resendtimeout",
            "200s",
            "-hostprefix",
            "/host",
        ]))
        .unwrap();
        assert_eq!(f.socket_path, PathBuf::from("/tmp/d.sock"));
        assert_eq!(f.pidfile, Some(PathBuf::from("/tmp/d.pid")));
        assert!(f.broadcast);
        assert_eq!(f.timeout, Duration::from_secs(90));
        assert_eq!(f.resend_max, Duration::from_secs(5));
        assert_eq!(f.host_prefix, "/host");
        assert_eq!(parse(&[]).unwrap(), Flags::default());
    }

    #[test]
    fn bad_flags_are_named() {
        assert!(parse(&args(&["-nope"])).unwrap_err().contains("-nope"));
        assert!(parse(&args(&["-timeout"]))
            .unwrap_err()
            .contains("-timeout"));
        assert!(parse(&args(&["-timeout", "10"]))
            .unwrap_err()
            .contains("-timeout"));
        assert!(parse(&args(&["-pidfile", "rel.pid"]))
            .unwrap_err()
            .contains("not absolute"));
        assert!(parse(&args(&["-broadcast=maybe"])).is_err());
    }

    #[test]
    fn go_durations() {
        assert_eq!(duration("t", "1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(duration("t", "2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(duration("t", "250ms").unwrap(), Duration::from_millis(250));
        assert!(duration("t", "").is_err());
        assert!(duration("t", "5x").is_err());
    }
}
