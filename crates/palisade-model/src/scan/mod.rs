//! `palisade model scan`: finds code execution and malformed structure in
//! model files.
//!
//! Formats are recognised by content, never by file name: pickle (protocols
//! 0 to 5, several pickles in one stream), PyTorch zip archives, legacy tar
//! and raw checkpoints, NumPy `.npy`/`.npz`, joblib (plain, gzip, zlib),
//! Keras `.keras`, safetensors, GGUF and ONNX. Every parser reads through a
//! bounded [`source`] and skips payloads, so a file of any size is scanned in
//! constant memory. Problems are [`Hit`]s, turned into
//! `palisade_core::Finding`s whose resource is the file and whose
//! `location.path` says where inside it:
//!
//! - `offset 1234` — a byte offset in the file itself;
//! - `archive/data.pkl@offset 1234` — a byte offset inside a zip or tar
//!   entry (`!` separates nested containers: `a.npz!x.npy@offset 128`);
//! - `header.weight.data_offsets`, `kv tokenizer.chat_template`,
//!   `config.json: config.layers[2]` — a field of a structured header.

// Byte-level parsers use the conventional short names (b for a buffer, i for
// an index, n for a length).
#![allow(clippy::many_single_char_names)]
// Decoders match on what they read; `match` with an `else`-like arm reads
// better there than nested `if let`.
#![allow(clippy::single_match_else)]

mod ctx;
pub(crate) mod gguf;
mod jinja;
mod keras;
pub(crate) mod numpy;
mod onnx;
pub(crate) mod pickle;
mod policy;
pub mod rules;
mod safetensors;
pub(crate) mod source;
mod tar;
mod value;
mod zip;

pub use ctx::{Hit, Limits};

use ctx::Ctx;
use palisade_core::finding::{FindingReferences, fingerprint};
use palisade_core::{Diagnostic, Finding, Location, Report, ResourceRef, Severity};
use source::{RandomAccess, Source, Stream, window};
use std::borrow::Cow;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Options of a model scan.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Limits on hostile input.
    pub limits: Limits,
}

/// What scanning one file found.
#[derive(Debug, Clone)]
pub struct FileScan {
    /// Formats recognised (`pickle`, `pytorch-zip`, `safetensors`...), in
    /// the order met; empty when the file is not a model format.
    pub formats: Vec<&'static str>,
    /// Problems found.
    pub hits: Vec<Hit>,
}

/// What a sniff of the first bytes says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zip,
    Tar,
    Npy,
    Gguf,
    Safetensors,
    Hdf5,
    Gzip,
    Zlib,
    Unsupported(&'static str),
    /// Starts with PROTO: certainly a pickle.
    Pickle,
    /// Starts with an opcode of protocols 0/1: perhaps a pickle.
    MaybePickle,
    Onnx,
    Json,
    Unknown,
}

/// Bytes sniffed from the start of an input.
const HEAD: usize = 512;

fn sniff(head: &[u8], len: u64) -> Kind {
    let starts = |m: &[u8]| head.starts_with(m);
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        return Kind::Zip;
    }
    if starts(b"\x93NUMPY") {
        return Kind::Npy;
    }
    if starts(b"GGUF") {
        return Kind::Gguf;
    }
    if starts(b"\x89HDF\r\n\x1a\n") {
        return Kind::Hdf5;
    }
    if starts(b"\x1f\x8b") {
        return Kind::Gzip;
    }
    if starts(b"\xfd7zXZ\x00") {
        return Kind::Unsupported("xz");
    }
    if starts(b"BZh") && head.len() > 3 && head[3].is_ascii_digit() {
        return Kind::Unsupported("bzip2");
    }
    if starts(b"\x04\x22\x4d\x18") {
        return Kind::Unsupported("lz4");
    }
    if starts(b"7z\xbc\xaf\x27\x1c") {
        return Kind::Unsupported("7z");
    }
    if starts(b"\x28\xb5\x2f\xfd") {
        return Kind::Unsupported("zstd");
    }
    if head.len() >= 9 {
        let n = u64::from_le_bytes([
            head[0], head[1], head[2], head[3], head[4], head[5], head[6], head[7],
        ]);
        if head[8] == b'{' && n >= 2 && n <= len.saturating_sub(8) {
            return Kind::Safetensors;
        }
    }
    if head.len() >= 262 && &head[257..262] == b"ustar" {
        return Kind::Tar;
    }
    if head.len() >= 2 && head[0] == 0x80 && head[1] <= 5 {
        return Kind::Pickle;
    }
    if head.len() >= 2
        && head[0] == 0x78
        && (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 == 0
    {
        return Kind::Zlib;
    }
    if onnx::looks_like(head) {
        return Kind::Onnx;
    }
    let first_non_ws = head.iter().find(|b| !b.is_ascii_whitespace());
    if first_non_ws == Some(&b'{') {
        return Kind::Json;
    }
    if head
        .first()
        .is_some_and(|&b| b"(cNIJKLMFGSTUVX)]}ghjpqrPi".contains(&b))
    {
        return Kind::MaybePickle;
    }
    Kind::Unknown
}

