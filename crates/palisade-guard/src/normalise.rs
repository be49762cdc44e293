//! Normalisation: the text as a model reads it, before any rule looks at it.
//!
//! Two renderings ([`View`]s) are built in one pass each, both keeping, for
//! every byte, the byte range of the original character it came from (so a
//! hit points at the original text):
//! - the *fold* view: invisible and bidi controls removed, compatibility
//!   decomposition (NFKD) with the accents of Latin letters dropped (NFKC for
//!   other scripts, so Cyrillic, CJK and Hangul stay intact), lower case,
//!   whitespace runs collapsed to one space (or one newline). Punctuation is
//!   kept: chat-template markers (`<|im_start|>`) are matched here, as are
//!   the rules written in other languages.
//! - the *skeleton* view: the fold view reduced to words of letters and
//!   digits separated by single spaces, homoglyphs of other scripts mapped to
//!   the Latin letters they imitate ([`decancer`]), leetspeak undone inside
//!   words with letters (`1gn0r3` → `ignore`), and spaced-out letters joined
//!   (`i g n o r e` → `ignore`). English rules are matched here.
//!
//! What normalisation removes is itself a signal ([`Signals`]): zero-width
//! characters inside words, bidi controls, Unicode tag characters (which
//! smuggle ASCII invisibly, and are decoded) and words mixing Latin letters
//! with look-alikes from other scripts.

use std::ops::Range;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A normalised rendering of a text, with the original byte range of every
/// byte.
#[derive(Debug, Clone, Default)]
pub(crate) struct View {
    pub(crate) text: String,
    spans: Vec<(u32, u32)>,
}

impl View {
    fn with_capacity(n: usize) -> Self {
        View {
            text: String::with_capacity(n),
            spans: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, c: char, orig: (u32, u32)) {
        self.text.push(c);
        for _ in 0..c.len_utf8() {
            self.spans.push(orig);
        }
    }

    fn pop(&mut self) -> Option<char> {
        let c = self.text.pop()?;
        self.spans.truncate(self.text.len());
        Some(c)
    }

    fn last(&self) -> Option<char> {
        self.text.chars().next_back()
    }

    /// The original byte range behind `r` (a range of this view's text).
    pub(crate) fn original(&self, r: Range<usize>) -> Range<usize> {
        let start = self.spans.get(r.start).map_or(0, |p| p.0) as usize;
        let end = r
            .end
            .checked_sub(1)
            .and_then(|i| self.spans.get(i))
            .map_or(start, |p| p.1 as usize);
        start..end.max(start)
    }

    /// The same view with every ASCII letter rotated by 13 (ROT13 undone).
    pub(crate) fn rot13(&self) -> View {
        let text = self
            .text
            .chars()
            .map(|c| match c {
                'a'..='m' | 'A'..='M' => char::from(c as u8 + 13),
                'n'..='z' | 'N'..='Z' => char::from(c as u8 - 13),
                _ => c,
            })
            .collect();
        View {
            text,
            spans: self.spans.clone(),
        }
    }
}

/// What normalisation removed or noticed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Signals {
    /// First zero-width character found between two letters or digits.
    pub(crate) invisible: Option<Range<usize>>,
    /// First bidi control character.
    pub(crate) bidi: Option<Range<usize>>,
    /// Runs of Unicode tag characters (outside emoji flag sequences), with
    /// the ASCII they spell.
    pub(crate) tags: Vec<(Range<usize>, String)>,
}

fn is_bidi(cp: u32) -> bool {
    matches!(cp, 0x202A..=0x202E | 0x2066..=0x2069 | 0x061C)
}

/// Invisible characters that are dropped. Variation selectors are dropped
/// too (emoji use them) but do not count as a signal unless they sit inside
/// a word (the check is the caller's).
fn is_invisible(cp: u32) -> bool {
    matches!(
        cp,
        0x200B..=0x200F
            | 0x2060..=0x2064
            | 0xFEFF
            | 0x00AD
            | 0x180E
            | 0x034F
            | 0x115F
            | 0x1160
            | 0x3164
            | 0xFFA0
            | 0xFE00..=0xFE0F
            | 0xE0100..=0xE01EF
    )
}

