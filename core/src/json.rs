//! JSON output as the reference writes it: four-space indent, no trailing newline.

use serde::Serialize;

pub fn to_string_indent4<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::with_capacity(256);
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    // Serializing our own types into a Vec cannot fail: no I/O, and no map has non-string keys.
    if value.serialize(&mut ser).is_err() {
        return String::from("{}");
    }
    String::from_utf8(out).unwrap_or_default()
}