fn read_head<S: Source + ?Sized>(src: &mut S) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD);
    while head.len() < HEAD {
        match src.read_byte()? {
            Some(b) => head.push(b),
            None => break,
        }
    }
    Ok(head)
}

/// Scans `a[start..start+len]`, which can be read at any position.
fn scan_random<A: RandomAccess + ?Sized>(
    a: &A,
    start: u64,
    len: u64,
    ctx: &mut Ctx,
    dir: Option<&Path>,
) -> io::Result<()> {
    let mut head = vec![0u8; HEAD.min(usize::try_from(len).unwrap_or(HEAD))];
    source::read_exact_at(a, &mut head, start)?;
    let kind = sniff(&head, len);
    match kind {
        Kind::Zip => scan_zip(a, start, len, ctx, dir),
        Kind::Onnx => {
            let mut w = window(a, start, len)?;
            onnx::scan(&mut w, ctx, dir);
            Ok(())
        }
        _ => {
            let mut w = window(a, start, len)?;
            scan_kind(&mut w, kind, ctx)?;
            // A pickle with a zip appended: Python's zipfile (numpy, joblib
            // helpers) finds the archive from its end record.
            // Unknown data is checked only as a file of its own: inside an
            // archive it is tensor bytes, which no loader opens as a zip.
            let polyglot_kind = matches!(kind, Kind::Pickle | Kind::MaybePickle)
                || (kind == Kind::Unknown && ctx.depth() == 0);
            if polyglot_kind && zip::has_eocd(a, start, len) {
                ctx.report(
                    &rules::ARCHIVE_ANOMALY,
                    ctx.at_field(""),
                    "the file does not start like a zip archive but ends with a zip end record (a polyglot); its zip entries were scanned too".into(),
                    "polyglot",
                );
                scan_zip(a, start, len, ctx, dir)?;
            }
            Ok(())
        }
    }
}

/// Scans a forward-only stream.
fn scan_stream(src: &mut dyn Source, ctx: &mut Ctx) -> io::Result<()> {
    let head = read_head(src)?;
    let len = src.remaining().map_or(u64::MAX, |r| r + head.len() as u64);
    let kind = sniff(&head, len);
    if kind == Kind::Zip {
        // A zip needs random access: hold it in memory when small enough.
        let total = len;
        if total > 256 << 20 {
            ctx.report(
                &rules::LIMIT_EXCEEDED,
                ctx.at_field(""),
                "a compressed entry holds a zip archive larger than 256 MiB; it was not scanned"
                    .into(),
                "nested-zip",
            );
            return Ok(());
        }
        let mut buf = head;
        let mut rest = vec![0u8; usize::try_from(src.remaining().unwrap_or(0)).unwrap_or(0)];
        src.read_exact(&mut rest)?;
        buf.extend_from_slice(&rest);
        return scan_zip(&buf[..], 0, buf.len() as u64, ctx, None);
    }
    let rest = SourceReader(src);
    let mut chained = Stream::new(io::Cursor::new(head).chain(rest), Some(len));
    scan_kind(&mut chained, kind, ctx)
}

