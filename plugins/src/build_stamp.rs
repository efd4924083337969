//! Which build a plugin binary is, readable without running it: every
//! plugin binary carries its build stamp (see `build.rs`) in an ELF note,
//! `cni-rs` type 1. The linker puts notes in a `PT_NOTE` segment next to the
//! ELF headers, so reading another binary's stamp costs a few small reads of
//! its first page — no exec, never the whole file. A main plugin runs an IPAM
//! plugin in process only when the file `CNI_PATH` leads to carries its own
//! stamp (`common::delegate::SiblingDelegate`).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/build_stamp.rs"));

pub type Stamp = [u8; 32];

const NOTE_NAME: &[u8] = b"cni-rs\0";
const NOTE_TYPE: u32 = 1;

/// The note exactly as ELF lays one out: sizes, type, name padded to 4 bytes, stamp.
#[repr(C, align(4))]
struct Note {
    name_size: u32,
    desc_size: u32,
    kind: u32,
    name: [u8; 8],
    desc: Stamp,
}

#[used]
#[link_section = ".note.cni-rs.build"]
static NOTE: Note = Note {
    name_size: NOTE_NAME.len() as u32,
    desc_size: BUILD_STAMP.len() as u32,
    kind: NOTE_TYPE,
    name: *b"cni-rs\0\0",
    desc: BUILD_STAMP,
};

/// This binary's stamp, read from its own note, which reading it keeps linked
/// into every binary that asks.
pub fn own() -> Stamp {
    std::hint::black_box(&NOTE).desc
}

/// Whether the file at `path` is a plugin of this very build.
pub fn is_this_build(path: &Path) -> bool {
    of_file(path) == Some(own())
}

/// The stamp in the ELF file at `path`; `None` for anything else (a script,
/// another build's binary, the reference's Go plugins).
pub fn of_file(path: &Path) -> Option<Stamp> {
    let file = File::open(path).ok()?;
    let read = |offset: u64, len: usize| {
        let mut buf = vec![0; len];
        file.read_exact_at(&mut buf, offset).ok().map(|()| buf)
    };
    let header = read(0, ELF64_HEADER_LEN)?;
    for (offset, size, align) in note_segments(&header, read)? {
        if let Some(stamp) = find_stamp(&read(offset, size)?, align) {
            return Some(stamp);
        }
    }
    None
}

const ELF64_HEADER_LEN: usize = 64;
const PT_NOTE: u32 = 4;
/// Notes are a few hundred bytes; a larger segment is not worth reading.
const MAX_NOTE_SEGMENT: u64 = 64 * 1024;
const MAX_PROGRAM_HEADERS: usize = 256;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// (offset, size, alignment) of each `PT_NOTE` segment of a little-endian
/// ELF64 file, from its header and program header table.
fn note_segments(
    header: &[u8],
    read: impl Fn(u64, usize) -> Option<Vec<u8>>,
) -> Option<Vec<(u64, usize, u64)>> {
    // Magic, 64-bit, little-endian: the only kind this build makes.
    if header.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let table = u64_at(header, 0x20)?;
    let entry = usize::from(u16_at(header, 0x36)?);
    let count = usize::from(u16_at(header, 0x38)?);
    if entry < 56 || count > MAX_PROGRAM_HEADERS {
        return None;
    }
    let table = read(table, entry * count)?;
    let notes = table
        .chunks_exact(entry)
        .filter(|ph| u32_at(ph, 0) == Some(PT_NOTE))
        .filter_map(|ph| Some((u64_at(ph, 8)?, u64_at(ph, 0x20)?, u64_at(ph, 0x30)?)))
        .filter(|&(_, size, _)| size <= MAX_NOTE_SEGMENT)
        .filter_map(|(offset, size, align)| Some((offset, usize::try_from(size).ok()?, align)))
        .collect();
    Some(notes)
}

/// Our stamp among the notes of one segment (entries padded to `align`).
fn find_stamp(segment: &[u8], align: u64) -> Option<Stamp> {
    let pad = |n: usize| {
        if align == 8 {
            n.div_ceil(8) * 8
        } else {
            n.div_ceil(4) * 4
        }
    };
    let mut at = 0;
    while at + 12 <= segment.len() {
        let name_size = usize::try_from(u32_at(segment, at)?).ok()?;
        let desc_size = usize::try_from(u32_at(segment, at + 4)?).ok()?;
        let kind = u32_at(segment, at + 8)?;
        let name_at = at + 12;
        let desc_at = name_at + pad(name_size);
        let name = segment.get(name_at..name_at + name_size)?;
        let desc = segment.get(desc_at..desc_at + desc_size)?;
        if name == NOTE_NAME && kind == NOTE_TYPE {
            return desc.try_into().ok();
        }
        at = desc_at + pad(desc_size);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_note_is_well_formed_and_found_among_others() {
        let mut segment = Vec::new();
        // A GNU build-id note before ours, as the linker lays them out.
        segment.extend_from_slice(&4u32.to_le_bytes());
        segment.extend_from_slice(&20u32.to_le_bytes());
        segment.extend_from_slice(&3u32.to_le_bytes());
        segment.extend_from_slice(b"GNU\0");
        segment.extend_from_slice(&[0xab; 20]);
        let note = std::hint::black_box(&NOTE);
        segment.extend_from_slice(&note.name_size.to_le_bytes());
        segment.extend_from_slice(&note.desc_size.to_le_bytes());
        segment.extend_from_slice(&note.kind.to_le_bytes());
        segment.extend_from_slice(&note.name);
        segment.extend_from_slice(&note.desc);
        assert_eq!(find_stamp(&segment, 4), Some(own()));
        assert_eq!(find_stamp(&segment[..segment.len() - 1], 4), None);
    }

    #[test]
    fn a_script_or_missing_file_has_no_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("host-local");
        std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
        assert_eq!(of_file(&script), None);
        assert_eq!(of_file(&dir.path().join("absent")), None);
    }
}