/// Builds the fold view of `text` and the signals noticed on the way.
pub(crate) fn fold(text: &str) -> (View, Signals) {
    let mut v = View::with_capacity(text.len() + 8);
    let mut sig = Signals::default();
    let mut prev_alnum = false;
    let mut pending_invisible: Option<Range<usize>> = None;
    // (start, end, ascii, after a waving-flag emoji)
    let mut tag_run: Option<(usize, usize, String, bool)> = None;
    let mut prev_char: Option<char> = None;
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        let orig = (i as u32, end as u32);
        let cp = c as u32;
        if (0xE0000..=0xE007F).contains(&cp) {
            let run = tag_run
                .get_or_insert_with(|| (i, end, String::new(), prev_char == Some('\u{1F3F4}')));
            run.1 = end;
            if (0xE0020..=0xE007E).contains(&cp) {
                run.2.push(char::from((cp - 0xE0000) as u8));
            }
            continue;
        }
        if let Some((s, e, ascii, flag)) = tag_run.take()
            && !flag
        {
            sig.tags.push((s..e, ascii));
        }
        prev_char = Some(c);
        if is_bidi(cp) {
            sig.bidi.get_or_insert(i..end);
            continue;
        }
        if is_invisible(cp) {
            if prev_alnum && !(0xFE00..=0xFE0F).contains(&cp) {
                pending_invisible.get_or_insert(i..end);
            }
            continue;
        }
        if let Some(r) = pending_invisible.take()
            && c.is_alphanumeric()
        {
            sig.invisible.get_or_insert(r);
        }
        if c.is_whitespace() || c.is_control() {
            let ws = if matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{85}') {
                '\n'
            } else {
                ' '
            };
            match v.last() {
                None | Some('\n') => {}
                Some(' ') => {
                    if ws == '\n' {
                        v.pop();
                        v.push('\n', orig);
                    }
                }
                Some(_) => v.push(ws, orig),
            }
            prev_alnum = false;
            continue;
        }
        if c.is_ascii() {
            v.push(c.to_ascii_lowercase(), orig);
            prev_alnum = c.is_ascii_alphanumeric();
            continue;
        }
        prev_alnum = c.is_alphanumeric();
        if is_combining_mark(c) {
            // Accents on Latin letters (and Zalgo stacks) go; marks of other
            // scripts stay.
            if !v.last().is_some_and(|l| l.is_ascii()) {
                v.push(c, orig);
            }
            continue;
        }
        let mut d = std::iter::once(c).nfkd();
        let first = d.next();
        if first.is_some_and(|f| f.is_ascii()) {
            for ch in first.into_iter().chain(d) {
                if is_combining_mark(ch) {
                    continue;
                }
                for l in ch.to_lowercase() {
                    if l.is_whitespace() {
                        if !matches!(v.last(), None | Some(' ' | '\n')) {
                            v.push(' ', orig);
                        }
                    } else {
                        v.push(l, orig);
                    }
                }
            }
        } else {
            for ch in std::iter::once(c).nfkc() {
                for l in ch.to_lowercase() {
                    v.push(l, orig);
                }
            }
        }
    }
    if let Some((s, e, ascii, flag)) = tag_run.take()
        && !flag
    {
        sig.tags.push((s..e, ascii));
    }
    (v, sig)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An ASCII letter or digit as written.
    Ascii,
    /// A letter of another script mapped to an ASCII look-alike.
    Mapped,
    /// A letter of another script kept as is.
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Ch {
    c: char,
    orig: (u32, u32),
    kind: Kind,
}

fn leet(c: char) -> char {
    match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        '8' => 'b',
        '9' => 'g',
        _ => c,
    }
}

/// Words mixing Latin letters with homoglyphs of other scripts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Mixed {
    /// The first such word's original range.
    pub(crate) first: Option<Range<usize>>,
    /// How many there are.
    pub(crate) count: usize,
}

