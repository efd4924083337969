//! Reading what a plugin printed: a result of any version, or its error document.

use crate::error::{code, CniError};
use crate::spec::{CniResult, ResultError};
use serde::Deserialize;
use serde_json::{Map, Value};

/// A plugin's stdout on success, as the model; a result without `cniVersion`
/// is taken to be at the config's version, and `null` is an empty result, as
/// the reference's `fixupResultVersion` has it.
pub fn parse_result_output(stdout: &[u8], config_version: &str) -> Result<CniResult, CniError> {
    let failed = |e: ResultError| {
        let mut err = CniError::from(e);
        err.msg = format!("failed to parse the plugin's result: {}", err.msg);
        err
    };
    let decode_error = |reason: String| ResultError::Decode {
        version: config_version.to_string(),
        reason,
    };
    let value = match serde_json::from_slice::<Value>(stdout) {
        Ok(Value::Null) => Value::Object(Map::new()),
        Ok(v @ Value::Object(_)) => v,
        // Serde would read an array as a struct by position; Go would not.
        Ok(_) => return Err(failed(decode_error("not a JSON object".into()))),
        Err(e) => return Err(failed(decode_error(e.to_string()))),
    };
    CniResult::from_value(value, config_version).map_err(failed)
}

/// Go decodes an error document leniently (missing fields are zero); so do we.
#[derive(Deserialize)]
struct LenientError {
    #[serde(rename = "cniVersion", default)]
    cni_version: Option<String>,
    #[serde(default)]
    code: Option<u32>,
    #[serde(default)]
    msg: Option<String>,
    #[serde(default)]
    details: Option<String>,
}

/// The error a failed plugin reported, unchanged; or, when it printed no
/// error document, an I/O error naming the plugin and quoting what it said.
pub fn parse_error_output(plugin: &str, stdout: &[u8], stderr: &[u8], status: &str) -> CniError {
    if stdout.iter().all(u8::is_ascii_whitespace) {
        let msg = if stderr.is_empty() {
            format!("plugin {plugin} failed with no error message: {status}")
        } else {
            format!(
                "plugin {plugin} failed: {:?}: {status}",
                String::from_utf8_lossy(stderr)
            )
        };
        return CniError::new(code::IO_FAILURE, msg);
    }
    match serde_json::from_slice::<LenientError>(stdout) {
        Ok(e) => CniError {
            cni_version: e.cni_version.unwrap_or_default(),
            code: e.code.unwrap_or(0),
            msg: e.msg.unwrap_or_default(),
            details: e.details.unwrap_or_default(),
        },
        Err(perr) => CniError::new(
            code::IO_FAILURE,
            format!(
                "plugin {plugin} failed but error parsing its diagnostic message {:?}: {perr}",
                String::from_utf8_lossy(stdout)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_documents_pass_unchanged() {
        let doc = br#"{"cniVersion":"1.0.0","code":7,"msg":"bad","details":"d"}"#;
        let e = parse_error_output("bridge", doc, b"", "exit status: 1");
        assert_eq!(
            e,
            CniError::invalid_config("bad")
                .with_details("d")
                .with_version("1.0.0")
        );
    }

    #[test]
    fn no_document_names_the_plugin() {
        let e = parse_error_output("/opt/cni/bin/x", b"", b"boom", "exit status: 2");
        assert_eq!(e.code, 5);
        assert!(
            e.msg.contains("/opt/cni/bin/x") && e.msg.contains("boom"),
            "{}",
            e.msg
        );
        let e = parse_error_output("x", b"garbage", b"", "exit status: 1");
        assert!(e.msg.contains("garbage"), "{}", e.msg);
    }

    #[test]
    fn results_default_to_the_config_version() {
        let r = parse_result_output(
            br#"{"ips":[{"version":"4","address":"10.0.0.2/24"}]}"#,
            "0.4.0",
        )
        .unwrap();
        assert_eq!(r.cni_version, "0.4.0");
        assert_eq!(r.ips.len(), 1);
        assert_eq!(parse_result_output(b"{", "1.0.0").unwrap_err().code, 6);
    }

    #[test]
    fn null_is_an_empty_result_and_non_objects_are_refused() {
        let r = parse_result_output(b"null", "1.0.0").unwrap();
        assert_eq!(
            r,
            CniResult {
                cni_version: "1.0.0".into(),
                ..Default::default()
            }
        );
        for bad in [&b"[1]"[..], br#"["1.0.0"]"#, b"3", br#""x""#] {
            assert_eq!(parse_result_output(bad, "1.0.0").unwrap_err().code, 6);
        }
    }
}
