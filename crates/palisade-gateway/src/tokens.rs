//! Token counts for reservations, exact to tiktoken's `o200k_base` (GPT-4o
//! era and unknown models) and `cl100k_base` (GPT-4/3.5) without tiktoken's
//! memory: the vocabularies are compact tables built into the binary by
//! `build.rs` (read-only data, no heap; about 4 MiB and 2 MiB, mapped on
//! first touch), the pre-tokenising patterns are compiled on first use of
//! a vocabulary only, and the merge loop is tiktoken's own algorithm.
//! Open models use other tokenizers; the estimate then differs by a few
//! percent, which settlement with the upstream's `usage` corrects.

use crate::openai::ParsedRequest;
use std::sync::LazyLock;

/// Tokens OpenAI adds per chat message (role and separators).
const PER_MESSAGE: u64 = 4;
/// Tokens that prime the assistant's reply.
const REPLY_PRIMING: u64 = 3;
/// Pieces longer than this (a run of letters without a break) are merged in
/// windows of this size, so one piece cannot make the quadratic merge loop
/// expensive; the count then may exceed tiktoken's by about one token per window.
const MAX_PIECE: usize = 512;

/// tiktoken's `cl100k_base` pre-tokenising pattern, for the `regex` crate
/// (a DFA; fancy-regex's backtracking VM cost more than the merges). Two
/// rewrites, neither changing what matches: possessive quantifiers are
/// greedy ones (each is followed by a class it does not overlap or by the
/// end, so giving back never helps a match), and `\s+(?!\S)|\s`, which
/// needs a look-ahead, is `\s+` with the look-ahead applied in
/// [`Vocab::count`] (see [`lookahead_end`]).
const CL100K_PATTERN: &str = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s+$|\s*[\r\n]|\s+";

/// tiktoken's `o200k_base` pre-tokenising pattern, with `\s+(?!\S)|\s+`
/// as `\s+` (see [`CL100K_PATTERN`]).
const O200K_PATTERN: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    "|",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    "|",
    r"\p{N}{1,3}",
    "|",
    r" ?[^\s\p{L}\p{N}]+[\r\n/]*",
    "|",
    r"\s*[\r\n]+",
    "|",
    r"\s+"
);

/// Where tiktoken's `\s+(?!\S)` ends a piece the patterns above matched as
/// `\s+`. A whitespace piece without a line break can only come from that
/// last alternative (every other one needs a letter, digit, symbol or line
/// break), and being greedy it ends at the end of the text or before a
/// non-space. There the look-ahead form leaves the last space to the next
/// piece (`"  x"` is `" "`, `" x"`); a single space stays whole, as the
/// plain `\s` / `\s+` that follows it in the pattern takes it.
fn lookahead_end(text: &str, start: usize, end: usize) -> usize {
    let piece = &text[start..end];
    if end == text.len() || piece.contains(['\r', '\n']) || !piece.chars().all(char::is_whitespace)
    {
        return end;
    }
    match piece.char_indices().next_back() {
        Some((last, _)) if last > 0 => start + last,
        _ => end,
    }
}

static O200K_TABLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/o200k_base.bpe"));
static CL100K_TABLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/cl100k_base.bpe"));

