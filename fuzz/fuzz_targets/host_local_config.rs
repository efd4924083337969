#![no_main]
//! host-local's configuration parser: any bytes, any CNI_ARGS, never a panic;
//! an accepted configuration only requests addresses inside its ranges.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (args, conf) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&[][..], data),
    };
    let args = String::from_utf8_lossy(args);
    if let Ok(c) = cni_plugins::host_local::config::parse(conf, &args) {
        assert!(!c.ranges.is_empty());
        for ip in &c.requested {
            assert!(c.ranges.iter().any(|s| s.contains(*ip)));
        }
    }
});
