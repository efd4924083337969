//! Loading networks from a configuration directory, and the errors for
//! invalid configurations (each naming the file and the field).

use cni_core::libcni::{load_conf_list, LibcniError, NetworkConfigList};
use serde_json::{json, Value};
use std::path::Path;

fn write(dir: &Path, name: &str, content: &str) {
    std::fs::write(dir.join(name), content).unwrap();
}

fn list_json(name: &str, version: &str, plugin: &str) -> String {
    json!({"cniVersion": version, "name": name, "plugins": [{"type": plugin}]}).to_string()
}

#[test]
fn conflists_are_searched_in_file_name_order() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "20-b.conflist",
        &list_json("net", "1.0.0", "second"),
    );
    write(
        dir.path(),
        "10-a.conflist",
        &list_json("net", "1.0.0", "first"),
    );
    write(
        dir.path(),
        "05-other.conflist",
        &list_json("other", "1.0.0", "x"),
    );
    let net = load_conf_list(dir.path(), "net").unwrap();
    assert_eq!(net.plugins[0].plugin_type(), "first");
    assert_eq!(
        net.bytes,
        std::fs::read(dir.path().join("10-a.conflist")).unwrap()
    );
}

#[test]
fn a_single_conf_becomes_a_one_plugin_list_and_conflists_win() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "10-single.conf",
        r#"{"cniVersion":"0.4.0","name":"single","type":"bridge","bridge":"br0"}"#,
    );
    write(dir.path(), "20-json.json", r#"{"name":"js","type":"ptp"}"#);
    write(
        dir.path(),
        "30-dup.conf",
        r#"{"cniVersion":"0.4.0","name":"both","type":"from-conf"}"#,
    );
    write(
        dir.path(),
        "99-dup.conflist",
        &list_json("both", "1.0.0", "from-list"),
    );
    write(dir.path(), "ignored.txt", "garbage");

    let single = load_conf_list(dir.path(), "single").unwrap();
    assert_eq!(single.cni_version, "0.4.0");
    assert_eq!(single.plugins.len(), 1);
    assert_eq!(single.plugins[0].conf["bridge"], "br0");
    let bytes: Value = serde_json::from_slice(&single.bytes).unwrap();
    assert_eq!(
        bytes,
        json!({"cniVersion":"0.4.0","name":"single","plugins":[{"cniVersion":"0.4.0","name":"single","type":"bridge","bridge":"br0"}]})
    );

    assert_eq!(
        load_conf_list(dir.path(), "js").unwrap().cni_version,
        "0.1.0",
        "no cniVersion in a .conf is 0.1.0"
    );
    assert_eq!(
        load_conf_list(dir.path(), "both").unwrap().plugins[0].plugin_type(),
        "from-list"
    );
}

#[test]
fn missing_networks_and_empty_directories_are_distinct_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        load_conf_list(dir.path(), "x"),
        Err(LibcniError::NoConfigsFound { .. })
    ));
    assert!(matches!(
        load_conf_list(&dir.path().join("absent"), "x"),
        Err(LibcniError::NoConfigsFound { .. })
    ));
    write(dir.path(), "a.conflist", &list_json("a", "1.0.0", "p"));
    let err = load_conf_list(dir.path(), "x").unwrap_err();
    assert!(matches!(err, LibcniError::NetworkNotFound { .. }));
    assert!(err.to_string().contains("\"x\""), "{err}");
}