/// `Read` over a `Source`.
struct SourceReader<'a, S: Source + ?Sized>(&'a mut S);

impl<S: Source + ?Sized> Read for SourceReader<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            match self.0.read_byte()? {
                Some(b) => {
                    buf[n] = b;
                    n += 1;
                }
                None => break,
            }
            if n >= 8192 {
                break;
            }
        }
        Ok(n)
    }
}

/// Scans a source positioned at its first byte, already sniffed as `kind`.
fn scan_kind<S: Source + ?Sized>(src: &mut S, kind: Kind, ctx: &mut Ctx) -> io::Result<()> {
    match kind {
        Kind::Pickle | Kind::MaybePickle => {
            let definite = kind == Kind::Pickle;
            let out = pickle::scan_guess(src, ctx, !definite);
            if out.any && (definite || out.complete > 0) {
                ctx.saw(if out.legacy_torch {
                    "pytorch-legacy"
                } else {
                    "pickle"
                });
                ctx.pickles += 1;
            }
        }
        Kind::Npy => numpy::scan(src, ctx),
        Kind::Gguf => gguf::scan(src, ctx),
        Kind::Safetensors => safetensors::scan(src, ctx),
        Kind::Tar => tar::scan(src, ctx)?,
        Kind::Json => keras::scan_json(src, ctx),
        Kind::Hdf5 => keras::scan_hdf5(src, ctx),
        Kind::Gzip | Kind::Zlib => {
            if ctx.depth() >= ctx.limits.max_depth {
                return Ok(());
            }
            ctx.saw(if kind == Kind::Gzip { "gzip" } else { "zlib" });
            let reader = SourceReader(src);
            let name = if kind == Kind::Gzip { "gzip" } else { "zlib" };
            ctx.within(name, |ctx| {
                let res = if kind == Kind::Gzip {
                    let mut s = Stream::new(flate2::read::MultiGzDecoder::new(reader), None);
                    scan_stream(&mut s, ctx)
                } else {
                    let mut s = Stream::new(flate2::read::ZlibDecoder::new(reader), None);
                    scan_stream(&mut s, ctx)
                };
                if let Err(e) = res {
                    ctx.report(
                        &rules::MALFORMED_PICKLE,
                        ctx.at_field(""),
                        format!("the {name} stream cannot be decompressed: {e}"),
                        "decompress",
                    );
                }
            });
        }
        Kind::Unsupported(what) => {
            ctx.report(
                &rules::UNSCANNED_CONTAINER,
                ctx.at_field(""),
                format!("{what}-compressed data (joblib and others write pickles this way); it was not decompressed"),
                what,
            );
        }
        Kind::Zip | Kind::Onnx | Kind::Unknown => {}
    }
    Ok(())
}

