//! Plugin configurations in separate files (current upstream libcni): a
//! `.conflist` is completed by `<confdir>/<network name>/*.conf` unless it
//! sets `loadOnlyInlinedPlugins`.

use cni_core::libcni::{load_conf_list, LibcniError, NetworkConfigList};
use serde_json::{json, Value};
use std::path::Path;

fn write(dir: &Path, name: &str, content: &Value) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content.to_string()).unwrap();
}

fn types(list: &NetworkConfigList) -> Vec<&str> {
    list.plugins.iter().map(|p| p.plugin_type()).collect()
}

fn field_of(e: &LibcniError) -> (&str, &str) {
    match e {
        LibcniError::Config { origin, field, .. } => (origin.as_str(), field.as_str()),
        other => panic!("not a config error: {other}"),
    }
}

#[test]
fn a_list_without_plugins_takes_them_from_its_directory_in_file_name_order() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "10-net.conflist",
        &json!({"cniVersion": "1.0.0", "name": "net"}),
    );
    write(dir.path(), "net/20-b.conf", &json!({"type": "second"}));
    write(
        dir.path(),
        "net/10-a.conf",
        &json!({"type": "first", "k": 1}),
    );
    // Neither another extension nor a subdirectory is a plugin file.
    write(dir.path(), "net/30-c.json", &json!({"type": "ignored"}));
    write(dir.path(), "net/sub/40-d.conf", &json!({"type": "ignored"}));
    let list = load_conf_list(dir.path(), "net").unwrap();
    assert_eq!(types(&list), ["first", "second"]);
    assert_eq!(list.plugins[0].conf["k"], 1);
    assert!(!list.load_only_inlined_plugins);
    // The cache records the list as written, as upstream's does.
    assert_eq!(
        list.bytes,
        std::fs::read(dir.path().join("10-net.conflist")).unwrap()
    );
}

#[test]
fn plugin_files_follow_inline_plugins() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "10-net.conflist",
        &json!({"cniVersion": "1.0.0", "name": "net", "plugins": [{"type": "inline"}]}),
    );
    write(dir.path(), "net/10-a.conf", &json!({"type": "fromfile"}));
    let list = load_conf_list(dir.path(), "net").unwrap();
    assert_eq!(types(&list), ["inline", "fromfile"]);
}

#[test]
fn load_only_inlined_plugins_ignores_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "10-net.conflist",
        &json!({"cniVersion": "1.0.0", "name": "net", "loadOnlyInlinedPlugins": true,
                "plugins": [{"type": "inline"}]}),
    );
    write(dir.path(), "net/10-a.conf", &json!({"type": "fromfile"}));
    let list = load_conf_list(dir.path(), "net").unwrap();
    assert_eq!(types(&list), ["inline"]);
    assert!(list.load_only_inlined_plugins);
}

#[test]
fn load_only_inlined_plugins_without_plugins_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "10-net.conflist",
        &json!({"cniVersion": "1.0.0", "name": "net", "loadOnlyInlinedPlugins": true}),
    );
    write(dir.path(), "net/10-a.conf", &json!({"type": "fromfile"}));
    let err = load_conf_list(dir.path(), "net").unwrap_err();
    assert_eq!(field_of(&err).1, "plugins", "{err}");
    assert!(err.to_string().contains("loadOnlyInlinedPlugins"), "{err}");
}

#[test]
fn a_list_with_no_plugin_anywhere_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "10-net.conflist",
        &json!({"cniVersion": "1.0.0", "name": "net"}),
    );
    let err = load_conf_list(dir.path(), "net").unwrap_err();
    let (origin, field) = field_of(&err);
    assert!(origin.ends_with("10-net.conflist"), "{err}");
    assert_eq!(field, "plugins");
    // An empty inline list is refused even with files beside it, as upstream.
    write(
        dir.path(),
        "10-net.conflist",
        &json!({"cniVersion": "1.0.0", "name": "net", "plugins": []}),
    );
    write(dir.path(), "net/10-a.conf", &json!({"type": "fromfile"}));
    assert!(load_conf_list(dir.path(), "net").is_err());
}

#[test]
fn an_invalid_plugin_file_is_named_with_its_field() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "10-net.conflist",
        &json!({"cniVersion": "1.0.0", "name": "net"}),
    );
    write(dir.path(), "net/10-a.conf", &json!({"type": "../evil"}));
    let err = load_conf_list(dir.path(), "net").unwrap_err();
    let (origin, field) = field_of(&err);
    assert!(origin.ends_with("net/10-a.conf"), "{err}");
    assert_eq!(field, "type");
    std::fs::write(dir.path().join("net/10-a.conf"), "{not json").unwrap();
    let err = load_conf_list(dir.path(), "net").unwrap_err();
    assert!(field_of(&err).0.ends_with("net/10-a.conf"), "{err}");
}

#[test]
fn load_only_inlined_plugins_must_be_a_boolean() {
    let bytes = json!({"cniVersion": "1.0.0", "name": "net", "loadOnlyInlinedPlugins": "yes",
                       "plugins": [{"type": "a"}]})
    .to_string();
    let err = NetworkConfigList::from_bytes(bytes.as_bytes(), "t").unwrap_err();
    assert_eq!(field_of(&err).1, "loadOnlyInlinedPlugins", "{err}");
}

#[test]
fn bytes_alone_must_carry_their_plugins() {
    let bytes = json!({"cniVersion": "1.0.0", "name": "net"}).to_string();
    let err = NetworkConfigList::from_bytes(bytes.as_bytes(), "t").unwrap_err();
    assert_eq!(field_of(&err).1, "plugins", "{err}");
    let partial =
        NetworkConfigList::from_bytes_without_plugin_files(bytes.as_bytes(), "t").unwrap();
    assert!(partial.plugins.is_empty());
}
