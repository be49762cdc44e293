//! Personal data detectors with their validators: formats alone match too
//! much, so every number carries its checksum or its issuing rules.

use crate::output::PiiKind;
use regex::Regex;
use std::ops::Range;
use std::sync::LazyLock;

/// A PII match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PiiMatch {
    pub(crate) kind: PiiKind,
    pub(crate) span: Range<usize>,
}

type Verify = fn(&str, Range<usize>) -> Option<Range<usize>>;

struct Detector {
    kind: PiiKind,
    re: Regex,
    /// Validates the match; may narrow it.
    verify: Verify,
}

static DETECTORS: LazyLock<Vec<Detector>> = LazyLock::new(|| {
    let table: [(PiiKind, &str, Verify); 8] = [
        (
            PiiKind::Email,
            r"(?i)[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.[a-z]{2,24}(?-u:\b)",
            verify_email,
        ),
        (
            PiiKind::CardNumber,
            r"(?-u:\b)\d(?:[ -]?\d){12,18}(?-u:\b)",
            verify_card,
        ),
        (
            PiiKind::Iban,
            r"(?-u:\b)[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?-u:\b)",
            verify_iban,
        ),
        (
            PiiKind::UsSsn,
            r"(?-u:\b)\d{3}-\d{2}-\d{4}(?-u:\b)",
            verify_ssn,
        ),
        (
            PiiKind::UkNino,
            r"(?-u:\b)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?-u:\b)",
            verify_nino,
        ),
        (
            PiiKind::EsDni,
            r"(?-u:\b)[XYZ]?\d{7,8}-?[A-Z](?-u:\b)",
            verify_dni,
        ),
        (
            PiiKind::Phone,
            r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}(?-u:\b)",
            verify_phone_intl,
        ),
        (
            PiiKind::Phone,
            r"(?:\(\d{3}\) ?|(?-u:\b)\d{3}[-. ])\d{3}[-. ]\d{4}(?-u:\b)",
            verify_phone_nanp,
        ),
    ];
    table
        .into_iter()
        .filter_map(|(kind, re, verify)| {
            Some(Detector {
                kind,
                re: Regex::new(re).ok()?,
                verify,
            })
        })
        .collect()
});

/// Whether every detector compiled.
pub(crate) fn ready() -> bool {
    DETECTORS.len() == 8
}