/// Builds the skeleton view from the fold view, and counts the
/// mixed-script words.
pub(crate) fn skeleton(fold: &View) -> (View, Mixed) {
    let mut chars: Vec<Ch> = Vec::with_capacity(fold.text.len());
    // Token boundaries as ranges into `chars`.
    let mut tokens: Vec<Range<usize>> = Vec::new();
    let mut start = 0usize;
    let close = |chars: &Vec<Ch>, tokens: &mut Vec<Range<usize>>, start: &mut usize| {
        if chars.len() > *start {
            tokens.push(*start..chars.len());
        }
        *start = chars.len();
    };
    for (j, c) in fold.text.char_indices() {
        let orig = fold.spans.get(j).copied().unwrap_or((0, 0));
        if c.is_ascii_alphanumeric() || c == '@' || c == '$' {
            chars.push(Ch {
                c,
                orig,
                kind: Kind::Ascii,
            });
        } else if c.is_ascii() || !c.is_alphanumeric() {
            close(&chars, &mut tokens, &mut start);
        } else {
            match decancer::cure_char(c, decancer::Options::default()) {
                decancer::Translation::Character(x) => push_cured(&mut chars, x, c, orig),
                decancer::Translation::String(s) => {
                    for x in s.chars() {
                        push_cured(&mut chars, x, c, orig);
                    }
                }
                decancer::Translation::None => {}
            }
        }
    }
    close(&chars, &mut tokens, &mut start);

    let mut mixed = Mixed::default();
    let mut out = View::with_capacity(fold.text.len());
    let mut i = 0;
    while i < tokens.len() {
        // Spaced-out letters: three or more one-letter tokens, each one
        // character apart in the original, are one word.
        let mut j = i;
        while j + 1 < tokens.len()
            && is_single_letter(&chars, &tokens[j])
            && is_single_letter(&chars, &tokens[j + 1])
            && gap(&chars, &tokens[j], &tokens[j + 1]) <= 1
        {
            j += 1;
        }
        let group = if j - i >= 2 {
            tokens[i].start..tokens[j].end
        } else {
            j = i;
            tokens[i].clone()
        };
        let word = chars.get(group).unwrap_or(&[]);
        emit_word(&mut out, word, &mut mixed);
        i = j + 1;
    }
    (out, mixed)
}

fn push_cured(chars: &mut Vec<Ch>, x: char, original: char, orig: (u32, u32)) {
    let kind = if x.is_ascii_alphanumeric() {
        Kind::Mapped
    } else if x.is_alphanumeric() {
        Kind::Other
    } else {
        return;
    };
    let c = if kind == Kind::Other { original } else { x };
    for l in c.to_lowercase() {
        chars.push(Ch { c: l, orig, kind });
    }
}

fn is_single_letter(chars: &[Ch], t: &Range<usize>) -> bool {
    t.len() == 1 && chars.get(t.start).is_some_and(|c| c.c.is_alphabetic())
}

fn gap(chars: &[Ch], a: &Range<usize>, b: &Range<usize>) -> u32 {
    let end = a
        .end
        .checked_sub(1)
        .and_then(|k| chars.get(k))
        .map_or(0, |c| c.orig.1);
    let start = chars.get(b.start).map_or(0, |c| c.orig.0);
    start.saturating_sub(end)
}

