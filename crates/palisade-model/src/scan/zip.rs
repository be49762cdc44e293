//! Zip archives (PyTorch checkpoints, `.npz`, `.keras`), read from the
//! central directory the way PyTorch's reader (miniz) reads them: the end
//! record is searched from the end, every central entry is followed to its
//! local header, and the data starts after the local header's own name and
//! extra field. CRCs are not required to match, general-purpose flag bits
//! (encryption, patch data) are ignored and names may differ between the
//! two headers, exactly the tolerance that made Python's `zipfile`, and the
//! scanners built on it, give up on archives PyTorch loads. Each oddity is
//! reported; every entry is scanned by content whatever its name.
//!
//! The `zip` crate was not used: it refuses some of these archives (as
//! Python does), and building its index allocates per entry before any
//! limit can be applied.

use super::ctx::{Ctx, shown};
use super::rules;
use super::source::{RandomAccess, read_exact_at};

const EOCD: u32 = 0x0605_4b50;
const EOCD64: u32 = 0x0606_4b50;
const LOCATOR64: u32 = 0x0706_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const LOCAL: u32 = 0x0403_4b50;

/// One entry, as the central directory describes it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) flags: u16,
    pub(crate) method: u16,
    pub(crate) crc: u32,
    pub(crate) csize: u64,
    pub(crate) usize: u64,
    pub(crate) local: u64,
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}
fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}
fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(a)
}

/// Whether the end of `a[start..start+len]` holds an end-of-central-directory record.
pub(crate) fn has_eocd<A: RandomAccess + ?Sized>(a: &A, start: u64, len: u64) -> bool {
    find_eocd(a, start, len).is_some()
}

/// Offset (relative to `start`) of the end record, searched backwards.
fn find_eocd<A: RandomAccess + ?Sized>(a: &A, start: u64, len: u64) -> Option<u64> {
    if len < 22 {
        return None;
    }
    let tail = len.min(65_535 + 22);
    let mut buf = vec![0u8; tail as usize];
    read_exact_at(a, &mut buf, start + len - tail).ok()?;
    // Backwards over the 'P' bytes only: this runs on every pickle and
    // unknown entry (polyglot check), so it must cost little more than a
    // memory scan.
    let mut end = buf.len() - 22 + 1;
    while let Some(i) = buf[..end].iter().rposition(|&b| b == b'P') {
        if u32_at(&buf, i) == EOCD {
            return Some(len - tail + i as u64);
        }
        end = i;
    }
    None
}

