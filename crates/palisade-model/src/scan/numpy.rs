//! NumPy `.npy` files: the header (a Python dict literal) is parsed, object
//! arrays have their pickle payload scanned, numeric arrays are checked
//! against the bytes that follow. `.npz` files are zip archives of `.npy`
//! members and arrive here through the zip reader.

use super::ctx::{Ctx, shown};
use super::pickle;
use super::rules;
use super::source::Source;

/// Itemsize in bytes and whether the type holds Python objects, for a
/// NumPy type string (`<f8`, `|b1`, `<U10`, `O`, `M8[ns]`, `f`).
pub(crate) fn descr_size(descr: &str) -> Option<(u64, bool)> {
    let d = descr.trim_start_matches(['<', '>', '|', '=']);
    let d = d.split('[').next().unwrap_or(d);
    let mut chars = d.chars();
    let kind = chars.next()?;
    let digits: String = chars.collect();
    if digits.is_empty() {
        let size = match kind {
            '?' | 'b' | 'B' | 'c' => 1,
            'h' | 'H' | 'e' => 2,
            'i' | 'I' | 'f' => 4,
            'l' | 'L' | 'q' | 'Q' | 'd' | 'F' | 'p' | 'P' | 'O' | 'M' | 'm' => 8,
            'g' | 'D' => 16,
            'G' => 32,
            'S' | 'a' | 'U' | 'V' => 0,
            _ => return None,
        };
        return Some((size, kind == 'O'));
    }
    let n: u64 = digits.parse().ok()?;
    match kind {
        'b' | 'i' | 'u' | 'f' | 'c' | 'S' | 'a' | 'V' | 'M' | 'm' => Some((n, false)),
        'U' => Some((n.checked_mul(4)?, false)),
        'O' => Some((n, true)),
        _ => None,
    }
}

/// A Python literal from an `.npy` header.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    Seq(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

/// Parses the Python literal subset `numpy.lib.format` writes.
pub(crate) fn parse_literal(s: &str) -> Option<Lit> {
    let mut p = LitParser {
        s: s.as_bytes(),
        i: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.ws();
    (p.i == p.s.len()).then_some(v)
}

struct LitParser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl LitParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Option<Lit> {
        self.ws();
        self.depth += 1;
        if self.depth > 64 {
            return None;
        }
        let c = *self.s.get(self.i)?;
        let v = match c {
            b'{' => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.s.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        break;
                    }
                    let k = self.value()?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return None;
                    }
                    self.i += 1;
                    let v = self.value()?;
                    items.push((k, v));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {}
                        _ => return None,
                    }
                }
                Lit::Dict(items)
            }
            b'(' | b'[' => {
                let close = if c == b'(' { b')' } else { b']' };
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.s.get(self.i) == Some(&close) {
                        self.i += 1;
                        break;
                    }
                    items.push(self.value()?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(&x) if x == close => {}
                        _ => return None,
                    }
                }
                Lit::Seq(items)
            }
            b'\'' | b'"' => {
                self.i += 1;
                let start = self.i;
                while *self.s.get(self.i)? != c {
                    if self.s[self.i] == b'\\' {
                        self.i += 1;
                    }
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).ok()?.to_owned();
                self.i += 1;
                Lit::Str(text)
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric()
                        || matches!(self.s[self.i], b'-' | b'_' | b'+'))
                {
                    self.i += 1;
                }
                let word = std::str::from_utf8(&self.s[start..self.i]).ok()?;
                match word {
                    "True" => Lit::Bool(true),
                    "False" => Lit::Bool(false),
                    "None" => Lit::None,
                    w => Lit::Int(w.trim_end_matches('L').parse().ok()?),
                }
            }
        };
        self.depth -= 1;
        Some(v)
    }
}

fn get<'a>(d: &'a [(Lit, Lit)], key: &str) -> Option<&'a Lit> {
    d.iter()
        .find_map(|(k, v)| (matches!(k, Lit::Str(s) if s == key)).then_some(v))
}

/// Itemsize and object-ness of a header `descr`: a type string or a list of
/// `(name, type[, shape])` fields.
fn descr_info(d: &Lit, depth: usize) -> Option<(u64, bool)> {
    if depth > 16 {
        return None;
    }
    match d {
        Lit::Str(s) => descr_size(s),
        Lit::Seq(fields) => {
            let mut size = 0u64;
            let mut object = false;
            for f in fields {
                let Lit::Seq(parts) = f else { return None };
                let (s, o) = descr_info(parts.get(1)?, depth + 1)?;
                let count = match parts.get(2) {
                    Some(Lit::Seq(shape)) => shape.iter().try_fold(1u64, |a, x| match x {
                        Lit::Int(i) => u64::try_from(*i).ok().and_then(|i| a.checked_mul(i)),
                        _ => None,
                    })?,
                    Some(Lit::Int(i)) => u64::try_from(*i).ok()?,
                    _ => 1,
                };
                size = size.checked_add(s.checked_mul(count)?)?;
                object |= o;
            }
            Some((size, object))
        }
        _ => None,
    }
}

