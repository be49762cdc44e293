//! GGUF (versions 1 to 3), read as a stream with every length and count
//! checked against the bytes left before anything is allocated or skipped:
//! header counts, key and string lengths, array counts times element sizes,
//! tensor dimensions (at most 4, products that do not overflow), tensor
//! types and their block sizes, alignment, and tensor offsets that must
//! follow each other exactly as llama.cpp's loader requires, inside the file.
//! `tokenizer.chat_template` (and named `tokenizer.chat_template.*`
//! templates) are checked for Jinja template injection.

use super::ctx::{Ctx, shown};
use super::jinja;
use super::rules;
use super::source::Source;
use std::collections::HashSet;

const MAX_REPORTS: usize = 50;

/// Elements per block and bytes per block of a ggml type.
fn ggml_type(t: u32) -> Option<(u64, u64, &'static str)> {
    Some(match t {
        0 => (1, 4, "F32"),
        1 => (1, 2, "F16"),
        2 => (32, 18, "Q4_0"),
        3 => (32, 20, "Q4_1"),
        6 => (32, 22, "Q5_0"),
        7 => (32, 24, "Q5_1"),
        8 => (32, 34, "Q8_0"),
        9 => (32, 36, "Q8_1"),
        10 => (256, 84, "Q2_K"),
        11 => (256, 110, "Q3_K"),
        12 => (256, 144, "Q4_K"),
        13 => (256, 176, "Q5_K"),
        14 => (256, 210, "Q6_K"),
        15 => (256, 292, "Q8_K"),
        16 => (256, 66, "IQ2_XXS"),
        17 => (256, 74, "IQ2_XS"),
        18 => (256, 98, "IQ3_XXS"),
        19 => (256, 50, "IQ1_S"),
        20 => (32, 18, "IQ4_NL"),
        21 => (256, 110, "IQ3_S"),
        22 => (256, 82, "IQ2_S"),
        23 => (256, 136, "IQ4_XS"),
        24 => (1, 1, "I8"),
        25 => (1, 2, "I16"),
        26 => (1, 4, "I32"),
        27 => (1, 8, "I64"),
        28 => (1, 8, "F64"),
        29 => (256, 56, "IQ1_M"),
        30 => (1, 2, "BF16"),
        34 => (256, 54, "TQ1_0"),
        35 => (256, 66, "TQ2_0"),
        39 => (32, 17, "MXFP4"),
        _ => return None,
    })
}

/// Fixed size of a metadata value type, `None` for strings and arrays.
#[allow(clippy::option_option)] // None: unknown type; Some(None): variable size
fn fixed_size(t: u32) -> Option<Option<u64>> {
    Some(match t {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        8 | 9 => None,
        _ => return None,
    })
}

struct Reader<'s, S: Source + ?Sized> {
    src: &'s mut S,
    v1: bool,
}

#[derive(Debug)]
struct Bad(String);

impl<S: Source + ?Sized> Reader<'_, S> {
    fn bytes<const N: usize>(&mut self, what: &str) -> Result<[u8; N], Bad> {
        let mut b = [0u8; N];
        self.src.read_exact(&mut b).map_err(|_| {
            Bad(format!(
                "file ends inside {what} at offset {}",
                self.src.pos()
            ))
        })?;
        Ok(b)
    }
    fn u32(&mut self, what: &str) -> Result<u32, Bad> {
        Ok(u32::from_le_bytes(self.bytes::<4>(what)?))
    }
    fn u64(&mut self, what: &str) -> Result<u64, Bad> {
        Ok(u64::from_le_bytes(self.bytes::<8>(what)?))
    }
    /// A count or length: u32 in version 1, u64 after.
    fn size(&mut self, what: &str) -> Result<u64, Bad> {
        if self.v1 {
            self.u32(what).map(u64::from)
        } else {
            self.u64(what)
        }
    }
    fn check(&self, need: u64, what: &str) -> Result<(), Bad> {
        match self.src.remaining() {
            Some(left) if need > left => Err(Bad(format!(
                "{what} needs {need} bytes at offset {} but only {left} remain",
                self.src.pos()
            ))),
            _ => Ok(()),
        }
    }
    /// A string, kept up to `keep` bytes.
    fn string(&mut self, what: &str, keep: u64) -> Result<(Vec<u8>, u64), Bad> {
        let n = self.size(what)?;
        self.check(n, &format!("{what} of {n} bytes"))?;
        if n <= keep {
            let mut b = vec![0u8; n as usize];
            self.src
                .read_exact(&mut b)
                .map_err(|_| Bad(format!("file ends inside {what}")))?;
            Ok((b, n))
        } else {
            let mut b = vec![0u8; keep as usize];
            self.src
                .read_exact(&mut b)
                .map_err(|_| Bad(format!("file ends inside {what}")))?;
            self.src
                .skip(n - keep)
                .map_err(|_| Bad(format!("file ends inside {what}")))?;
            Ok((b, n))
        }
    }
    fn skip(&mut self, n: u64, what: &str) -> Result<(), Bad> {
        self.check(n, what)?;
        self.src
            .skip(n)
            .map_err(|_| Bad(format!("file ends inside {what}")))
    }
}