/// FNV-1a, 64 bits (the same function as in `build.rs`).
fn fnv1a(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h ^= u64::from(x);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// One vocabulary: token bytes by rank and a hash index, both borrowed
/// from the table in the binary.
struct Vocab {
    offsets: &'static [u8],
    slots: &'static [u8],
    blob: &'static [u8],
    mask: usize,
    pattern: regex::Regex,
}

fn u32_at(b: &[u8], i: usize) -> usize {
    let s = i * 4;
    b.get(s..s + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map_or(0, |w| u32::from_le_bytes(w) as usize)
}

impl Vocab {
    fn load(table: &'static [u8], pattern: &str) -> Option<Vocab> {
        if table.get(..8)? != b"PLBPE1\0\0" {
            return None;
        }
        let head = table.get(8..16)?;
        let n = u32_at(head, 0);
        let s = u32_at(head, 1);
        if !s.is_power_of_two() {
            return None;
        }
        let rest = table.get(16..)?;
        let (offsets, rest) = rest.split_at_checked((n + 1) * 4)?;
        let (slots, blob) = rest.split_at_checked(s * 4)?;
        if u32_at(offsets, n) != blob.len() {
            return None;
        }
        Some(Vocab {
            offsets,
            slots,
            blob,
            mask: s - 1,
            pattern: regex::Regex::new(pattern).ok()?,
        })
    }

    fn token(&self, rank: usize) -> &[u8] {
        let (a, b) = (u32_at(self.offsets, rank), u32_at(self.offsets, rank + 1));
        self.blob.get(a..b).unwrap_or_default()
    }

    /// The rank of a byte string, if it is a token.
    fn rank(&self, piece: &[u8]) -> Option<u32> {
        #[allow(clippy::cast_possible_truncation)]
        let mut i = (fnv1a(piece) as usize) & self.mask;
        loop {
            let r = u32_at(self.slots, i);
            if r == 0 {
                return None;
            }
            if self.token(r - 1) == piece {
                return u32::try_from(r - 1).ok();
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Tokens of one pre-tokenised piece: tiktoken's byte-pair merge
    /// (`_byte_pair_merge`), counting the parts instead of listing ranks.
    fn merge_count(&self, piece: &[u8]) -> usize {
        if piece.len() <= 1 || self.rank(piece).is_some() {
            return usize::from(!piece.is_empty());
        }
        let rank = |a: usize, b: usize| self.rank(&piece[a..b]).unwrap_or(u32::MAX);
        let mut parts: Vec<(usize, u32)> = Vec::with_capacity(piece.len() + 1);
        let mut min = (u32::MAX, usize::MAX);
        for i in 0..piece.len() - 1 {
            let r = rank(i, i + 2);
            if r < min.0 {
                min = (r, i);
            }
            parts.push((i, r));
        }
        parts.push((piece.len() - 1, u32::MAX));
        parts.push((piece.len(), u32::MAX));
        let get = |parts: &[(usize, u32)], i: usize| {
            if i + 3 < parts.len() {
                rank(parts[i].0, parts[i + 3].0)
            } else {
                u32::MAX
            }
        };
        while min.0 != u32::MAX {
            let i = min.1;
            if i > 0 {
                parts[i - 1].1 = get(&parts, i - 1);
            }
            parts[i].1 = get(&parts, i);
            parts.remove(i + 1);
            min = (u32::MAX, usize::MAX);
            for (j, &(_, r)) in parts[..parts.len() - 1].iter().enumerate() {
                if r < min.0 {
                    min = (r, j);
                }
            }
        }
        parts.len() - 1
    }

    fn count(&self, text: &str) -> u64 {
        let mut n = 0usize;
        let mut at = 0;
        while at < text.len() {
            // `find_at` keeps the pattern's view of the text before `at`.
            let m = match self.pattern.find_at(text, at) {
                Some(m) if m.end() > at => m,
                // No match: count the rest by bytes (never fewer tokens
                // than tiktoken would).
                _ => return (n + text.len() - at) as u64,
            };
            // Text the pattern skipped (it matches everything, so none in practice).
            n += m.start() - at;
            let end = lookahead_end(text, m.start(), m.end());
            let piece_str = &text[m.start()..end];
            let piece = piece_str.as_bytes();
            if piece.len() <= MAX_PIECE {
                n += self.merge_count(piece);
            } else {
                let mut s = 0;
                while s < piece.len() {
                    let mut e = (s + MAX_PIECE).min(piece.len());
                    while e < piece.len() && !piece_str.is_char_boundary(e) {
                        e += 1;
                    }
                    n += self.merge_count(&piece[s..e]);
                    s = e;
                }
            }
            at = end;
        }
        n as u64
    }
}

static O200K: LazyLock<Option<Vocab>> = LazyLock::new(|| Vocab::load(O200K_TABLE, O200K_PATTERN));
static CL100K: LazyLock<Option<Vocab>> =
    LazyLock::new(|| Vocab::load(CL100K_TABLE, CL100K_PATTERN));

/// Whether a model is counted with `cl100k_base` (else `o200k_base`).
fn uses_cl100k(model: &str) -> bool {
    let m = model.to_ascii_lowercase();
    m.starts_with("gpt-4-")
        || m == "gpt-4"
        || m.starts_with("gpt-3.5")
        || m.contains("embedding-ada")
        || m.starts_with("text-embedding-3")
}

/// The vocabulary used for a model.
fn vocab_for(model: &str) -> Option<&'static Vocab> {
    if uses_cl100k(model) {
        CL100K.as_ref()
    } else {
        O200K.as_ref()
    }
}

/// Prepares the vocabularies of these models now (compiles their patterns)
/// instead of on the first request; the others stay untouched.
pub fn warm_up<'a>(models: impl IntoIterator<Item = &'a str>) {
    for m in models {
        let _ = vocab_for(m);
    }
}

/// Counts the tokens of a text (by bytes, an upper bound, if the tables are unusable).
pub fn count(model: &str, text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    match vocab_for(model) {
        Some(v) => v.count(text),
        None => text.len() as u64,
    }
}

/// Estimates the prompt tokens of a request.
pub fn estimate_prompt(req: &ParsedRequest) -> u64 {
    let mut n = req.pretokenized;
    for (_, t) in &req.texts {
        n += count(&req.model, t);
    }
    if req.messages > 0 {
        n += req.messages * PER_MESSAGE + REPLY_PRIMING;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::Endpoint;

    /// Texts in many scripts and shapes: contractions, numbers, code,
    /// whitespace runs, emoji, combining marks, and long runs without breaks.
    fn corpus() -> Vec<String> {
        let mut v: Vec<String> = [
            "hello world",
            "What is the capital of France?",
            "I'm sure they'll say we've done what you'd've DONE'S",
            "  leading and trailing spaces   ",
            "tabs\tand\nnew\r\nlines\n\n\n  \n",
            "numbers 1234567890 3.14159 -42 1e10 0xdeadbeef",
            "fn main() { println!(\"{}\", x + 1); } // code",
            "Zürich, naïve café, Ελληνικά, русский текст, 日本語のテキスト, 中文文本, 한국어",
            "emoji 🎉🔥👍🏽 and ZWJ 👨‍👩‍👧‍👦 family",
            "combining: e\u{301} a\u{308} n\u{303}",
            "URL https://example.com/path?q=1&r=2#frag and mail a.b@c.de",
            "MiXeD CaSe CamelCaseWords HTTPServerError snake_case_words",
            "punctuation!!! ??? ... --- *** /// \\\\ ''' \"\"\"",
            "",
            " ",
            "\n",
            "a  b   c    d\t\te \t f\u{a0}\u{a0}g \u{3000}h",
            "end with spaces   ",
            "   ",
            "x \n  y\r\n\r\n   z \n",
            "  \u{2003}word\u{2003}\u{2003}",
            "a\u{85}b  \u{2028}c",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        v.push("a".repeat(2000));
        v.push("ab".repeat(300));
        v.push("x y ".repeat(500));
        v.push("The quick brown fox jumps over the lazy dog. ".repeat(40));
        v.push("9".repeat(100));
        v.push("!@#$%^&*()".repeat(60));
        v
    }

    #[test]
    fn matches_tiktoken_o200k_and_cl100k() {
        let o = tiktoken_rs::o200k_base().expect("o200k");
        let c = tiktoken_rs::cl100k_base().expect("cl100k");
        for t in corpus() {
            // Pieces longer than MAX_PIECE are windowed: only those may differ.
            let long = t.split_whitespace().any(|w| w.len() > MAX_PIECE);
            for (model, bpe) in [("gpt-4o", &o), ("gpt-4-turbo", &c)] {
                let want = bpe.encode_ordinary(&t).len() as u64;
                let got = count(model, &t);
                if long {
                    assert!(
                        got >= want && got <= want + want / 10 + 4,
                        "{model} {t:?}: {got} vs {want}"
                    );
                } else {
                    assert_eq!(got, want, "{model} {t:?}");
                }
            }
        }
    }

    /// Random text over the characters the pattern treats differently
    /// (spaces of every kind, line breaks, cases, digits, apostrophes,
    /// symbols, marks, CJK): the look-ahead rewrite must split exactly as
    /// tiktoken does.
    #[test]
    fn random_text_splits_like_tiktoken() {
        const ALPHABET: &[char] = &[
            ' ', ' ', ' ', '\t', '\n', '\r', '\u{a0}', '\u{3000}', '\u{85}', 'a', 'b', 'Z', 'Q',
            '\'', 's', 'l', 'v', 'e', 'D', '1', '7', '.', '!', '/', '-', '\u{301}', '日', 'é', 'Σ',
        ];
        let o = tiktoken_rs::o200k_base().unwrap();
        let c = tiktoken_rs::cl100k_base().unwrap();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2000 {
            let len = (next() % 24) as usize;
            let t: String = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            for (model, bpe) in [("gpt-4o", &o), ("gpt-4-turbo", &c)] {
                let want = bpe.encode_ordinary(&t).len() as u64;
                assert_eq!(count(model, &t), want, "{model} {t:?}");
            }
        }
    }

    #[test]
    fn counts_like_openai() {
        // "hello world" is two tokens in both vocabularies.
        assert_eq!(count("gpt-4o", "hello world"), 2);
        assert_eq!(count("gpt-4-turbo", "hello world"), 2);
        assert_eq!(count("llama", ""), 0);
        let r = ParsedRequest::parse(
            Endpoint::ChatCompletions,
            br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hello world"}]}"#,
        )
        .unwrap();
        assert_eq!(estimate_prompt(&r), 2 + PER_MESSAGE + REPLY_PRIMING);
    }

    #[test]
    fn tables_are_whole() {
        let o = O200K.as_ref().expect("o200k table");
        let c = CL100K.as_ref().expect("cl100k table");
        // Every token finds its own rank again.
        for v in [o, c] {
            let n = v.offsets.len() / 4 - 1;
            for r in (0..n).step_by(97) {
                assert_eq!(v.rank(v.token(r)), u32::try_from(r).ok());
            }
        }
        assert!(Vocab::load(b"garbage", O200K_PATTERN).is_none());
        assert!(Vocab::load(&O200K_TABLE[..100], O200K_PATTERN).is_none());
    }
}