fn scan_zip<A: RandomAccess + ?Sized>(
    a: &A,
    start: u64,
    len: u64,
    ctx: &mut Ctx,
    dir: Option<&Path>,
) -> io::Result<()> {
    if ctx.depth() >= ctx.limits.max_depth {
        ctx.report(
            &rules::LIMIT_EXCEEDED,
            ctx.at_field(""),
            format!(
                "archives nested more than {} deep; the inner one was not scanned",
                ctx.limits.max_depth
            ),
            "depth",
        );
        return Ok(());
    }
    let entries = match zip::entries(a, start, len, ctx) {
        Ok(e) => e,
        Err(why) => {
            ctx.report(
                &rules::ARCHIVE_ANOMALY,
                ctx.at_field(""),
                format!("zip archive cannot be read: {why}"),
                "structure",
            );
            return Ok(());
        }
    };
    ctx.saw("zip");
    if entries.iter().any(|e| e.name.ends_with("data.pkl")) {
        ctx.saw("pytorch-zip");
    }
    for e in &entries {
        if e.name.ends_with('/') && e.usize == 0 {
            continue;
        }
        let data = match zip::data_start(a, start, len, e, ctx) {
            Ok(d) => d,
            Err(why) => {
                ctx.report(
                    &rules::ARCHIVE_ANOMALY,
                    ctx.at_field(&e.name),
                    why,
                    "bounds",
                );
                continue;
            }
        };
        zip::check_flags(e, ctx);
        let name = e.name.clone();
        let (seen_before, hits_before) = (ctx.recognised, ctx.hits.len() + ctx.suppressed as usize);
        let inflated = ctx.within(&name, |ctx| -> io::Result<_> {
            match e.method {
                0 => {
                    let n = e.csize.min(e.usize.max(e.csize));
                    if let Err(err) = scan_random(a, start + data, n, ctx, dir) {
                        ctx.report(&rules::ARCHIVE_ANOMALY, ctx.at_field(""), format!("entry cannot be read: {err}"), "read");
                    }
                    Ok(None)
                }
                8 => {
                    // One pass: the inflated bytes are checksummed as the
                    // scan reads them, and the rest is drained after it.
                    let w = window(a, start + data, e.csize)?;
                    let inflate = zip::CrcRead::new(flate2::read::DeflateDecoder::new(w));
                    let mut s = Stream::new(inflate, Some(e.usize));
                    if let Err(err) = scan_stream(&mut s, ctx) {
                        ctx.report(&rules::ARCHIVE_ANOMALY, ctx.at_field(""), format!("entry cannot be inflated: {err}"), "inflate");
                    }
                    Ok(Some(s.into_inner()))
                }
                m => {
                    ctx.report(
                        &rules::UNSCANNED_CONTAINER,
                        ctx.at_field(""),
                        format!("entry is compressed with zip method {m}, which this scanner does not decode"),
                        "method",
                    );
                    Ok(None)
                }
            }
        })?;
        // The CRC matters where a loader reads the entry as a format (a
        // pickle, an array, a config): Python's zipfile refuses a mismatch
        // there. Raw tensor bytes are read by nothing that checks it.
        if ctx.recognised == seen_before && ctx.hits.len() + ctx.suppressed as usize == hits_before
        {
            continue;
        }
        match inflated {
            Some(r) => zip::finish_deflated_crc(r, e, ctx),
            None if e.method == 0 => zip::check_stored_crc(a, start + data, e, ctx),
            None => {}
        }
    }
    Ok(())
}

fn finish(mut ctx: Ctx) -> FileScan {
    let pickle_hits = ctx.hits.iter().any(|h| {
        matches!(
            h.rule.id,
            "PLS-MDL-101" | "PLS-MDL-102" | "PLS-MDL-103" | "PLS-MDL-104"
        )
    });
    if ctx.pickles > 0 && !pickle_hits {
        let n = ctx.pickles;
        ctx.report(
            &rules::PICKLE_FORMAT,
            String::new(),
            format!(
                "the file holds {n} pickle stream{}; every global it imports is on the checkpoint allowlist, but loading it still runs the unpickler",
                if n == 1 { "" } else { "s" }
            ),
            "",
        );
    }
    if ctx.suppressed > 0 {
        let worst = ctx.hits.iter().map(|h| h.severity).max();
        let n = ctx.suppressed;
        ctx.hits.push(Hit {
            rule: &rules::LIMIT_EXCEEDED,
            severity: worst.unwrap_or(Severity::High).max(Severity::High),
            path: String::new(),
            message: format!(
                "{n} more findings in this file were not listed (at most {} per file are)",
                ctx.limits.max_hits
            ),
            key: "suppressed".into(),
        });
    }
    FileScan {
        formats: ctx.formats,
        hits: ctx.hits,
    }
}

/// Scans one file on disk. ONNX external data is resolved next to it.
pub fn scan_file(path: &Path, opts: &Options) -> io::Result<FileScan> {
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let mut ctx = Ctx::new(opts.limits);
    let dir = path.parent().map(|p| {
        if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        }
    });
    if len > 0 {
        scan_random(&file, 0, len, &mut ctx, dir)?;
    }
    Ok(finish(ctx))
}

