//! The shipped plugins are listed twice, once for the scripts
//! (scripts/shipped-plugins.sh) and once for the Debian package
//! (plugins/Cargo.toml, which cannot read a script): the two must agree.

use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_package_ships_exactly_the_scripts_plugins() {
    let script = read("../scripts/shipped-plugins.sh");
    let list = script
        .lines()
        .find_map(|l| l.strip_prefix("SHIPPED_PLUGINS=\""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("SHIPPED_PLUGINS=\"...\" in scripts/shipped-plugins.sh");
    let mut from_script: Vec<&str> = list.split_whitespace().collect();
    let manifest = read("Cargo.toml");
    let mut from_package: Vec<&str> = manifest
        .lines()
        .filter(|l| l.contains("\"opt/cni/bin/\""))
        .filter_map(|l| l.split("\"target/release/").nth(1)?.split('"').next())
        .collect();
    from_script.sort_unstable();
    from_package.sort_unstable();
    assert_eq!(from_package, from_script);
}
