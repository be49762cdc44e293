//! The output filter: secrets, PII and canaries in model output, redacted or
//! blocked, in one piece or over a stream of chunks.

use crate::ConfigError;
use crate::canary::{Canary, Matcher};
use crate::pii;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::sync::Arc;

/// Rule ID: a credential in model output.
pub const DLP_SECRET: &str = "PLS-DLP-001";
/// Rule ID: personal data in model output.
pub const DLP_PII: &str = "PLS-DLP-002";
/// Rule ID: the system prompt's canary in model output (prompt leakage).
pub const DLP_CANARY: &str = "PLS-DLP-003";

/// What to do with a kind of finding.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum DlpAction {
    /// Not looked for.
    Off,
    /// Replaced by `[redacted:<kind>]`.
    #[default]
    Redact,
    /// Redacted, and the response is to be stopped ([`Redaction::blocked`]).
    Block,
}

/// The personal data kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PiiKind {
    /// An email address (documentation domains excepted).
    Email,
    /// An international (`+CC ...`) or North American phone number.
    Phone,
    /// A payment card number: known issuer prefix and Luhn checksum.
    CardNumber,
    /// An IBAN: country length and ISO 7064 mod-97 checksum.
    Iban,
    /// A US Social Security number (SSA issuing rules).
    UsSsn,
    /// A UK National Insurance number (HMRC prefix rules).
    UkNino,
    /// A Spanish DNI or NIE with its check letter.
    EsDni,
}

impl PiiKind {
    /// The kebab-case name used in redaction markers.
    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::CardNumber => "card-number",
            PiiKind::Iban => "iban",
            PiiKind::UsSsn => "us-ssn",
            PiiKind::UkNino => "uk-nino",
            PiiKind::EsDni => "es-dni",
        }
    }

    /// Every kind.
    pub const ALL: [PiiKind; 7] = [
        PiiKind::Email,
        PiiKind::Phone,
        PiiKind::CardNumber,
        PiiKind::Iban,
        PiiKind::UsSsn,
        PiiKind::UkNino,
        PiiKind::EsDni,
    ];
}

/// Configuration of an [`OutputGuard`] (a tenant's `output:` section).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    /// Credentials (the scanner's detectors).
    pub secrets: DlpAction,
    /// Personal data.
    pub pii: DlpAction,
    /// The PII kinds looked for (all by default).
    pub pii_kinds: Vec<PiiKind>,
    /// Canary tokens whose appearance means the system prompt leaked.
    pub canaries: Vec<String>,
    /// What a leaked canary does.
    pub canary_action: DlpAction,
    /// Bytes of a stream held back so that a match split across chunks is
    /// seen whole (at least the longest PII match; 256 by default).
    pub hold_back: usize,
    /// Most bytes held back while a token without whitespace (a JWT, a
    /// key) or an open PEM block is still growing.
    pub max_hold: usize,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            secrets: DlpAction::Redact,
            pii: DlpAction::Redact,
            pii_kinds: PiiKind::ALL.to_vec(),
            canaries: Vec::new(),
            canary_action: DlpAction::Block,
            hold_back: 256,
            max_hold: 16 << 10,
        }
    }
}

/// One thing found in output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DlpHit {
    /// `PLS-DLP-001` (secret), `-002` (PII) or `-003` (canary).
    pub rule: &'static str,
    /// The detector: a secret detector ID (`aws-access-key-id`), a PII kind
    /// (`email`) or `canary`.
    pub kind: &'static str,
    /// Byte range in the whole output (for a stream, from its first byte).
    pub span: Range<usize>,
    /// What was done.
    pub action: DlpAction,
}

/// Output after filtering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    /// The text with every hit replaced by `[redacted:<kind>]`.
    pub text: String,
    /// What was found, by position.
    pub hits: Vec<DlpHit>,
    /// A hit's action was [`DlpAction::Block`]: stop the response.
    pub blocked: bool,
}

#[derive(Debug)]
struct Inner {
    cfg: OutputConfig,
    canaries: Vec<Matcher>,
}