/// Scans an `.npy` stream positioned at its magic.
pub(crate) fn scan<S: Source + ?Sized>(src: &mut S, ctx: &mut Ctx) {
    ctx.saw("npy");
    let bad = |ctx: &mut Ctx, why: String| {
        ctx.report(&rules::NUMPY_MALFORMED, ctx.at_field("header"), why, "");
    };
    let mut pre = [0u8; 8];
    if src.read_exact(&mut pre).is_err() {
        return bad(ctx, "the .npy preamble is truncated".into());
    }
    let major = pre[6];
    let hlen = if major == 1 {
        let mut b = [0u8; 2];
        if src.read_exact(&mut b).is_err() {
            return bad(ctx, "the .npy header length is truncated".into());
        }
        u64::from(u16::from_le_bytes(b))
    } else if major == 2 || major == 3 {
        let mut b = [0u8; 4];
        if src.read_exact(&mut b).is_err() {
            return bad(ctx, "the .npy header length is truncated".into());
        }
        u64::from(u32::from_le_bytes(b))
    } else {
        return bad(
            ctx,
            format!("unsupported .npy format version {major}.{}", pre[7]),
        );
    };
    if src.remaining().is_some_and(|r| hlen > r) || hlen > ctx.limits.max_json.min(1 << 24) {
        return bad(
            ctx,
            format!(
                "the .npy header claims {hlen} bytes, more than the file holds or the limit allows"
            ),
        );
    }
    let mut header = vec![0u8; hlen as usize];
    if src.read_exact(&mut header).is_err() {
        return bad(ctx, "the .npy header is truncated".into());
    }
    let text = if major == 3 {
        String::from_utf8(header).ok()
    } else {
        Some(header.iter().map(|&b| char::from(b)).collect())
    };
    let Some(Lit::Dict(d)) = text.as_deref().and_then(parse_literal) else {
        return bad(
            ctx,
            format!(
                "the .npy header is not a dict literal: {}",
                shown(text.as_deref().unwrap_or(""), 80)
            ),
        );
    };
    let (Some(descr), Some(Lit::Seq(shape))) = (get(&d, "descr"), get(&d, "shape")) else {
        return bad(ctx, "the .npy header lacks descr or shape".into());
    };
    let Some((itemsize, object)) = descr_info(descr, 0) else {
        return bad(ctx, "the .npy header's descr is not a NumPy type".into());
    };
    let count = shape.iter().try_fold(1u64, |a, x| match x {
        Lit::Int(i) => u64::try_from(*i).ok().and_then(|i| a.checked_mul(i)),
        _ => None,
    });
    if object {
        let at = src.pos();
        ctx.report(
            &rules::NUMPY_OBJECT,
            ctx.at_offset(at),
            format!("the array has an object dtype; its data at offset {at} is a pickle that numpy.load(allow_pickle=True) runs"),
            "",
        );
        pickle::scan(src, ctx, pickle::Mode::One);
        return;
    }
    let Some(bytes) = count.and_then(|c| c.checked_mul(itemsize)) else {
        return bad(ctx, "the .npy shape times the item size overflows".into());
    };
    if let Some(left) = src.remaining()
        && left < bytes
    {
        bad(
            ctx,
            format!("the header describes {bytes} bytes of data but only {left} follow"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_parse() {
        let d = parse_literal(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }          \n",
        )
        .unwrap();
        let Lit::Dict(d) = d else { panic!() };
        assert_eq!(get(&d, "descr"), Some(&Lit::Str("<f8".into())));
        assert_eq!(
            get(&d, "shape"),
            Some(&Lit::Seq(vec![Lit::Int(3), Lit::Int(4)]))
        );
        assert!(parse_literal("{'a': ").is_none());
        assert!(parse_literal(&"[".repeat(1000)).is_none());
    }

    #[test]
    fn type_sizes() {
        assert_eq!(descr_size("<f8"), Some((8, false)));
        assert_eq!(descr_size("|b1"), Some((1, false)));
        assert_eq!(descr_size("<U10"), Some((40, false)));
        assert_eq!(descr_size("|O"), Some((8, true)));
        assert_eq!(descr_size("<M8[ns]"), Some((8, false)));
        assert_eq!(descr_size("f"), Some((4, false)));
        let fields = parse_literal("[('a', '<i4'), ('b', '|O'), ('c', '<f4', (2, 3))]").unwrap();
        assert_eq!(descr_info(&fields, 0), Some((4 + 8 + 24, true)));
    }
}
