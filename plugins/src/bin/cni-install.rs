//! cni-install: the entrypoint of the node-installer image (packaging/Containerfile).
//!
//! Copies every plugin from the image into a host directory mounted into the
//! container, each one atomically: written under a temporary name in the
//! target directory, fsynced, then renamed over the old one, so a kubelet or
//! a runtime exec'ing a plugin meanwhile never sees half a binary. Optionally
//! writes a network configuration into a mounted config directory the same way.
//!
//! ```text
//! cni-install [--source DIR] [--bin-dir DIR] [--conf-dir DIR]
//!             [--conf-name NAME] [--conf-file FILE] [--skip NAME]...
//! ```
//! Defaults: `--source /cni-rs/bin`, `--bin-dir /host/opt/cni/bin`,
//! `--conf-dir /host/etc/cni/net.d`, `--conf-name 10-cni-rs.conflist`.
//! The configuration is `--conf-file`'s content, else the `CNI_NETWORK_CONFIG`
//! environment variable's, else none is written; it must be JSON.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage: cni-install [--source DIR] [--bin-dir DIR] [--conf-dir DIR] \
                     [--conf-name NAME] [--conf-file FILE] [--skip NAME]...";

struct Options {
    source: PathBuf,
    bin_dir: PathBuf,
    conf_dir: PathBuf,
    conf_name: String,
    conf_file: Option<PathBuf>,
    skip: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        source: PathBuf::from("/cni-rs/bin"),
        bin_dir: PathBuf::from("/host/opt/cni/bin"),
        conf_dir: PathBuf::from("/host/etc/cni/net.d"),
        conf_name: "10-cni-rs.conflist".into(),
        conf_file: None,
        skip: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.into());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--source" => o.source = value.into(),
            "--bin-dir" => o.bin_dir = value.into(),
            "--conf-dir" => o.conf_dir = value.into(),
            "--conf-name" => o.conf_name = value.clone(),
            "--conf-file" => o.conf_file = Some(value.into()),
            "--skip" => o.skip.push(value.clone()),
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    if o.conf_name.is_empty() || o.conf_name.contains('/') || o.conf_name.starts_with('.') {
        return Err(format!("--conf-name {:?}: a plain file name", o.conf_name));
    }
    Ok(o)
}

/// Writes `bytes` as `dir/name` with `mode`: a temporary file in `dir`,
/// fsynced, renamed into place, then the directory fsynced.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> Result<(), String> {
    let tmp = dir.join(format!(".{name}.cni-install-{}", std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(bytes)?;
        // The umask may have narrowed the mode given at creation.
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, dir.join(name))?;
        File::open(dir)?.sync_all()
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("writing {}: {e}", dir.join(name).display())
    })
}

fn run(o: &Options) -> Result<(), String> {
    let me = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
    let mut names: Vec<String> = fs::read_dir(&o.source)
        .map_err(|e| format!("reading {}: {e}", o.source.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && Some(n) != me.as_ref() && !o.skip.contains(n))
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(format!("no plugins in {}", o.source.display()));
    }
    fs::create_dir_all(&o.bin_dir).map_err(|e| format!("{}: {e}", o.bin_dir.display()))?;
    for name in &names {
        let bytes =
            fs::read(o.source.join(name)).map_err(|e| format!("reading plugin {name}: {e}"))?;
        write_atomically(&o.bin_dir, name, &bytes, 0o755)?;
    }
    println!(
        "cni-install: {} plugins in {}: {}",
        names.len(),
        o.bin_dir.display(),
        names.join(" ")
    );

    let conf = match &o.conf_file {
        Some(path) => Some(fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?),
        None => std::env::var_os("CNI_NETWORK_CONFIG").map(|v| v.into_encoded_bytes()),
    };
    if let Some(conf) = conf {
        serde_json::from_slice::<serde_json::Value>(&conf)
            .map_err(|e| format!("the network configuration is not JSON: {e}"))?;
        fs::create_dir_all(&o.conf_dir).map_err(|e| format!("{}: {e}", o.conf_dir.display()))?;
        write_atomically(&o.conf_dir, &o.conf_name, &conf, 0o644)?;
        println!(
            "cni-install: network configuration in {}",
            o.conf_dir.join(&o.conf_name).display()
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match parse(&args).and_then(|o| run(&o)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cni-install: {e}");
            ExitCode::FAILURE
        }
    }
}