/// The output filter. Cheap to clone (shared state).
#[derive(Debug, Clone)]
pub struct OutputGuard {
    inner: Arc<Inner>,
}

impl OutputGuard {
    /// Validates `cfg` and builds the filter.
    pub fn new(cfg: &OutputConfig) -> Result<Self, ConfigError> {
        if cfg.hold_back < 64 || cfg.hold_back > cfg.max_hold {
            return Err(ConfigError::HoldBack {
                hold_back: cfg.hold_back,
                max_hold: cfg.max_hold,
            });
        }
        if !pii::ready() {
            return Err(ConfigError::Pattern("PII detectors".into()));
        }
        let canaries = cfg
            .canaries
            .iter()
            .map(|t| Canary::from_token(t).map(|c| Matcher::new(&c)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OutputGuard {
            inner: Arc::new(Inner {
                cfg: cfg.clone(),
                canaries,
            }),
        })
    }

    /// Adds canaries to a copy of this guard (the gateway derives one per
    /// tenant and system prompt).
    #[must_use]
    pub fn with_canaries(&self, canaries: &[Canary]) -> OutputGuard {
        let mut cfg = self.inner.cfg.clone();
        let mut matchers = self.inner.canaries.clone();
        for c in canaries {
            cfg.canaries.push(c.token().to_owned());
            matchers.push(Matcher::new(c));
        }
        OutputGuard {
            inner: Arc::new(Inner {
                cfg,
                canaries: matchers,
            }),
        }
    }

    /// Everything found in `text`, sorted by position, non-overlapping
    /// (canaries first, then secrets, then PII; then the earlier start).
    pub fn scan(&self, text: &str) -> Vec<DlpHit> {
        let cfg = &self.inner.cfg;
        let mut all: Vec<(u8, DlpHit)> = Vec::new();
        if cfg.canary_action != DlpAction::Off {
            let mut spans = Vec::new();
            for m in &self.inner.canaries {
                m.find(text, &mut spans);
            }
            for span in spans {
                all.push((
                    0,
                    DlpHit {
                        rule: DLP_CANARY,
                        kind: "canary",
                        span,
                        action: cfg.canary_action,
                    },
                ));
            }
        }
        if cfg.secrets != DlpAction::Off {
            for m in palisade_core::secrets::detect(text) {
                all.push((
                    1,
                    DlpHit {
                        rule: DLP_SECRET,
                        kind: m.detector,
                        span: m.span,
                        action: cfg.secrets,
                    },
                ));
            }
        }
        if cfg.pii != DlpAction::Off && !cfg.pii_kinds.is_empty() {
            let kinds = &cfg.pii_kinds;
            for m in pii::detect(text, &|k| kinds.contains(&k)) {
                all.push((
                    2,
                    DlpHit {
                        rule: DLP_PII,
                        kind: m.kind.as_str(),
                        span: m.span,
                        action: cfg.pii,
                    },
                ));
            }
        }
        // Priority, then position; drop what overlaps an earlier pick.
        all.sort_by(|a, b| {
            (a.0, a.1.span.start, std::cmp::Reverse(a.1.span.end)).cmp(&(
                b.0,
                b.1.span.start,
                std::cmp::Reverse(b.1.span.end),
            ))
        });
        let mut out: Vec<DlpHit> = Vec::new();
        for (_, h) in all {
            if h.span.is_empty()
                || out
                    .iter()
                    .any(|o| h.span.start < o.span.end && o.span.start < h.span.end)
            {
                continue;
            }
            out.push(h);
        }
        out.sort_by_key(|h| h.span.start);
        out
    }

    /// Redacts `text` in one piece.
    pub fn redact(&self, text: &str) -> Redaction {
        let hits = self.scan(text);
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for h in &hits {
            out.push_str(text.get(at..h.span.start).unwrap_or(""));
            push_marker(&mut out, h.kind);
            at = h.span.end;
        }
        out.push_str(text.get(at..).unwrap_or(""));
        let blocked = hits.iter().any(|h| h.action == DlpAction::Block);
        Redaction {
            text: out,
            hits,
            blocked,
        }
    }

    /// A redactor for one streamed response.
    pub fn stream(&self) -> StreamRedactor {
        StreamRedactor {
            guard: self.clone(),
            ctx: String::new(),
            buf: String::new(),
            base: 0,
            hits: Vec::new(),
            blocked: false,
        }
    }
}

fn push_marker(out: &mut String, kind: &str) {
    out.push_str("[redacted:");
    out.push_str(kind);
    out.push(']');
}

/// Left context kept after emitting, so detectors see what precedes the
/// held-back text (word boundaries, key names).
const CONTEXT: usize = 256;

fn floor_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Start of an open PEM private-key block in `s`: a header that is, or may
/// still become, a private-key header, without a complete footer.
fn open_pem(s: &str) -> Option<usize> {
    let h = s.rfind("-----BEGIN")?;
    let rest = s.get(h + 10..)?;
    let header_end = rest.find("-----");
    let is_key = match header_end {
        Some(e) => rest.get(..e).is_some_and(|hd| hd.contains("PRIVATE KEY")),
        None => rest.len() <= 120,
    };
    if !is_key {
        return None;
    }
    let after = rest
        .get(header_end.map_or(rest.len(), |e| e + 5)..)
        .unwrap_or("");
    let closed = after.find("-----END").is_some_and(|e| {
        after
            .get(e..)
            .is_some_and(|f| f.contains("PRIVATE KEY-----") || f.contains("PRIVATE KEY BLOCK-----"))
    });
    (!closed).then_some(h)
}

/// Redacts a streamed response chunk by chunk.
///
/// `push` returns what may be sent on now; `finish` returns the rest. The
/// concatenation of everything returned equals [`OutputGuard::redact`] of
/// the whole text, however the text was split (property-tested), because
/// the redactor holds back the last [`OutputConfig::hold_back`] bytes, any
/// trailing run without whitespace and any open PEM block (each up to
/// [`OutputConfig::max_hold`]), and never emits part of a match.
///
/// Once a hit with [`DlpAction::Block`] is found, [`StreamRedactor::blocked`]
/// is true and nothing more is emitted: the caller ends the stream.
#[derive(Debug)]
pub struct StreamRedactor {
    guard: OutputGuard,
    /// The last emitted bytes of the original text (up to [`CONTEXT`]).
    ctx: String,
    /// Received, not yet emitted.
    buf: String,
    /// Offset of `buf` in the whole stream.
    base: usize,
    hits: Vec<DlpHit>,
    blocked: bool,
}

impl StreamRedactor {
    /// Takes the next chunk; returns the text safe to send now.
    pub fn push(&mut self, chunk: &str) -> String {
        if self.blocked {
            return String::new();
        }
        self.buf.push_str(chunk);
        let cfg = &self.guard.inner.cfg;
        // Batch work: scan only when enough is held to release something.
        if self.buf.len() < cfg.hold_back + 32 {
            return String::new();
        }
        self.drain(false)
    }

