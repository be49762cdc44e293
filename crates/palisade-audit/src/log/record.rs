//! The record framing of the entries file.

use super::{LeafIndex, MAX_ENTRY};
use std::fs::File;
use std::os::unix::fs::FileExt;

/// Bytes before the payload: length, CRC-32, index.
pub(crate) const HEADER: u64 = 16;

/// Appends the framed record to `out`.
pub(crate) fn encode(index: LeafIndex, payload: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc(index, len, payload).to_le_bytes());
    out.extend_from_slice(&index.to_le_bytes());
    out.extend_from_slice(payload);
}

fn crc(index: LeafIndex, len: u32, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&index.to_le_bytes());
    h.update(&len.to_le_bytes());
    h.update(payload);
    h.finalize()
}

/// Why a record could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bad {
    /// The file ends inside the record.
    Incomplete,
    /// The length field is larger than [`MAX_ENTRY`].
    TooLarge,
    /// The CRC does not match.
    Checksum,
    /// The read failed.
    Io,
}

impl Bad {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Bad::Incomplete => "incomplete record",
            Bad::TooLarge => "length field larger than the limit",
            Bad::Checksum => "checksum mismatch",
            Bad::Io => "read error",
        }
    }
}

/// A record as read.
#[derive(Debug)]
pub(crate) struct Record {
    /// The index written in its header.
    pub(crate) index: LeafIndex,
    /// The payload.
    pub(crate) payload: Vec<u8>,
}

impl Record {
    /// Its size in the entries file.
    pub(crate) fn framed_len(&self) -> u64 {
        HEADER + self.payload.len() as u64
    }
}

/// Parses the header at the start of `h`: (len, crc, index).
pub(crate) fn header(h: &[u8; HEADER as usize]) -> (u32, u32, u64) {
    let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    let crc = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
    let mut idx = [0u8; 8];
    idx.copy_from_slice(&h[8..16]);
    (len, crc, u64::from_le_bytes(idx))
}

/// Checks a payload against its header.
pub(crate) fn check(len: u32, want_crc: u32, index: u64, payload: &[u8]) -> Result<(), Bad> {
    if crc(index, len, payload) == want_crc {
        Ok(())
    } else {
        Err(Bad::Checksum)
    }
}

/// Reads the record at `offset`, where the file is `file_len` bytes long.
pub(crate) fn read_at(file: &File, offset: u64, file_len: u64) -> Result<Record, Bad> {
    if offset + HEADER > file_len {
        return Err(Bad::Incomplete);
    }
    let mut h = [0u8; HEADER as usize];
    file.read_exact_at(&mut h, offset).map_err(|_| Bad::Io)?;
    let (len, want, index) = header(&h);
    if len as usize > MAX_ENTRY {
        return Err(Bad::TooLarge);
    }
    if offset + HEADER + u64::from(len) > file_len {
        return Err(Bad::Incomplete);
    }
    let mut payload = vec![0u8; len as usize];
    file.read_exact_at(&mut payload, offset + HEADER)
        .map_err(|_| Bad::Io)?;
    check(len, want, index, &payload)?;
    Ok(Record { index, payload })
}
