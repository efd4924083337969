//! `cni.dev/valid-attachments` of a GC request.

use cni_core::CniError;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Attachment {
    #[serde(rename = "containerID")]
    pub container_id: String,
    #[serde(rename = "ifname", default)]
    pub ifname: String,
}

pub fn valid_attachments(stdin: &[u8]) -> Result<Vec<Attachment>, CniError> {
    #[derive(Deserialize)]
    struct Gc {
        #[serde(rename = "cni.dev/valid-attachments", default)]
        valid: Vec<Attachment>,
    }
    let gc: Gc = serde_json::from_slice(stdin)
        .map_err(|e| CniError::decode(format!("cni.dev/valid-attachments: {e}")))?;
    Ok(gc.valid)
}