/// Scans a GGUF stream positioned at its magic.
pub(crate) fn scan<S: Source + ?Sized>(src: &mut S, ctx: &mut Ctx) {
    ctx.saw("gguf");
    let mut problems = 0usize;
    if let Err(Bad(why)) = parse(src, ctx, &mut problems) {
        let at = ctx.at_offset(src.pos());
        ctx.report(&rules::GGUF_MALFORMED, at, why, "structure");
    }
}

fn parse<S: Source + ?Sized>(src: &mut S, ctx: &mut Ctx, problems: &mut usize) -> Result<(), Bad> {
    let mut bad = |ctx: &mut Ctx, field: &str, msg: String, key: &str| {
        *problems += 1;
        if *problems <= MAX_REPORTS {
            ctx.report(&rules::GGUF_MALFORMED, ctx.at_field(field), msg, key);
        }
    };
    let mut r = Reader { src, v1: false };
    r.bytes::<4>("the magic")?;
    let version = r.u32("the version")?;
    if !(1..=3).contains(&version) {
        return Err(Bad(format!("unsupported GGUF version {version}")));
    }
    r.v1 = version == 1;
    let n_tensors = r.size("the tensor count")?;
    let n_kv = r.size("the metadata count")?;
    // Each metadata pair takes at least a key length, a type and one byte;
    // each tensor info at least a name length, n_dims, type and offset.
    let len_size: u64 = if r.v1 { 4 } else { 8 };
    r.check(
        n_kv.saturating_mul(len_size + 5),
        &format!("{n_kv} metadata pairs"),
    )?;
    r.check(
        n_tensors.saturating_mul(len_size + 16),
        &format!("{n_tensors} tensor infos"),
    )?;
    let mut keys = HashSet::new();
    let mut alignment: u64 = 32;
    for i in 0..n_kv {
        let (key, _) = r.string(&format!("metadata key {i}"), 256)?;
        let key = String::from_utf8_lossy(&key).into_owned();
        let field = format!("kv {}", shown(&key, 80));
        if !keys.insert(key.clone()) {
            bad(
                ctx,
                &field,
                format!("metadata key {:?} appears more than once", shown(&key, 80)),
                &key,
            );
        }
        let vt = r.u32(&format!("the type of {key}"))?;
        let is_template =
            key == "tokenizer.chat_template" || key.starts_with("tokenizer.chat_template.");
        match vt {
            8 => {
                let keep = if is_template {
                    ctx.limits.max_template
                } else {
                    0
                };
                let (text, n) = r.string(&format!("the value of {key}"), keep)?;
                if is_template {
                    if n > keep {
                        bad(
                            ctx,
                            &field,
                            format!(
                                "chat template of {n} bytes exceeds the {keep}-byte inspection limit"
                            ),
                            &key,
                        );
                    }
                    let t = String::from_utf8_lossy(&text);
                    for issue in jinja::check(&t) {
                        ctx.report_as(
                            &rules::GGUF_TEMPLATE,
                            issue.severity,
                            ctx.at_field(&field),
                            format!("the chat template {}", issue.what),
                            &issue.what,
                        );
                    }
                }
            }
            9 => {
                let et = r.u32(&format!("the element type of {key}"))?;
                let count = r.size(&format!("the length of {key}"))?;
                match fixed_size(et) {
                    None => return Err(Bad(format!("array {key} has unknown element type {et}"))),
                    Some(Some(sz)) => {
                        let total = count
                            .checked_mul(sz)
                            .ok_or_else(|| Bad(format!("array {key} size overflows")))?;
                        r.skip(total, &format!("array {key} of {count} elements"))?;
                    }
                    Some(None) if et == 8 => {
                        r.check(
                            count.saturating_mul(len_size),
                            &format!("array {key} of {count} strings"),
                        )?;
                        for j in 0..count {
                            let n = r.size(&format!("string {j} of {key}"))?;
                            r.skip(n, &format!("string {j} of {key} ({n} bytes)"))?;
                        }
                    }
                    Some(None) => {
                        return Err(Bad(format!(
                            "array {key} nests arrays, which GGUF readers refuse"
                        )));
                    }
                }
            }
            t => match fixed_size(t) {
                Some(Some(sz)) => {
                    if key == "general.alignment" {
                        if t == 4 {
                            let a = u64::from(r.u32("general.alignment")?);
                            if a.is_power_of_two() {
                                alignment = a;
                            } else {
                                bad(
                                    ctx,
                                    &field,
                                    format!("general.alignment {a} is not a power of two"),
                                    &key,
                                );
                            }
                        } else {
                            bad(
                                ctx,
                                &field,
                                format!("general.alignment has type {t}, not uint32"),
                                &key,
                            );
                            r.skip(sz, "general.alignment")?;
                        }
                    } else {
                        r.skip(sz, &format!("the value of {key}"))?;
                    }
                }
                _ => return Err(Bad(format!("metadata {key} has unknown value type {t}"))),
            },
        }
    }
    let mut tensors: Vec<(String, u64, u64)> = Vec::new();
    let mut names = HashSet::new();
    for i in 0..n_tensors {
        let (name, _) = r.string(&format!("tensor name {i}"), 256)?;
        let name = String::from_utf8_lossy(&name).into_owned();
        let field = format!("tensor {}", shown(&name, 80));
        if !names.insert(name.clone()) {
            bad(
                ctx,
                &field,
                "tensor name appears more than once".into(),
                &name,
            );
        }
        let n_dims = r.u32(&format!("n_dims of {name}"))?;
        if n_dims > 4 {
            return Err(Bad(format!(
                "tensor {name} has {n_dims} dimensions (at most 4)"
            )));
        }
        let mut elems: Option<u64> = Some(1);
        let mut ne0 = 1;
        for d in 0..n_dims {
            let dim = if r.v1 {
                u64::from(r.u32("a dimension")?)
            } else {
                r.u64("a dimension")?
            };
            if d == 0 {
                ne0 = dim;
            }
            if i64::try_from(dim).is_err() {
                elems = None;
            }
            elems = elems
                .and_then(|e| e.checked_mul(dim))
                .filter(|e| i64::try_from(*e).is_ok());
        }
        let ty = r.u32(&format!("type of {name}"))?;
        let offset = r.u64(&format!("offset of {name}"))?;
        let Some(elems) = elems else {
            bad(
                ctx,
                &field,
                "tensor dimensions overflow 63 bits".into(),
                &name,
            );
            continue;
        };
        let Some((block, bytes, tname)) = ggml_type(ty) else {
            bad(ctx, &field, format!("unknown tensor type {ty}"), &name);
            continue;
        };
        if ne0 % block != 0 {
            bad(
                ctx,
                &field,
                format!(
                    "first dimension {ne0} is not a multiple of the {tname} block size {block}"
                ),
                &name,
            );
            continue;
        }
        let size = (elems / block).checked_mul(bytes);
        match size {
            Some(s) => tensors.push((name, offset, s)),
            None => bad(ctx, &field, "tensor size overflows".into(), &name),
        }
    }
    // Tensor data starts at the next multiple of the alignment.
    let pos = r.src.pos();
    let data_start = pos.div_ceil(alignment) * alignment;
    let data_len = r
        .src
        .remaining()
        .map(|left| (pos + left).saturating_sub(data_start));
    let mut expect = 0u64;
    for (name, offset, size) in &tensors {
        let field = format!("tensor {}", shown(name, 80));
        if offset % alignment != 0 {
            bad(
                ctx,
                &field,
                format!("offset {offset} is not a multiple of the alignment {alignment}"),
                name,
            );
        } else if *offset != expect {
            bad(
                ctx,
                &field,
                format!(
                    "offset {offset} where the loader expects {expect} (tensors overlap or leave gaps)"
                ),
                name,
            );
        }
        let end = offset.checked_add(*size);
        if let (Some(len), Some(end)) = (data_len, end)
            && end > len
        {
            bad(
                ctx,
                &field,
                format!("data [{offset}, {end}) runs past the {len} bytes of tensor data"),
                name,
            );
        }
        if end.is_none() {
            bad(ctx, &field, "offset plus size overflows".into(), name);
        }
        expect = offset.saturating_add(size.div_ceil(alignment) * alignment);
    }
    if *problems > MAX_REPORTS {
        let at = ctx.at_field("header");
        ctx.report(
            &rules::GGUF_MALFORMED,
            at,
            format!("{} more problems not listed", *problems - MAX_REPORTS),
            "more",
        );
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::scan::ctx::Limits;
    use crate::scan::source::mem;

    /// A GGUF v3 file with string metadata and F32 tensors `(name, dims, offset)`.
    pub(crate) fn build(
        kv: &[(&str, &str)],
        tensors: &[(&str, &[u64], u64)],
        data: usize,
    ) -> Vec<u8> {
        let mut v = b"GGUF".to_vec();
        v.extend(3u32.to_le_bytes());
        v.extend((tensors.len() as u64).to_le_bytes());
        v.extend((kv.len() as u64).to_le_bytes());
        for (k, val) in kv {
            v.extend((k.len() as u64).to_le_bytes());
            v.extend(k.as_bytes());
            v.extend(8u32.to_le_bytes());
            v.extend((val.len() as u64).to_le_bytes());
            v.extend(val.as_bytes());
        }
        for (name, dims, off) in tensors {
            v.extend((name.len() as u64).to_le_bytes());
            v.extend(name.as_bytes());
            v.extend((dims.len() as u32).to_le_bytes());
            for d in *dims {
                v.extend(d.to_le_bytes());
            }
            v.extend(0u32.to_le_bytes());
            v.extend(off.to_le_bytes());
        }
        while !v.len().is_multiple_of(32) {
            v.push(0);
        }
        v.extend(std::iter::repeat_n(0u8, data));
        v
    }

    fn messages(f: &[u8]) -> Vec<String> {
        let mut ctx = Ctx::new(Limits::default());
        scan(&mut mem(f), &mut ctx);
        ctx.hits
            .into_iter()
            .map(|h| format!("{} {}", h.rule.id, h.message))
            .collect()
    }

    #[test]
    fn valid_file_is_clean() {
        let f = build(
            &[("general.architecture", "llama")],
            &[("a", &[4, 2], 0), ("b", &[8], 32)],
            64,
        );
        assert!(messages(&f).is_empty(), "{:?}", messages(&f));
    }

    #[test]
    fn bounds_are_checked() {
        let f = build(&[], &[("a", &[4, 2], 0)], 8);
        assert!(messages(&f).iter().any(|m| m.contains("runs past")));
        let f = build(&[], &[("a", &[4], 0), ("b", &[4], 0)], 64);
        assert!(messages(&f).iter().any(|m| m.contains("overlap")));
        let f = build(&[], &[("a", &[u64::MAX, 2], 0)], 8);
        assert!(messages(&f).iter().any(|m| m.contains("overflow")));
        let mut f = build(&[("k", "v")], &[], 0);
        f[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(
            messages(&f).iter().any(|m| m.contains("metadata pairs")),
            "{:?}",
            messages(&f)
        );
        let mut f = build(&[("k", "v")], &[], 0);
        f[24..32].copy_from_slice(&(1u64 << 60).to_le_bytes());
        assert!(messages(&f).iter().any(|m| m.contains("PLS-MDL-161")));
    }

    #[test]
    fn chat_template_injection() {
        let f = build(
            &[(
                "tokenizer.chat_template",
                "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
            )],
            &[],
            0,
        );
        let m = messages(&f);
        assert!(m.iter().any(|m| m.starts_with("PLS-MDL-162")), "{m:?}");
    }
}
