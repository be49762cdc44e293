//! Tar archives: PyTorch's legacy checkpoint format (`sys_info`, `pickle`,
//! `storages`, `tensors` members) and anything else packed with tar. Every
//! regular member is scanned by content.
//!
//! The `storages` and `tensors` members interleave pickles with raw data;
//! [`storages`] walks that layout the way `torch.serialization`'s legacy
//! loader does, so a payload in the tenth storage's header pickle is found
//! too.

use super::ctx::{Ctx, shown};
use super::pickle::{self, Mode};
use super::rules;
use super::source::{Limited, Source};
use std::io;

fn octal(field: &[u8]) -> Option<u64> {
    // GNU base-256 for large sizes.
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            v = v.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(v);
    }
    let s = std::str::from_utf8(field).ok()?;
    let s = s.trim_matches(|c: char| c == '\0' || c == ' ');
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

/// Scans a tar stream positioned at its first header.
pub(crate) fn scan<S: Source + ?Sized>(src: &mut S, ctx: &mut Ctx) -> io::Result<()> {
    ctx.saw("tar");
    let mut long_name: Option<String> = None;
    let mut members = 0usize;
    loop {
        let at = src.pos();
        let mut h = [0u8; 512];
        if src.read_exact(&mut h).is_err() {
            return Ok(());
        }
        if h.iter().all(|&b| b == 0) {
            return Ok(());
        }
        members += 1;
        if members > ctx.limits.max_entries {
            ctx.report(
                &rules::LIMIT_EXCEEDED,
                ctx.at_offset(at),
                "too many tar members".into(),
                "tar",
            );
            return Ok(());
        }
        let Some(size) = octal(&h[124..136]) else {
            ctx.report(
                &rules::ARCHIVE_ANOMALY,
                ctx.at_offset(at),
                format!("tar header at offset {at} has an unreadable size"),
                "tar-size",
            );
            return Ok(());
        };
        if src.remaining().is_some_and(|r| size > r) {
            ctx.report(
                &rules::ARCHIVE_ANOMALY,
                ctx.at_offset(at),
                format!(
                    "tar member at offset {at} claims {size} bytes, more than the archive holds"
                ),
                "tar-bounds",
            );
            return Ok(());
        }
        let typeflag = h[156];
        let raw_name = &h[..100];
        let name_end = raw_name.iter().position(|&b| b == 0).unwrap_or(100);
        let mut name = String::from_utf8_lossy(&raw_name[..name_end]).into_owned();
        if &h[257..262] == b"ustar" && h[345] != 0 {
            let p = &h[345..500];
            let pe = p.iter().position(|&b| b == 0).unwrap_or(p.len());
            name = format!("{}/{name}", String::from_utf8_lossy(&p[..pe]));
        }
        if let Some(n) = long_name.take() {
            name = n;
        }
        let padded = size.div_ceil(512) * 512;
        match typeflag {
            b'L' => {
                // GNU long name for the next member.
                let mut lim = Limited::new(src, size.min(4096));
                let mut buf = vec![0u8; usize::try_from(size.min(4096)).unwrap_or(0)];
                let _ = lim.read_exact(&mut buf);
                lim.finish()?;
                src.skip(padded - size.min(4096).min(size))?;
                let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
                long_name = Some(String::from_utf8_lossy(&buf[..end]).into_owned());
            }
            b'0' | 0 | b'7' => {
                let start = src.pos();
                ctx.within(&name, |ctx| -> io::Result<()> {
                    let mut lim = Limited::new(src, size);
                    if name == "storages" || name.ends_with("/storages") {
                        storages(&mut lim, ctx);
                    } else if name == "tensors" || name.ends_with("/tensors") {
                        tensors(&mut lim, ctx);
                    } else {
                        super::scan_stream(&mut lim, ctx)?;
                    }
                    lim.finish()
                })?;
                let used = src.pos() - start;
                src.skip(padded.saturating_sub(used))?;
            }
            _ => src.skip(padded)?,
        }
    }
}

/// Element size of a legacy storage type (`torch.FloatStorage`).
fn element_size(storage_type: &str) -> u64 {
    match storage_type.rsplit('.').next().unwrap_or("") {
        "DoubleStorage" | "LongStorage" | "ComplexFloatStorage" => 8,
        "FloatStorage" | "IntStorage" | "QInt32Storage" => 4,
        "HalfStorage" | "BFloat16Storage" | "ShortStorage" => 2,
        "ComplexDoubleStorage" => 16,
        _ => 1,
    }
}

/// `storages`: a pickle with the count, then per storage a pickle
/// `(key, location, storage_type)` followed by an 8-byte element count and
/// the raw elements.
fn storages<S: Source + ?Sized>(src: &mut S, ctx: &mut Ctx) {
    ctx.saw("pytorch-legacy-tar");
    let Some(count) = pickle::scan_value(src, ctx).and_then(|v| v.as_int()) else {
        return;
    };
    for i in 0..count {
        let Some(v) = pickle::scan_value(src, ctx) else {
            return;
        };
        let elem = v.tuple_global_name(2).map_or(1, |n| element_size(&n));
        let mut n = [0u8; 8];
        if src.read_exact(&mut n).is_err() {
            ctx.report(
                &rules::MALFORMED_PICKLE,
                ctx.at_offset(src.pos()),
                format!("legacy storage {i} of {count} is truncated"),
                "storage",
            );
            return;
        }
        let bytes = u64::from_le_bytes(n).checked_mul(elem);
        match bytes {
            Some(b) if src.remaining().is_none_or(|r| b <= r) => {
                if src.skip(b).is_err() {
                    return;
                }
            }
            _ => {
                ctx.report(
                    &rules::MALFORMED_PICKLE,
                    ctx.at_offset(src.pos()),
                    format!("legacy storage {i} claims more data than the member holds"),
                    "storage",
                );
                return;
            }
        }
    }
    // The storage views pickle.
    pickle::scan(src, ctx, Mode::One);
}

/// `tensors`: a pickle with the count, then per tensor a pickle and a
/// binary shape record (ndim, padding, sizes, strides, offset).
fn tensors<S: Source + ?Sized>(src: &mut S, ctx: &mut Ctx) {
    let Some(count) = pickle::scan_value(src, ctx).and_then(|v| v.as_int()) else {
        return;
    };
    for i in 0..count {
        if pickle::scan_value(src, ctx).is_none() {
            return;
        }
        let mut nd = [0u8; 8];
        if src.read_exact(&mut nd).is_err() {
            return;
        }
        let ndim = u64::from(u32::from_le_bytes([nd[0], nd[1], nd[2], nd[3]]));
        let skip = ndim.saturating_mul(16).saturating_add(8);
        if src.remaining().is_some_and(|r| skip > r) || src.skip(skip).is_err() {
            ctx.report(
                &rules::MALFORMED_PICKLE,
                ctx.at_offset(src.pos()),
                format!(
                    "legacy tensor record {i} of {count} is truncated ({})",
                    shown(&ndim.to_string(), 20)
                ),
                "tensor",
            );
            return;
        }
    }
}
