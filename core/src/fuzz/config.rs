//! A GC's `cni.dev/valid-attachments`.

use crate::spec::config::{NetConf, VALID_ATTACHMENTS};
use serde_json::Value;

/// Any config: the attachments read are exactly the list's entries, in
/// order; a refusal names the key.
pub fn valid_attachments(data: &[u8]) -> bool {
    let Ok(conf) = NetConf::parse(data) else {
        return false;
    };
    let raw = conf
        .fields()
        .field(VALID_ATTACHMENTS)
        .map(|f| f.value.clone());
    match (conf.valid_attachments(), raw) {
        (Ok(None), raw) => assert_eq!(raw, None),
        (Ok(Some(read)), Some(Value::Array(items))) => {
            assert_eq!(read.len(), items.len());
            for (attachment, item) in read.iter().zip(&items) {
                assert_eq!(
                    as_go_reads(item, "containerID"),
                    Some(&attachment.container_id)
                );
                assert_eq!(as_go_reads(item, "ifname"), Some(&attachment.ifname));
            }
            return true;
        }
        (Ok(Some(read)), raw) => panic!("{read:?} read from {raw:?}"),
        (Err(e), _) => assert!(e.to_string().contains(VALID_ATTACHMENTS), "{e}"),
    }
    false
}

/// `key` of an object as Go's decoder reads it: keys match ignoring case and
/// the last one written wins.
fn as_go_reads<'a>(item: &'a Value, key: &str) -> Option<&'a String> {
    let (_, value) = item
        .as_object()?
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))?;
    match value {
        Value::String(s) => Some(s),
        _ => None,
    }
}