fn emit_word(out: &mut View, word: &[Ch], mixed: &mut Mixed) {
    let Some(first) = word.first() else { return };
    let letters = word.iter().filter(|c| c.c.is_alphabetic()).count();
    let ascii_letters = word
        .iter()
        .filter(|c| c.kind == Kind::Ascii && c.c.is_ascii_alphabetic())
        .count();
    let mapped = word.iter().filter(|c| c.kind == Kind::Mapped).count();
    if ascii_letters > 0 && mapped > 0 && letters >= 3 {
        mixed.count += 1;
        let last = word.last().map_or(first.orig.1, |c| c.orig.1);
        mixed
            .first
            .get_or_insert(first.orig.0 as usize..last as usize);
    }
    if !out.text.is_empty() {
        out.push(' ', (first.orig.0, first.orig.0));
    }
    // Leetspeak only where a digit or @/$ sits before a letter (`1gn0re`,
    // `h4ck`, `@dmin`), not in `base64`, `gpt4`, `rot13` or `v1`.
    let leetable = word.windows(2).any(|w| {
        (w[0].c.is_ascii_digit() || matches!(w[0].c, '@' | '$')) && w[1].c.is_alphabetic()
    }) || word
        .windows(2)
        .any(|w| w[0].c.is_alphabetic() && matches!(w[1].c, '@' | '$'));
    for ch in word {
        let c = if letters > 0 && leetable {
            leet(ch.c)
        } else {
            ch.c
        };
        if c == '@' || c == '$' {
            continue;
        }
        out.push(c, ch.orig);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skel(s: &str) -> String {
        let (f, _) = fold(s);
        skeleton(&f).0.text
    }

    #[test]
    fn fold_lowercases_strips_accents_and_collapses_space() {
        let (v, _) = fold("  Ïgnórè   ALL\n\n  previous\t");
        assert_eq!(v.text, "ignore all\nprevious ");
    }

    #[test]
    fn fold_keeps_other_scripts() {
        let (v, _) = fold("Игнорируй ВСЕ 이전 지시를 무시 すべての指示");
        assert_eq!(v.text, "игнорируй все 이전 지시를 무시 すべての指示");
    }

    #[test]
    fn fold_maps_fullwidth_and_math_letters() {
        let (v, _) = fold("ｉｇｎｏｒｅ 𝐩𝐫𝐞𝐯𝐢𝐨𝐮𝐬");
        assert_eq!(v.text, "ignore previous");
    }

    #[test]
    fn zero_width_inside_word_is_removed_and_signalled() {
        let (v, s) = fold("ig\u{200B}nore pre\u{200D}vious");
        assert_eq!(v.text, "ignore previous");
        assert_eq!(s.invisible, Some(2..5));
    }

    #[test]
    fn emoji_zwj_is_not_a_signal() {
        let (_, s) = fold("family 👨\u{200D}👩\u{200D}👧 emoji");
        assert!(s.invisible.is_none());
    }

    #[test]
    fn tag_characters_are_decoded() {
        let hidden: String = "ignore"
            .chars()
            .map(|c| char::from_u32(0xE0000 + c as u32).unwrap_or(' '))
            .collect();
        let (v, s) = fold(&format!("hello{hidden} world"));
        assert_eq!(v.text, "hello world");
        assert_eq!(s.tags.len(), 1);
        assert_eq!(s.tags[0].1, "ignore");
    }

    #[test]
    fn england_flag_tags_are_not_a_signal() {
        let (_, s) = fold("🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F} football");
        assert!(s.tags.is_empty());
    }

    #[test]
    fn skeleton_maps_homoglyphs_leet_and_spacing() {
        assert_eq!(skel("Ignоre (Cyrillic o)"), "ignore cyrillic o");
        assert_eq!(skel("1gn0r3 4ll pr3v10us"), "ignore all previous");
        assert_eq!(skel("i g n o r e  a l l"), "ignore all");
        assert_eq!(skel("i.g.n.o.r.e previous"), "ignore previous");
        assert_eq!(
            skel("version 2024 is v1.2 base64 rot13"),
            "version 2024 is v1 2 base64 rot13"
        );
    }

    #[test]
    fn skeleton_flags_mixed_script_words() {
        let (f, _) = fold("please іgnore this");
        let (_, mixed) = skeleton(&f);
        assert_eq!(mixed.count, 1);
        let (f, _) = fold("Привет мир, hello world");
        let (_, mixed) = skeleton(&f);
        assert!(mixed.first.is_none());
    }

    #[test]
    fn spans_point_into_the_original() {
        let text = "Ｈｉ ｉｇｎｏｒｅ";
        let (f, _) = fold(text);
        let (s, _) = skeleton(&f);
        let at = s.text.find("ignore").unwrap_or(0);
        let r = s.original(at..at + 6);
        assert_eq!(&text[r], "ｉｇｎｏｒｅ");
    }
}
