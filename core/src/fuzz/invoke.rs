//! A delegate's output: its result or error document, and its VERSION answer.

use crate::error::code;
use crate::invoke::{parse_error_output, parse_result_output};
use crate::spec::version::ALL;
use crate::spec::VersionInfo;

/// A plugin's stdout read as a result at each config version; whatever is
/// accepted renders at every version it can, and a rendering reads back to
/// the same rendering. The same bytes as a failed plugin's stdout give its
/// error unchanged: printed again, it reads back equal.
pub fn delegate_output(data: &[u8]) -> bool {
    let mut accepted = false;
    for config_version in ALL {
        let Ok(result) = parse_result_output(data, config_version) else {
            continue;
        };
        accepted = true;
        for version in ALL {
            let Ok(json) = result.to_json_at(version) else {
                continue;
            };
            let back = parse_result_output(json.as_bytes(), version)
                .unwrap_or_else(|e| panic!("our rendering at {version} is refused: {e}\n{json}"));
            assert_eq!(back.to_json_at(version).as_ref(), Ok(&json));
        }
    }
    error_document_passes_unchanged(data);
    accepted
}

fn error_document_passes_unchanged(stdout: &[u8]) {
    let err = parse_error_output("fuzzed", stdout, b"", "exit status 1");
    if stdout.iter().all(u8::is_ascii_whitespace) {
        assert_eq!(err.code, code::IO_FAILURE, "{err:?}");
        return;
    }
    let printed = serde_json::to_vec(&err).expect("an error document serializes");
    let again = parse_error_output("fuzzed", &printed, b"", "exit status 1");
    assert_eq!(again, err, "{}", String::from_utf8_lossy(&printed));
}

/// A VERSION answer: an accepted one has a version and a list, and what
/// we would print for it decodes to the same answer.
pub fn version_info(data: &[u8]) -> bool {
    let Ok(info) = VersionInfo::decode(data) else {
        return false;
    };
    assert!(!info.cni_version.is_empty(), "{info:?}");
    assert!(!info.supported_versions.is_empty(), "{info:?}");
    assert_eq!(
        VersionInfo::decode(info.encode().as_bytes()).as_ref(),
        Ok(&info)
    );
    true
}