#[test]
fn cni_versions_picks_the_highest_supported() {
    let parse = |v: Value| NetworkConfigList::from_bytes(v.to_string().as_bytes(), "t");
    let net = parse(json!({"name":"n","cniVersions":["0.4.0","1.1.0","1.0.0","2.0.0"],"plugins":[{"type":"p"}]})).unwrap();
    assert_eq!(net.cni_version, "1.1.0");
    let net = parse(json!({"name":"n","cniVersion":"1.0.0","cniVersions":["0.3.1","5.0.0"],"plugins":[{"type":"p"}]})).unwrap();
    assert_eq!(net.cni_version, "1.0.0");
    let err =
        parse(json!({"name":"n","cniVersions":["3.0.0"],"plugins":[{"type":"p"}]})).unwrap_err();
    assert!(err.to_string().contains("cniVersions"), "{err}");
    let err =
        parse(json!({"name":"n","cniVersions":["1.0.0", 7],"plugins":[{"type":"p"}]})).unwrap_err();
    assert!(err.to_string().contains("cniVersions[1]"), "{err}");
    let err =
        parse(json!({"name":"n","cniVersions":["latest"],"plugins":[{"type":"p"}]})).unwrap_err();
    assert!(err.to_string().contains("cniVersions[0]"), "{err}");
}

#[test]
fn disable_flags_accept_booleans_and_their_strings() {
    let parse = |v: Value| NetworkConfigList::from_bytes(v.to_string().as_bytes(), "t");
    let net = parse(json!({"name":"n","cniVersion":"1.1.0","disableCheck":"True","disableGC":true,"plugins":[{"type":"p"}]})).unwrap();
    assert!(net.disable_check && net.disable_gc);
    let net = parse(json!({"name":"n","cniVersion":"1.1.0","plugins":[{"type":"p"}]})).unwrap();
    assert!(!net.disable_check && !net.disable_gc);
    let err =
        parse(json!({"name":"n","cniVersion":"1.1.0","disableGC":"yes","plugins":[{"type":"p"}]}))
            .unwrap_err();
    assert!(err.to_string().contains("`disableGC`"), "{err}");
}

/// Each invalid file gives an error naming the file and the field.
#[test]
fn invalid_configurations_name_the_file_and_the_field() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "bad.conflist",
            r#"{"cniVersion":"1.0.0","plugins":[{"type":"p"}]}"#,
            "`name`",
        ),
        (
            "bad.conflist",
            r#"{"cniVersion":"1.0.0","name":"","plugins":[{"type":"p"}]}"#,
            "`name`",
        ),
        (
            "bad.conflist",
            r#"{"cniVersion":"1.0.0","name":7,"plugins":[{"type":"p"}]}"#,
            "`name`",
        ),
        (
            "bad.conflist",
            r#"{"cniVersion":"1.0.0","name":"n"}"#,
            "`plugins`",
        ),
        (
            "bad.conflist",
            r#"{"cniVersion":"1.0.0","name":"n","plugins":[]}"#,
            "`plugins`",
        ),
        (
            "bad.conflist",
            r#"{"cniVersion":"1.0.0","name":"n","plugins":{}}"#,
            "`plugins`",
        ),
        (
            "bad.conflist",
            r#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"p"},{"bridge":"x"}]}"#,
            "`plugins[1].type`",
        ),
        (
            "bad.conflist",
            r#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"../../bin/sh"}]}"#,
            "`plugins[0].type`",
        ),
        (
            "bad.conflist",
            r#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"a..b"}]}"#,
            "`plugins[0].type`",
        ),
        (
            "bad.conflist",
            r#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"/usr/bin/true"}]}"#,
            "`plugins[0].type`",
        ),
        (
            "bad.conflist",
            r#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":""}]}"#,
            "`plugins[0].type`",
        ),
        (
            "bad.conflist",
            r#"{"cniVersion":"1.0.0","name":"n","plugins":["bridge"]}"#,
            "`plugins[0]`",
        ),
        (
            "bad.conflist",
            r#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"p","capabilities":{"mac":"yes"}}]}"#,
            "`plugins[0].capabilities.mac`",
        ),
        (
            "bad.conflist",
            r#"{"name":"n","plugins":[{"type":"p"}]}"#,
            "`cniVersion`",
        ),
        (
            "bad.conflist",
            r#"{"cniVersion":"0.5.0","name":"n","plugins":[{"type":"p"}]}"#,
            "`cniVersion`",
        ),
        (
            "bad.conflist",
            r#"{"cniVersion":1,"name":"n","plugins":[{"type":"p"}]}"#,
            "`cniVersion`",
        ),
        (
            "bad.conflist",
            r#"{"cniVersion":"1.0.0", "name":"n", "plugins": [ }"#,
            "not valid JSON",
        ),
        ("bad.conflist", r#"[1,2]"#, "must be a JSON object"),
        (
            "bad.conf",
            r#"{"cniVersion":"1.0.0","type":"bridge"}"#,
            "`name`",
        ),
        ("bad.conf", r#"{"cniVersion":"1.0.0","name":"n"}"#, "`type`"),
        (
            "bad.json",
            r#"{"cniVersion":"1.0.0","name":"n","type":"x/y"}"#,
            "`type`",
        ),
        ("bad.json", "{", "not valid JSON"),
    ];
    for (file, content, field) in cases {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), file, content);
        let err = load_conf_list(dir.path(), "n").unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, LibcniError::Config { .. }),
            "{content}: {text}"
        );
        assert!(
            text.contains(&dir.path().join(file).display().to_string()),
            "{content}: no file name in {text}"
        );
        assert!(
            text.contains(field),
            "{content}: expected {field} in {text}"
        );
    }
}