fn digits(s: &str) -> Vec<u8> {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

/// The byte before and after a match: a number glued to more digits, or a
/// word glued to more letters, is not the thing detected.
fn isolated(text: &str, r: &Range<usize>) -> bool {
    let b = text.as_bytes();
    let before = r.start.checked_sub(1).and_then(|i| b.get(i)).copied();
    let after = b.get(r.end).copied();
    let glued = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_');
    // "1.2.3" and "12-34": a separator followed by a digit continues the number.
    let cont_after = matches!(after, Some(b'.' | b'-' | b'/'))
        && b.get(r.end + 1).is_some_and(u8::is_ascii_digit);
    let cont_before = matches!(before, Some(b'.' | b'-' | b'/' | b'+'))
        && r.start >= 2
        && b.get(r.start - 2).is_some_and(u8::is_ascii_digit);
    !glued(before) && !glued(after) && !cont_after && !cont_before
}

pub(crate) fn luhn(d: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &x) in d.iter().rev().enumerate() {
        let mut v = u32::from(x);
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    !d.is_empty() && sum.is_multiple_of(10)
}

fn verify_email(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    let s = text.get(r.clone())?;
    let (local, domain) = s.rsplit_once('@')?;
    let domain = domain.to_ascii_lowercase();
    // Documentation domains (RFC 2606) and obvious samples are no one's.
    let reserved = [
        "example.com",
        "example.org",
        "example.net",
        "example",
        "test",
        "invalid",
        "localhost",
    ];
    if reserved
        .iter()
        .any(|d| domain == *d || domain.ends_with(&format!(".{d}")))
    {
        return None;
    }
    if local.ends_with('.') || local.contains("..") {
        return None;
    }
    // `user@2x.png` is an image name.
    if [".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"]
        .iter()
        .any(|e| domain.ends_with(e))
    {
        return None;
    }
    Some(r)
}

fn verify_card(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    if !isolated(text, &r) {
        return None;
    }
    let s = text.get(r.clone())?;
    // One separator style: all spaces, all dashes or none.
    if s.contains(' ') && s.contains('-') {
        return None;
    }
    let d = digits(s);
    if !(13..=19).contains(&d.len()) || !luhn(&d) {
        return None;
    }
    let n2 = u32::from(d[0]) * 10 + u32::from(d[1]);
    let n4 = n2 * 100 + u32::from(d[2]) * 10 + u32::from(d[3]);
    let known = d[0] == 4
        || (51..=55).contains(&n2)
        || (2221..=2720).contains(&n4)
        || n2 == 34
        || n2 == 37
        || n4 == 6011
        || n2 == 65
        || (6440..=6499).contains(&n4)
        || n2 == 35
        || n2 == 36
        || n2 == 38
        || n2 == 30
        || n2 == 62;
    // One digit repeated is no card.
    let distinct = d.iter().collect::<std::collections::BTreeSet<_>>().len();
    (known && distinct >= 2).then_some(r)
}

/// IBAN lengths by country (ISO 13616 registry).
fn iban_length(cc: &str) -> Option<usize> {
    Some(match cc {
        "NO" => 15,
        "BE" => 16,
        "DK" | "FI" | "FO" | "GL" | "NL" => 18,
        "MK" | "SI" => 19,
        "AT" | "BA" | "EE" | "KZ" | "LT" | "LU" | "XK" => 20,
        "CH" | "CR" | "HR" | "LI" | "LV" => 21,
        "BG" | "BH" | "DE" | "GB" | "GE" | "IE" | "ME" | "RS" | "VA" => 22,
        "AE" | "GI" | "IL" | "TL" => 23,
        "AD" | "CZ" | "ES" | "MD" | "PK" | "RO" | "SA" | "SE" | "SK" | "TN" | "VG" => 24,
        "LY" | "PT" | "ST" => 25,
        "IS" | "TR" => 26,
        "FR" | "GR" | "IT" | "MC" | "MR" | "SM" => 27,
        "AL" | "AZ" | "BY" | "CY" | "DO" | "GT" | "HU" | "LB" | "PL" | "SV" => 28,
        "BR" | "EG" | "PS" | "QA" | "UA" => 29,
        "JO" | "KW" | "MU" => 30,
        "MT" | "SC" => 31,
        "LC" => 32,
        "RU" => 33,
        _ => return None,
    })
}

pub(crate) fn iban_valid(compact: &str) -> bool {
    let Some(cc) = compact.get(..2) else {
        return false;
    };
    if iban_length(cc) != Some(compact.len()) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut rem: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let v = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

fn verify_iban(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    let s = text.get(r.clone())?;
    let compact: String = s.chars().filter(|c| *c != ' ').collect();
    // The regex may take a following group; try the country's length.
    let cc = compact.get(..2)?;
    let want = iban_length(cc)?;
    if compact.len() < want {
        return None;
    }
    let candidate = compact.get(..want)?;
    if !iban_valid(candidate) {
        return None;
    }
    // Map the compact length back to the original span.
    let mut seen = 0;
    let mut end = r.start;
    for (i, c) in s.char_indices() {
        if c != ' ' {
            seen += 1;
        }
        if seen == want {
            end = r.start + i + c.len_utf8();
            break;
        }
    }
    Some(r.start..end)
}

fn verify_ssn(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    if !isolated(text, &r) {
        return None;
    }
    let s = text.get(r.clone())?;
    let area: u32 = s.get(0..3)?.parse().ok()?;
    let group: u32 = s.get(4..6)?.parse().ok()?;
    let serial: u32 = s.get(7..11)?.parse().ok()?;
    // SSA rules: no area 000, 666 or 900-999, no group 00, no serial 0000;
    // 123-45-6789 and 078-05-1120 are the famous samples.
    let sample = matches!(s, "123-45-6789" | "078-05-1120" | "219-09-9999");
    (area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 && !sample).then_some(r)
}

fn verify_nino(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    let s = text.get(r.clone())?;
    let prefix = s.get(..2)?;
    // HMRC: these prefixes are never issued; the second letter is never O.
    if matches!(prefix, "BG" | "GB" | "NK" | "KN" | "TN" | "NT" | "ZZ") || prefix.ends_with('O') {
        return None;
    }
    // Spacing is either none or the usual "AB 12 34 56 C".
    let spaces = s.matches(' ').count();
    (spaces == 0 || spaces == 4).then_some(r)
}

fn verify_dni(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    let s = text.get(r.clone())?;
    let letter = s.chars().last()?;
    let body: String = s.chars().filter(char::is_ascii_alphanumeric).collect();
    let body = body.get(..body.len() - 1)?;
    let number: String = match body.chars().next()? {
        'X' => format!("0{}", body.get(1..)?),
        'Y' => format!("1{}", body.get(1..)?),
        'Z' => format!("2{}", body.get(1..)?),
        _ => body.to_owned(),
    };
    // DNI: 8 digits; NIE: X/Y/Z and 7 digits.
    if number.len() != 8 {
        return None;
    }
    let n: u64 = number.parse().ok()?;
    let table = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let want = char::from(*table.get(usize::try_from(n % 23).ok()?)?);
    (want == letter).then_some(r)
}

fn verify_phone_intl(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    let b = text.as_bytes();
    let after = b.get(r.end).copied();
    if after.is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    if r.start > 0 && b.get(r.start - 1).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let d = digits(text.get(r.clone())?);
    (8..=15).contains(&d.len()).then_some(r)
}

fn verify_phone_nanp(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    if !isolated(text, &r) {
        return None;
    }
    let s = text.get(r.clone())?;
    let d = digits(s);
    // NANP: area and exchange codes start with 2-9; 555-01xx are fictional.
    let ok = d.len() == 10
        && d[0] >= 2
        && d[3] >= 2
        && !(d[3] == 5 && d[4] == 5 && d[5] == 5 && d[6] == 0 && d[7] == 1);
    // The same separator twice (or a parenthesised area code).
    let seps: Vec<char> = s.chars().filter(|c| matches!(c, '-' | '.' | ' ')).collect();
    let consistent = s.starts_with('(') || seps.windows(2).all(|w| w[0] == w[1]);
    (ok && consistent).then_some(r)
}

/// Every PII match of the wanted kinds in `text`, sorted, non-overlapping
/// (earlier start wins, then the longer match).
pub(crate) fn detect(text: &str, wanted: &dyn Fn(PiiKind) -> bool) -> Vec<PiiMatch> {
    let mut found: Vec<PiiMatch> = Vec::new();
    let has_digit = text.bytes().any(|b| b.is_ascii_digit());
    for d in DETECTORS.iter() {
        if !wanted(d.kind) {
            continue;
        }
        if d.kind == PiiKind::Email {
            if !text.contains('@') {
                continue;
            }
        } else if !has_digit {
            continue;
        }
        for m in d.re.find_iter(text).take(1000) {
            if let Some(span) = (d.verify)(text, m.range()) {
                found.push(PiiMatch { kind: d.kind, span });
            }
        }
    }
    found.sort_by(|a, b| {
        a.span
            .start
            .cmp(&b.span.start)
            .then(b.span.end.cmp(&a.span.end))
    });
    let mut out: Vec<PiiMatch> = Vec::with_capacity(found.len());
    for m in found {
        if out.last().is_some_and(|l| m.span.start < l.span.end) {
            continue;
        }
        out.push(m);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(PiiKind, String)> {
        detect(text, &|_| true)
            .into_iter()
            .map(|m| (m.kind, text[m.span].to_owned()))
            .collect()
    }

    #[test]
    fn all_detectors_compile() {
        assert!(ready());
    }

    #[test]
    fn cards_need_luhn_and_a_known_prefix() {
        assert_eq!(
            kinds("card 4111 1111 1111 1111 ok"),
            vec![(PiiKind::CardNumber, "4111 1111 1111 1111".into())]
        );
        assert_eq!(
            kinds("5555-5555-5555-4444"),
            vec![(PiiKind::CardNumber, "5555-5555-5555-4444".into())]
        );
        assert!(kinds("4111 1111 1111 1112").is_empty());
        assert!(kinds("order 1234567890123456").is_empty());
    }

    #[test]
    fn ibans_need_mod97_and_the_country_length() {
        assert_eq!(
            kinds("pay to GB82 WEST 1234 5698 7654 32 today"),
            vec![(PiiKind::Iban, "GB82 WEST 1234 5698 7654 32".into())]
        );
        assert_eq!(
            kinds("DE89370400440532013000"),
            vec![(PiiKind::Iban, "DE89370400440532013000".into())]
        );
        assert!(kinds("GB83 WEST 1234 5698 7654 32").is_empty());
    }

    #[test]
    fn national_ids() {
        assert_eq!(
            kinds("SSN 536-22-1234."),
            vec![(PiiKind::UsSsn, "536-22-1234".into())]
        );
        assert!(kinds("SSN 666-22-1234 and 123-45-6789").is_empty());
        assert_eq!(
            kinds("NI number AB 12 34 56 C"),
            vec![(PiiKind::UkNino, "AB 12 34 56 C".into())]
        );
        assert!(kinds("GB123456A").is_empty());
        assert_eq!(
            kinds("DNI 12345678Z"),
            vec![(PiiKind::EsDni, "12345678Z".into())]
        );
        assert!(kinds("DNI 12345678A").is_empty());
        assert_eq!(
            kinds("NIE X1234567L"),
            vec![(PiiKind::EsDni, "X1234567L".into())]
        );
    }

    #[test]
    fn emails_and_phones() {
        assert_eq!(
            kinds("write to jane.doe@acme.io."),
            vec![(PiiKind::Email, "jane.doe@acme.io".into())]
        );
        assert!(kinds("see user@example.com and logo@2x.png").is_empty());
        assert_eq!(
            kinds("call +44 20 7946 0958 now"),
            vec![(PiiKind::Phone, "+44 20 7946 0958".into())]
        );
        assert_eq!(
            kinds("call (415) 555-2671"),
            vec![(PiiKind::Phone, "(415) 555-2671".into())]
        );
        assert_eq!(
            kinds("call 415-555-2671"),
            vec![(PiiKind::Phone, "415-555-2671".into())]
        );
        assert!(kinds("version 1.2.3, date 2024-01-15, ip 192.168.100.200").is_empty());
    }
}