/// Reads the central directory; errors are messages for a finding.
pub(crate) fn entries<A: RandomAccess + ?Sized>(
    a: &A,
    start: u64,
    len: u64,
    ctx: &mut Ctx,
) -> Result<Vec<Entry>, String> {
    let eocd = find_eocd(a, start, len).ok_or("no end of central directory record")?;
    let mut rec = [0u8; 22];
    read_exact_at(a, &mut rec, start + eocd).map_err(|e| e.to_string())?;
    let mut zip64 = false;
    let mut count = u64::from(u16_at(&rec, 10));
    let mut cd_size = u64::from(u32_at(&rec, 12));
    let mut cd_off = u64::from(u32_at(&rec, 16));
    if (count == 0xffff || cd_size == 0xffff_ffff || cd_off == 0xffff_ffff) && eocd >= 20 {
        let mut loc = [0u8; 20];
        read_exact_at(a, &mut loc, start + eocd - 20).map_err(|e| e.to_string())?;
        if u32_at(&loc, 0) == LOCATOR64 {
            let off64 = u64_at(&loc, 8);
            if off64.checked_add(56).is_none_or(|e| e > len) {
                return Err("zip64 end record lies outside the archive".into());
            }
            let mut r = [0u8; 56];
            read_exact_at(a, &mut r, start + off64).map_err(|e| e.to_string())?;
            if u32_at(&r, 0) != EOCD64 {
                return Err("zip64 locator does not point at a zip64 end record".into());
            }
            zip64 = true;
            count = u64_at(&r, 32);
            cd_size = u64_at(&r, 40);
            cd_off = u64_at(&r, 48);
        }
    }
    // Data prepended to the archive (a pickle with a zip appended): the
    // recorded offsets are then short of the real ones by the prefix, which
    // Python's zipfile detects from where the end record really is.
    let mut shift = 0u64;
    let mut sig = [0u8; 4];
    let at_recorded =
        read_exact_at(a, &mut sig, start + cd_off).is_ok() && u32::from_le_bytes(sig) == CENTRAL;
    if !at_recorded && cd_size > 0 {
        let expected_end = eocd.saturating_sub(if zip64 { 76 } else { 0 });
        if let Some(concat) = expected_end
            .checked_sub(cd_size)
            .and_then(|x| x.checked_sub(cd_off))
            && concat > 0
            && read_exact_at(a, &mut sig, start + cd_off + concat).is_ok()
            && u32::from_le_bytes(sig) == CENTRAL
        {
            shift = concat;
            cd_off += concat;
        }
    }
    if cd_off.checked_add(cd_size).is_none_or(|e| e > len) {
        return Err(format!(
            "central directory ({cd_size} bytes at {cd_off}) lies outside the archive"
        ));
    }
    if count > ctx.limits.max_entries as u64 || count > cd_size / 46 + 1 {
        return Err(format!(
            "central directory claims {count} entries, more than it can hold or the limit allows"
        ));
    }
    if cd_size > 1 << 30 {
        return Err("central directory larger than 1 GiB".into());
    }
    let mut cd = vec![0u8; cd_size as usize];
    read_exact_at(a, &mut cd, start + cd_off).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(count as usize);
    let mut i = 0usize;
    for n in 0..count {
        if i + 46 > cd.len() || u32_at(&cd, i) != CENTRAL {
            return Err(format!(
                "central directory entry {n} is truncated or has a bad signature"
            ));
        }
        let flags = u16_at(&cd, i + 8);
        let method = u16_at(&cd, i + 10);
        let crc = u32_at(&cd, i + 16);
        let mut csize = u64::from(u32_at(&cd, i + 20));
        let mut usize_ = u64::from(u32_at(&cd, i + 24));
        let nlen = usize::from(u16_at(&cd, i + 28));
        let elen = usize::from(u16_at(&cd, i + 30));
        let clen = usize::from(u16_at(&cd, i + 32));
        let mut local = u64::from(u32_at(&cd, i + 42));
        let adjust = shift;
        let end = i + 46 + nlen + elen + clen;
        if end > cd.len() {
            return Err(format!(
                "central directory entry {n} runs past the directory"
            ));
        }
        let name = String::from_utf8_lossy(&cd[i + 46..i + 46 + nlen]).into_owned();
        // zip64 extra field: the 0xffffffff fields, in order.
        let mut x = i + 46 + nlen;
        let xend = x + elen;
        while x + 4 <= xend {
            let id = u16_at(&cd, x);
            let sz = usize::from(u16_at(&cd, x + 2));
            let body = x + 4;
            if body + sz > xend {
                break;
            }
            if id == 1 {
                let mut p = body;
                for field in [&mut usize_, &mut csize, &mut local] {
                    if *field == 0xffff_ffff && p + 8 <= body + sz {
                        *field = u64_at(&cd, p);
                        p += 8;
                    }
                }
            }
            x = body + sz;
        }
        local = local.saturating_add(adjust);
        out.push(Entry {
            name,
            flags,
            method,
            crc,
            csize,
            usize: usize_,
            local,
        });
        i = end;
    }
    Ok(out)
}