#[test]
fn an_invalid_file_before_the_match_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "10-broken.conflist", "{");
    write(
        dir.path(),
        "20-good.conflist",
        &list_json("good", "1.0.0", "p"),
    );
    let err = load_conf_list(dir.path(), "good").unwrap_err();
    assert!(err.to_string().contains("10-broken.conflist"), "{err}");
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            prop_oneof![
                Just("1.0.0".to_string()),
                Just("../x".to_string()),
                Just("bridge".to_string()),
                "[a-z./]{0,6}"
            ]
            .prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![
                            Just("name"),
                            Just("cniVersion"),
                            Just("cniVersions"),
                            Just("plugins"),
                            Just("type"),
                            Just("capabilities"),
                            Just("disableCheck")
                        ],
                        inner
                    ),
                    0..5
                )
                .prop_map(|kv| Value::Object(
                    kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
            ]
        })
    }

    proptest! {
        /// Any document is either a valid list or an error naming a field; a
        /// list that parses has a name, a supported version and plain plugin types.
        #[test]
        fn parsing_arbitrary_documents_is_total(doc in json_value()) {
            let bytes = doc.to_string().into_bytes();
            for parsed in [NetworkConfigList::from_bytes(&bytes, "p"), NetworkConfigList::from_single_conf_bytes(&bytes, "p")] {
                match parsed {
                    Ok(list) => {
                        prop_assert!(!list.name.is_empty());
                        prop_assert!(cni_core::libcni::version::is_supported(&list.cni_version));
                        prop_assert!(!list.plugins.is_empty());
                        for p in &list.plugins {
                            prop_assert!(!p.plugin_type().is_empty() && !p.plugin_type().contains('/') && !p.plugin_type().contains(".."));
                        }
                    }
                    Err(e) => { let is_config = matches!(e, LibcniError::Config { .. }); prop_assert!(is_config, "unexpected error kind: {}", e) },
                }
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = NetworkConfigList::from_bytes(&bytes, "p");
            let _ = cni_core::libcni::cache::parse(&bytes);
        }
    }
}

/// Found by the `config_inject` fuzz target: a long number in a plugin's
/// configuration reached the plugin one unit in the last place off.
#[test]
fn a_plugin_gets_its_numbers_as_the_file_wrote_them() {
    let number = "3333333333333333333333333333333333333333333333333333353333333333333333330";
    let file = format!(
        r#"{{"cniVersion":"1.0.0","name":"n","plugins":[{{"type":"bridge","n":{number}}}]}}"#
    );
    let list = cni_core::libcni::NetworkConfigList::from_bytes(file.as_bytes(), "f").unwrap();
    let stdin = cni_core::libcni::build_one_config(&list, &list.plugins[0], None, None).unwrap();
    let sent: serde_json::Value = serde_json::from_slice(&stdin).unwrap();
    assert_eq!(sent["n"].as_f64(), Some(number.parse::<f64>().unwrap()));
}
