//! safetensors, checked as strictly as the reference reader and stricter
//! where readers differ: an 8-byte header length (at most 100 000 000, as
//! the reference reader enforces), a UTF-8 JSON object with no duplicate
//! keys at any level, a `__metadata__` map of strings to strings, per tensor
//! a known dtype, a shape whose element count times the dtype size neither
//! overflows nor differs from its byte range, and byte ranges that start at
//! 0, follow each other with no gap or overlap and end exactly at the end of
//! the file (no trailing bytes).

use super::ctx::{Ctx, shown};
use super::rules;
use super::source::Source;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// The reference reader's header limit.
const MAX_HEADER: u64 = 100_000_000;
/// Problems reported per file before the rest are summarised.
const MAX_REPORTS: usize = 50;

/// JSON that keeps duplicate keys and key order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum J {
    Null,
    Bool(bool),
    U(u64),
    I(i64),
    F(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl<'de> Deserialize<'de> for J {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = J;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E: de::Error>(self) -> Result<J, E> {
                Ok(J::Null)
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<J, E> {
                Ok(J::Bool(b))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<J, E> {
                Ok(J::U(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<J, E> {
                Ok(J::I(n))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<J, E> {
                Ok(J::F(n))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<J, E> {
                Ok(J::Str(s.to_owned()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<J, E> {
                Ok(J::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(J::Arr(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = a.next_entry::<String, J>()? {
                    v.push((k, x));
                }
                Ok(J::Obj(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// The first key that appears twice in an object.
fn duplicate(items: &[(String, J)]) -> Option<&str> {
    let mut seen = std::collections::HashSet::new();
    items
        .iter()
        .map(|(k, _)| k.as_str())
        .find(|k| !seen.insert(*k))
}

/// Bits per element of a safetensors dtype.
fn dtype_bits(d: &str) -> Option<u64> {
    Some(match d {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        _ => return None,
    })
}

struct Reporter<'a> {
    ctx: &'a mut Ctx,
    n: usize,
}

impl Reporter<'_> {
    fn bad(&mut self, field: &str, msg: String) {
        self.n += 1;
        if self.n <= MAX_REPORTS {
            let at = self.ctx.at_field(field);
            self.ctx
                .report(&rules::SAFETENSORS_MALFORMED, at, msg, field);
        }
    }
}

/// Scans a safetensors stream positioned at its first byte.
pub(crate) fn scan<S: Source + ?Sized>(src: &mut S, ctx: &mut Ctx) {
    ctx.saw("safetensors");
    let mut r = Reporter { ctx, n: 0 };
    let mut n = [0u8; 8];
    if src.read_exact(&mut n).is_err() {
        return r.bad(
            "header",
            "the file is shorter than the 8-byte header length".into(),
        );
    }
    let hlen = u64::from_le_bytes(n);
    let left = src.remaining();
    if hlen > MAX_HEADER {
        return r.bad(
            "header",
            format!(
                "header length {hlen} exceeds the 100000000-byte limit of the reference reader"
            ),
        );
    }
    if left.is_some_and(|l| hlen > l) {
        return r.bad(
            "header",
            format!(
                "header length {hlen} is larger than the {} bytes that follow",
                left.unwrap_or(0)
            ),
        );
    }
    let mut header = vec![0u8; hlen as usize];
    if src.read_exact(&mut header).is_err() {
        return r.bad("header", "the header is truncated".into());
    }
    let Ok(text) = std::str::from_utf8(&header) else {
        return r.bad("header", "the header is not UTF-8".into());
    };
    if !text.starts_with('{') {
        return r.bad("header", "the header does not start with '{'".into());
    }
    let json: J = match serde_json::from_str(text) {
        Ok(j) => j,
        Err(e) => return r.bad("header", format!("the header is not valid JSON: {e}")),
    };
    let J::Obj(items) = json else {
        return r.bad("header", "the header is not a JSON object".into());
    };
    if let Some(k) = duplicate(&items) {
        r.bad(
            &format!("header.{}", shown(k, 80)),
            format!(
                "key {:?} appears more than once; readers disagree on which value wins",
                shown(k, 80)
            ),
        );
    }
    let data_len = left.map(|l| l - hlen);
    let mut ranges: Vec<(u64, u64, String)> = Vec::new();
    for (name, info) in &items {
        let field = format!("header.{}", shown(name, 80));
        if name == "__metadata__" {
            match info {
                J::Obj(m) => {
                    if let Some(k) = duplicate(m) {
                        r.bad(
                            &field,
                            format!("metadata key {:?} appears more than once", shown(k, 80)),
                        );
                    }
                    if let Some((k, _)) = m.iter().find(|(_, v)| !matches!(v, J::Str(_))) {
                        r.bad(&field, format!("metadata value of {:?} is not a string (the format allows only strings)", shown(k, 80)));
                    }
                }
                _ => r.bad(&field, "__metadata__ is not an object of strings".into()),
            }
            continue;
        }
        let J::Obj(t) = info else {
            r.bad(&field, "tensor entry is not an object".into());
            continue;
        };
        if let Some(k) = duplicate(t) {
            r.bad(
                &field,
                format!("tensor field {:?} appears more than once", shown(k, 40)),
            );
        }
        let get = |k: &str| t.iter().find(|(x, _)| x == k).map(|(_, v)| v);
        let bits = match get("dtype") {
            Some(J::Str(d)) => match dtype_bits(d) {
                Some(b) => Some(b),
                None => {
                    r.bad(&field, format!("unknown dtype {:?}", shown(d, 20)));
                    None
                }
            },
            _ => {
                r.bad(&field, "dtype is missing or not a string".into());
                None
            }
        };
        let shape: Option<Vec<u64>> = match get("shape") {
            Some(J::Arr(dims)) => dims
                .iter()
                .map(|d| if let J::U(n) = d { Some(*n) } else { None })
                .collect(),
            _ => None,
        };
        if shape.is_none() {
            r.bad(
                &field,
                "shape is missing or not a list of non-negative integers".into(),
            );
        }
        let offsets = match get("data_offsets") {
            Some(J::Arr(o)) if o.len() == 2 => match (&o[0], &o[1]) {
                (J::U(b), J::U(e)) => Some((*b, *e)),
                _ => None,
            },
            _ => None,
        };
        let Some((begin, end)) = offsets else {
            r.bad(
                &field,
                "data_offsets is missing or not two non-negative integers".into(),
            );
            continue;
        };
        if begin > end {
            r.bad(
                &field,
                format!("data_offsets [{begin}, {end}] end before they begin"),
            );
            continue;
        }
        if data_len.is_some_and(|l| end > l) {
            r.bad(
                &field,
                format!(
                    "data_offsets [{begin}, {end}] run past the {} bytes of data",
                    data_len.unwrap_or(0)
                ),
            );
        }
        if let (Some(bits), Some(shape)) = (bits, shape) {
            let total = shape
                .iter()
                .try_fold(1u64, |a, &d| a.checked_mul(d))
                .and_then(|n| n.checked_mul(bits));
            match total {
                None => r.bad(&field, "shape times dtype size overflows 64 bits".into()),
                Some(b) if b % 8 != 0 => r.bad(
                    &field,
                    format!("{b} bits of data is not a whole number of bytes"),
                ),
                Some(b) if b / 8 != end - begin => r.bad(
                    &field,
                    format!(
                        "shape and dtype give {} bytes but data_offsets span {}",
                        b / 8,
                        end - begin
                    ),
                ),
                Some(_) => {}
            }
        }
        ranges.push((begin, end, field));
        if ranges.len() > 10_000_000 {
            return r.bad("header", "more than 10 million tensors".into());
        }
    }
    ranges.sort_unstable();
    let mut expect = 0u64;
    for (begin, end, field) in &ranges {
        if *begin > expect {
            r.bad(
                field,
                format!(
                    "a gap of {} bytes before this tensor's data (offset {expect} to {begin})",
                    begin - expect
                ),
            );
        } else if *begin < expect {
            r.bad(field, format!("its data [{begin}, {end}] overlaps the previous tensor's (which ends at {expect})"));
        }
        expect = expect.max(*end);
    }
    if let Some(l) = data_len
        && l > expect
    {
        r.bad(
            "data",
            format!("{} trailing bytes after the last tensor", l - expect),
        );
    }
    if r.n > MAX_REPORTS {
        let extra = r.n - MAX_REPORTS;
        let at = r.ctx.at_field("header");
        r.ctx.report(
            &rules::SAFETENSORS_MALFORMED,
            at,
            format!("{extra} more problems in this header not listed"),
            "more",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::ctx::Limits;
    use crate::scan::source::mem;

    fn file(header: &str, data: usize) -> Vec<u8> {
        let mut v = (header.len() as u64).to_le_bytes().to_vec();
        v.extend_from_slice(header.as_bytes());
        v.extend(std::iter::repeat_n(0u8, data));
        v
    }

    fn problems(f: &[u8]) -> Vec<String> {
        let mut ctx = Ctx::new(Limits::default());
        scan(&mut mem(f), &mut ctx);
        ctx.hits.into_iter().map(|h| h.message).collect()
    }

    #[test]
    fn valid_file_is_clean() {
        let f = file(
            r#"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]}}"#,
            22,
        );
        assert!(problems(&f).is_empty(), "{:?}", problems(&f));
    }

    #[test]
    fn each_defect_is_named() {
        let cases = [
            (
                file(
                    r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                    8,
                ),
                "more than once",
            ),
            (
                file(
                    r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                    8,
                ),
                "overlaps",
            ),
            (
                file(
                    r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                    8,
                ),
                "gap",
            ),
            (
                file(
                    r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
                    8,
                ),
                "trailing",
            ),
            (
                file(
                    r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,400]}}"#,
                    8,
                ),
                "run past",
            ),
            (
                file(
                    r#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#,
                    4,
                ),
                "overflows",
            ),
            (
                file(
                    r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,4]}}"#,
                    4,
                ),
                "give 12 bytes",
            ),
            (file(r#"{"__metadata__":{"x":1}}"#, 0), "not a string"),
            (file(r#"{"a":"#, 0), "not valid JSON"),
        ];
        for (f, want) in cases {
            let p = problems(&f);
            assert!(p.iter().any(|m| m.contains(want)), "{want}: {p:?}");
        }
        let mut huge = 200_000_000u64.to_le_bytes().to_vec();
        huge.push(b'{');
        assert!(problems(&huge).iter().any(|m| m.contains("limit")));
    }
}