/// Scans bytes in memory (tests, fuzzing). ONNX external data is not resolved.
pub fn scan_bytes(data: &[u8], opts: &Options) -> FileScan {
    let mut ctx = Ctx::new(opts.limits);
    if !data.is_empty()
        && let Err(e) = scan_random(data, 0, data.len() as u64, &mut ctx, None)
    {
        ctx.report(
            &rules::MALFORMED_PICKLE,
            String::new(),
            format!("read error: {e}"),
            "io",
        );
    }
    finish(ctx)
}

/// The files under `paths`: files as given, folders walked recursively
/// (symbolic links to files followed, to folders not), sorted.
fn collect(paths: &[PathBuf], diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut found: Vec<PathBuf> = Vec::new();
                for entry in walkdir::WalkDir::new(p).follow_links(false) {
                    match entry {
                        Ok(e) => {
                            let is_file = e.file_type().is_file()
                                || (e.file_type().is_symlink()
                                    && std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()));
                            if is_file && !e.path().components().any(|c| c.as_os_str() == ".git") {
                                found.push(e.into_path());
                            }
                        }
                        Err(e) => diagnostics.push(Diagnostic {
                            file: e.path().map_or_else(
                                || p.display().to_string(),
                                |x| x.display().to_string(),
                            ),
                            line: 0,
                            column: 0,
                            message: format!("cannot read: {e}"),
                        }),
                    }
                }
                found.sort();
                files.extend(found);
            }
            Ok(_) => files.push(p.clone()),
            Err(e) => diagnostics.push(Diagnostic {
                file: p.display().to_string(),
                line: 0,
                column: 0,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    files
}

/// Turns a file's hits into findings.
fn findings(file: &str, hits: Vec<Hit>) -> Vec<Finding> {
    let resource = ResourceRef {
        api_version: String::new(),
        kind: "ModelFile".into(),
        namespace: None,
        name: file.to_owned(),
    };
    hits.into_iter()
        .map(|mut h| {
            // Name the container entry in the message too: the table shows
            // the file, not the path inside it.
            let entry = h
                .path
                .split_once('@')
                .map(|(e, _)| e)
                .or_else(|| h.path.split_once(": ").map(|(e, _)| e));
            if let Some(entry) = entry {
                h.message = format!("in {entry}: {}", h.message);
            }
            h
        })
        .map(|h| Finding {
            rule: Cow::Borrowed(h.rule.id),
            title: Cow::Borrowed(h.rule.title),
            severity: h.severity,
            category: Cow::Borrowed(h.rule.category),
            fingerprint: fingerprint(h.rule.id, &resource, &h.path, &h.key),
            resource: resource.clone(),
            location: Location {
                file: file.to_owned(),
                line: 0,
                column: 0,
                path: h.path,
                rendered: None,
            },
            message: h.message,
            remediation: Cow::Borrowed(h.rule.remediation),
            references: FindingReferences::from(&h.rule.references),
        })
        .collect()
}

/// Scans files and folders into a report. Files that are no model format
/// are counted but give nothing; unreadable ones are diagnostics.
pub fn scan_paths(paths: &[PathBuf], opts: &Options) -> Report {
    let mut report = Report::default();
    let files = collect(paths, &mut report.diagnostics);
    report.files = files.len();
    for f in &files {
        let name = f.display().to_string();
        match scan_file(f, opts) {
            Ok(scan) => {
                if !scan.formats.is_empty() || !scan.hits.is_empty() {
                    report.resources += 1;
                }
                report.findings.extend(findings(&name, scan.hits));
            }
            Err(e) => report.diagnostics.push(Diagnostic {
                file: name,
                line: 0,
                column: 0,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    report.rules = rules::ALL.iter().map(|r| **r).collect();
    report.sort();
    report
}

/// The most severe finding of a scan, if any (for callers deciding quickly).
pub fn worst(scan: &FileScan) -> Option<Severity> {
    scan.hits.iter().map(|h| h.severity).max()
}