/// Where an entry's data starts, after its local header.
pub(crate) fn data_start<A: RandomAccess + ?Sized>(
    a: &A,
    start: u64,
    len: u64,
    e: &Entry,
    ctx: &mut Ctx,
) -> Result<u64, String> {
    if e.local.checked_add(30).is_none_or(|x| x > len) {
        return Err(format!(
            "entry {:?} has its local header outside the archive",
            shown(&e.name, 80)
        ));
    }
    let mut h = [0u8; 30];
    read_exact_at(a, &mut h, start + e.local).map_err(|err| err.to_string())?;
    if u32_at(&h, 0) != LOCAL {
        return Err(format!(
            "entry {:?} does not point at a local header",
            shown(&e.name, 80)
        ));
    }
    let nlen = u64::from(u16_at(&h, 26));
    let elen = u64::from(u16_at(&h, 28));
    let data = e.local + 30 + nlen + elen;
    if nlen > 0 && nlen < 4096 {
        let mut n = vec![0u8; nlen as usize];
        if read_exact_at(a, &mut n, start + e.local + 30).is_ok() && n != e.name.as_bytes() {
            ctx.report(
                &rules::ARCHIVE_ANOMALY,
                ctx.at_field(&e.name),
                format!(
                    "the local header names {:?} while the central directory names {:?}; readers disagree on which it is",
                    shown(&String::from_utf8_lossy(&n), 80),
                    shown(&e.name, 80)
                ),
                "name-mismatch",
            );
        }
    }
    if data.checked_add(e.csize).is_none_or(|x| x > len) {
        return Err(format!(
            "entry {:?} claims {} bytes of data at offset {data}, past the end of the archive",
            shown(&e.name, 80),
            e.csize
        ));
    }
    Ok(data)
}

/// Reports flag bits that make strict readers refuse the entry.
pub(crate) fn check_flags(e: &Entry, ctx: &mut Ctx) {
    let odd = e.flags & (0x0001 | 0x0020 | 0x0040);
    if odd != 0 {
        ctx.report(
            &rules::ARCHIVE_ANOMALY,
            ctx.at_field(&e.name),
            format!(
                "entry {:?} sets general-purpose flag bits 0x{odd:04x} (encryption / patch data): Python's zipfile refuses it, PyTorch's reader ignores the bits and loads it; scanned as plain data",
                shown(&e.name, 80)
            ),
            "flags",
        );
    }
}

/// Entries up to this size (uncompressed) have their CRC-32 checked.
pub(crate) const CRC_MAX: u64 = 16 << 20;

/// Counts and checksums the bytes read through it, so an entry's CRC is
/// computed in the same pass that scans it.
#[derive(Debug)]
pub(crate) struct CrcRead<R> {
    inner: R,
    crc: flate2::Crc,
    failed: bool,
}

impl<R: std::io::Read> CrcRead<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            crc: flate2::Crc::new(),
            failed: false,
        }
    }
}

impl<R: std::io::Read> std::io::Read for CrcRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.crc.update(&buf[..n]);
                Ok(n)
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }
}

/// Reads the rest of a deflated entry through its checksum (at most up to
/// [`CRC_MAX`] bytes in all) and reports a CRC mismatch.
pub(crate) fn finish_deflated_crc<R: std::io::Read>(mut r: CrcRead<R>, e: &Entry, ctx: &mut Ctx) {
    if e.usize > CRC_MAX || r.failed {
        return;
    }
    let left = (CRC_MAX + 1).saturating_sub(u64::from(r.crc.amount()));
    match std::io::copy(&mut std::io::Read::take(&mut r, left), &mut std::io::sink()) {
        Ok(_) if !r.failed && u64::from(r.crc.amount()) <= CRC_MAX => {
            report_crc(r.crc.sum(), e, ctx);
        }
        _ => {}
    }
}

/// Checks the CRC of a stored entry of at most [`CRC_MAX`] bytes, reading
/// it through a fixed buffer.
pub(crate) fn check_stored_crc<A: RandomAccess + ?Sized>(
    a: &A,
    data: u64,
    e: &Entry,
    ctx: &mut Ctx,
) {
    if e.csize > CRC_MAX {
        return;
    }
    let mut crc = flate2::Crc::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut at = 0u64;
    while at < e.csize {
        let n = usize::try_from((e.csize - at).min(buf.len() as u64)).unwrap_or(buf.len());
        if read_exact_at(a, &mut buf[..n], data + at).is_err() {
            return;
        }
        crc.update(&buf[..n]);
        at += n as u64;
    }
    report_crc(crc.sum(), e, ctx);
}