    /// Ends the stream; returns the rest.
    pub fn finish(&mut self) -> String {
        if self.blocked {
            return String::new();
        }
        self.drain(true)
    }

    /// Everything found so far (spans from the first byte of the stream).
    pub fn hits(&self) -> &[DlpHit] {
        &self.hits
    }

    /// A blocking hit was found: end the response.
    pub fn blocked(&self) -> bool {
        self.blocked
    }

    fn drain(&mut self, last: bool) -> String {
        let cfg = &self.guard.inner.cfg;
        let ctx_len = self.ctx.len();
        let mut scan = String::with_capacity(ctx_len + self.buf.len());
        scan.push_str(&self.ctx);
        scan.push_str(&self.buf);
        let found = self.guard.scan(&scan);
        let mut cut = if last {
            scan.len()
        } else {
            let mut cut = floor_boundary(&scan, scan.len().saturating_sub(cfg.hold_back));
            let tail_start = scan.rfind(char::is_whitespace).map_or(0, |i| {
                i + scan[i..].chars().next().map_or(1, char::len_utf8)
            });
            if tail_start < cut && scan.len() - tail_start <= cfg.max_hold {
                cut = tail_start;
            }
            if let Some(h) = open_pem(&scan[ctx_len..]).map(|h| h + ctx_len)
                && h < cut
                && scan.len() - h <= cfg.max_hold
            {
                cut = h;
            }
            // Never cut through a match.
            for m in found.iter().rev() {
                if m.span.start < cut && m.span.end > cut {
                    cut = m.span.start;
                }
            }
            cut.max(ctx_len)
        };
        cut = floor_boundary(&scan, cut).max(ctx_len);
        let mut out = String::with_capacity(cut - ctx_len + 16);
        let mut at = ctx_len;
        let stream_offset = self.base - ctx_len;
        for m in &found {
            if m.span.end <= ctx_len || m.span.start >= cut {
                continue;
            }
            // A match begun in text already sent (only when it outgrew the
            // window): redact the part not yet sent.
            let start = m.span.start.max(ctx_len);
            let end = m.span.end.min(cut);
            if start < at {
                continue;
            }
            out.push_str(scan.get(at..start).unwrap_or(""));
            push_marker(&mut out, m.kind);
            at = end;
            self.hits.push(DlpHit {
                rule: m.rule,
                kind: m.kind,
                span: m.span.start + stream_offset..m.span.end + stream_offset,
                action: m.action,
            });
            if m.action == DlpAction::Block {
                self.blocked = true;
            }
        }
        if at < cut {
            out.push_str(scan.get(at..cut).unwrap_or(""));
        }
        // Slide: the emitted text becomes context.
        let emitted_end = cut.max(at);
        let keep_from = floor_boundary(&scan, emitted_end.saturating_sub(CONTEXT));
        let keep_from = (keep_from..=emitted_end)
            .find(|&i| scan.is_char_boundary(i))
            .unwrap_or(emitted_end);
        self.ctx = scan.get(keep_from..emitted_end).unwrap_or("").to_owned();
        self.buf = scan.get(emitted_end..).unwrap_or("").to_owned();
        self.base += emitted_end - ctx_len;
        if self.blocked {
            self.buf.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn guard() -> OutputGuard {
        OutputGuard::new(&OutputConfig::default()).expect("default config")
    }

    const SAMPLE: &str = "Sure. Key AKIAZ3MHQWERTY7UIOPQ, mail jane.doe@acme.io, card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32, phone +44 20 7946 0958, token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 end.";

    #[test]
    fn one_shot_redaction() {
        let r = guard().redact(SAMPLE);
        assert_eq!(
            r.text,
            "Sure. Key [redacted:aws-access-key-id], mail [redacted:email], card [redacted:card-number], IBAN [redacted:iban], phone [redacted:phone], token [redacted:github-pat] end."
        );
        assert!(!r.blocked);
        assert!(
            r.hits
                .iter()
                .all(|h| h.rule == DLP_SECRET || h.rule == DLP_PII)
        );
    }

    fn streamed(g: &OutputGuard, chunks: &[&str]) -> String {
        let mut s = g.stream();
        let mut out = String::new();
        for c in chunks {
            out.push_str(&s.push(c));
        }
        out.push_str(&s.finish());
        out
    }

    #[test]
    fn every_two_way_split_matches_one_shot() {
        let g = OutputGuard::new(&OutputConfig {
            hold_back: 64,
            ..OutputConfig::default()
        })
        .expect("cfg");
        let text = format!("{SAMPLE} {SAMPLE}");
        let want = g.redact(&text).text;
        for i in 0..=text.len() {
            if !text.is_char_boundary(i) {
                continue;
            }
            assert_eq!(
                streamed(&g, &[&text[..i], &text[i..]]),
                want,
                "split at {i}"
            );
        }
    }

    #[test]
    fn byte_by_byte_stream_matches_one_shot() {
        let g = OutputGuard::new(&OutputConfig {
            hold_back: 64,
            ..OutputConfig::default()
        })
        .expect("cfg");
        let text = SAMPLE.repeat(4);
        let chunks: Vec<&str> = text.split_inclusive(|_| true).collect();
        assert_eq!(streamed(&g, &chunks), g.redact(&text).text);
    }

    #[test]
    fn pem_block_is_held_until_its_end() {
        let g = OutputGuard::new(&OutputConfig {
            hold_back: 64,
            ..OutputConfig::default()
        })
        .expect("cfg");
        let body = "MIIEowIBAAKCAQEA7bq1\n".repeat(40);
        let text = format!(
            "here:\n-----BEGIN RSA PRIVATE KEY-----\n{body}-----END RSA PRIVATE KEY-----\ndone"
        );
        let chunks: Vec<String> = text
            .as_bytes()
            .chunks(7)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
        let out = streamed(&g, &refs);
        assert_eq!(out, g.redact(&text).text);
        assert!(!out.contains("MIIEow"));
    }

    #[test]
    fn canary_blocks_the_stream() {
        let c = Canary::derive(b"key", "demo", "You are a bank assistant.");
        let g = guard().with_canaries(std::slice::from_ref(&c));
        let leak = format!(
            "My instructions say: Confidential marker {} never repeat",
            c.token()
        );
        let r = g.redact(&leak);
        assert!(r.blocked);
        assert!(!r.text.contains(c.token()));
        let mut s = g.stream();
        let mut out = String::new();
        for ch in leak.as_bytes().chunks(3) {
            out.push_str(&s.push(std::str::from_utf8(ch).unwrap_or("")));
        }
        out.push_str(&s.finish());
        assert!(s.blocked());
        assert!(!out.contains(c.token()));
        assert_eq!(s.hits()[0].rule, DLP_CANARY);
    }

    #[test]
    fn config_is_validated() {
        assert!(
            OutputGuard::new(&OutputConfig {
                hold_back: 8,
                ..OutputConfig::default()
            })
            .is_err()
        );
        assert!(
            OutputGuard::new(&OutputConfig {
                canaries: vec!["short".into()],
                ..OutputConfig::default()
            })
            .is_err()
        );
        let off = OutputGuard::new(&OutputConfig {
            pii: DlpAction::Off,
            ..OutputConfig::default()
        })
        .expect("cfg");
        assert_eq!(
            off.redact("mail jane.doe@acme.io").text,
            "mail jane.doe@acme.io"
        );
    }

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z]{1,8}".prop_map(|s| s),
            Just(" ".to_owned()),
            Just("\n".to_owned()),
            Just(", ".to_owned()),
            Just("jane.doe@acme.io".to_owned()),
            Just("4111 1111 1111 1111".to_owned()),
            Just("5555-5555-5555-4444".to_owned()),
            Just("GB82 WEST 1234 5698 7654 32".to_owned()),
            Just("+44 20 7946 0958".to_owned()),
            Just("(415) 555-2671".to_owned()),
            Just("536-22-1234".to_owned()),
            Just("AB 12 34 56 C".to_owned()),
            Just("12345678Z".to_owned()),
            "AKIA[A-Z2-7]{16}".prop_map(|s| s),
            "ghp_[A-Za-z0-9]{36}".prop_map(|s| s),
            Just("password = \"hunter2-Xq9#vL0pZ\"".to_owned()),
            Just("é漢字🙂".to_owned()),
            "[0-9]{1,6}".prop_map(|s| s),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
        #[test]
        fn any_split_matches_one_shot(
            pieces in proptest::collection::vec(piece(), 1..60),
            cuts in proptest::collection::vec(0usize..4096, 0..40),
        ) {
            let g = OutputGuard::new(&OutputConfig { hold_back: 64, ..OutputConfig::default() }).expect("cfg");
            let text: String = pieces.concat();
            let mut points: Vec<usize> = cuts.into_iter().map(|c| c % (text.len() + 1)).filter(|&c| text.is_char_boundary(c)).collect();
            points.sort_unstable();
            points.dedup();
            let mut chunks = Vec::new();
            let mut at = 0;
            for p in points {
                chunks.push(&text[at..p]);
                at = p;
            }
            chunks.push(&text[at..]);
            prop_assert_eq!(streamed(&g, &chunks), g.redact(&text).text);
        }
    }
}
