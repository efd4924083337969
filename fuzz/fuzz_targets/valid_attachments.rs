#![no_main]
//! A GC's cni.dev/valid-attachments.
//! The oracle, `cni_core::fuzz::valid_attachments`, also replays this target's corpus on stable.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cni_core::fuzz::valid_attachments(data);
});