/// PyTorch does not check CRCs; Python's zipfile does, and refuses the
/// whole archive on a mismatch.
fn report_crc(sum: u32, e: &Entry, ctx: &mut Ctx) {
    if sum != e.crc {
        ctx.report(
            &rules::ARCHIVE_ANOMALY,
            ctx.at_field(&e.name),
            format!(
                "entry {:?} has CRC-32 0x{sum:08x} but the directory says 0x{:08x}: Python's zipfile refuses it, PyTorch loads it",
                shown(&e.name, 80),
                e.crc
            ),
            "crc",
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::scan::{Options, scan_bytes};
    use std::io::Write;

    /// A one-entry zip archive (`method` 0 or 8) whose directory records `crc`.
    fn archive(name: &str, data: &[u8], method: u16, crc: u32) -> Vec<u8> {
        let body = if method == 8 {
            let mut e =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        } else {
            data.to_vec()
        };
        let fields = |z: &mut Vec<u8>| {
            z.extend_from_slice(&0u16.to_le_bytes()); // flags
            z.extend_from_slice(&method.to_le_bytes());
            z.extend_from_slice(&[0; 4]); // time, date
            z.extend_from_slice(&crc.to_le_bytes());
            z.extend_from_slice(&(body.len() as u32).to_le_bytes());
            z.extend_from_slice(&(data.len() as u32).to_le_bytes());
            z.extend_from_slice(&(name.len() as u16).to_le_bytes());
            z.extend_from_slice(&0u16.to_le_bytes()); // extra
        };
        let mut z = b"PK\x03\x04\x14\x00".to_vec();
        fields(&mut z);
        z.extend_from_slice(name.as_bytes());
        z.extend_from_slice(&body);
        let cd = z.len();
        z.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00");
        fields(&mut z);
        z.extend_from_slice(&[0; 8]); // comment len, disk, attrs
        z.extend_from_slice(&[0; 4]); // external attrs
        z.extend_from_slice(&0u32.to_le_bytes()); // local header offset
        z.extend_from_slice(name.as_bytes());
        let cd_size = z.len() - cd;
        z.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00");
        z.extend_from_slice(&(cd_size as u32).to_le_bytes());
        z.extend_from_slice(&(cd as u32).to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        z
    }

    fn crc_hits(z: &[u8]) -> usize {
        let scan = scan_bytes(z, &Options::default());
        scan.hits.iter().filter(|h| h.key == "crc").count()
    }

    #[test]
    fn crcs_are_checked_in_the_scanning_pass() {
        // A format the scan reads only the head of (an .npy array): the
        // rest is still checksummed.
        let mut data = b"\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, 'shape': (75000,), }".to_vec();
        data.resize(128, b' ');
        data[127] = b'\n';
        data.extend((0..300_000u32).map(|i| (i % 251) as u8));
        let good = crc32(&data);
        for method in [0u16, 8] {
            let ok = archive("w/x.npy", &data, method, good);
            assert_eq!(crc_hits(&ok), 0, "method {method}");
            let bad = archive("w/x.npy", &data, method, good ^ 1);
            assert_eq!(crc_hits(&bad), 1, "method {method}");
        }
        // Raw tensor bytes: no loader checks their CRC, nor does the scan.
        let raw: Vec<u8> = (0..300_000u32).map(|i| (i % 13) as u8 + 0xa0).collect();
        assert_eq!(crc_hits(&archive("w/data/0", &raw, 0, 1)), 0);
        assert_eq!(crc_hits(&archive("w/data/0", &raw, 8, 1)), 0);
        // A pickle entry, read to its STOP.
        let pkl = b"\x80\x02}q\x00.";
        assert_eq!(crc_hits(&archive("w/data.pkl", pkl, 8, crc32(pkl))), 0);
        assert_eq!(crc_hits(&archive("w/data.pkl", pkl, 8, 7)), 1);
    }

    fn crc32(b: &[u8]) -> u32 {
        let mut c = flate2::Crc::new();
        c.update(b);
        c.sum()
    }
}
