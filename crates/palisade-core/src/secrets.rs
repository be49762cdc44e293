//! Secret detection and redaction, shared by the scanner rules, the gateway's
//! exfiltration filter and the secrets manager.
//!
//! Three layers, from most to least certain:
//! - [`detect`] finds credentials by their format alone (AWS access key IDs,
//!   GitHub, GitLab, Slack, Stripe, OpenAI, Anthropic, Hugging Face tokens,
//!   PEM private keys, JWTs, URLs with passwords...). Each [`SecretMatch`]
//!   names its detector and the byte span of the secret itself.
//! - [`detect_keyed`] adds what a key name tells: a non-placeholder value
//!   under `DB_PASSWORD`, or a random-looking value under a bare `key`
//!   ([`named_secret`], [`looks_secret_key`]).
//! - [`assignments`] pulls `KEY=value`, `key: value` and JSON pairs out of
//!   embedded configuration files, so the caller can judge each pair.
//!
//! [`redact`] makes the only form of a secret that may be shown: at most four
//! leading characters (none for short values) and the length; [`mask`]
//! replaces every detected secret in a text.
//!
//! Patterns follow gitleaks' default configuration (MIT) where it has one,
//! tightened with ASCII word boundaries. Nothing here panics on any input:
//! spans come from the regex engine (always on character boundaries), all
//! slicing is checked, and the regex engine is linear-time.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Captures, Regex, RegexSet};
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::{LazyLock, OnceLock};

/// How sure a detector is that a match is a live credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Confidence {
    /// Plausible; worth a look.
    Low,
    /// Format or context fits, but it could be a sample or a weak dummy.
    Medium,
    /// Format, checksum-like structure and randomness all fit.
    High,
}

/// A secret found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretMatch {
    /// Stable detector ID, e.g. `aws-access-key-id`.
    pub detector: &'static str,
    /// Human description, e.g. `AWS access key ID`.
    pub description: &'static str,
    /// Byte range of the secret itself in the scanned text.
    pub span: Range<usize>,
    /// How sure the detector is.
    pub confidence: Confidence,
}

/// A `key = value` pair found inside an embedded configuration text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The key (for JSON, the dotted path of keys, e.g. `db.password`).
    pub key: String,
    /// The value with quotes and trailing comments removed.
    pub value: String,
}

/// The detector ID for values judged by their key name ([`named_secret`]).
pub const NAMED_SECRET: &str = "named-secret";
const NAMED_SECRET_DESC: &str = "value of a secret-named key";

/// Texts are scanned whole; this only bounds the work spent resolving the
/// end of one PEM block or decoding one JWT header.
const PEM_SEARCH_LIMIT: usize = 1 << 16;
/// At most this many matches are kept per text.
const MAX_MATCHES: usize = 1000;

// ---------------------------------------------------------------------------
// Detectors
// ---------------------------------------------------------------------------

/// What a detector's verification sees.
struct Ctx<'t, 'c> {
    text: &'t str,
    caps: &'c Captures<'t>,
    span: Range<usize>,
}

impl Ctx<'_, '_> {
    fn secret(&self) -> &str {
        self.text.get(self.span.clone()).unwrap_or("")
    }
}

type Verify = fn(&Ctx<'_, '_>) -> Option<(Range<usize>, Confidence)>;

struct Detector {
    id: &'static str,
    description: &'static str,
    /// Case-insensitive literals; a text containing none is not searched.
    keywords: &'static [&'static str],
    pattern: &'static str,
    /// Capture group holding the secret (0 = whole match).
    group: usize,
    verify: Verify,
}

/// Detectors in priority order: when two matches overlap, the earlier
/// detector wins (specific formats before generic ones).
static DETECTORS: &[Detector] = &[
    Detector {
        id: "gcp-service-account-key",
        description: "Google Cloud service-account private key (JSON key file)",
        keywords: &["service_account"],
        pattern: r#""private_key"\s*:\s*"(-----BEGIN[^"]{20,})""#,
        group: 1,
        verify: |c| {
            (c.text.contains("\"client_email\"")).then(|| (c.span.clone(), Confidence::High))
        },
    },
    Detector {
        id: "private-key",
        description: "PEM private key",
        keywords: &["private key"],
        pattern: r"(-{3,5}BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-{3,5})",
        group: 1,
        verify: verify_pem,
    },
    Detector {
        id: "aws-access-key-id",
        description: "AWS access key ID",
        keywords: &["a3t", "akia", "asia", "abia", "acca"],
        pattern: r"(?-u:\b)((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})(?-u:\b)",
        group: 1,
        verify: |c| {
            let s = c.secret();
            (!s.ends_with("EXAMPLE") && shannon_entropy(s) >= 3.0)
                .then(|| (c.span.clone(), Confidence::High))
        },
    },
    Detector {
        id: "aws-secret-access-key",
        description: "AWS secret access key",
        keywords: &["secret"],
        pattern: r#"(?i)(?:aws|amazon)?[_.\s-]?secret[_.\s-]?(?:access[_.\s-]?)?key["']?[ \t]*(?:=|:=|:|=>|,)[ \t]*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        group: 1,
        verify: |c| {
            let s = c.secret();
            (!is_placeholder(s) && shannon_entropy(s) >= 3.5 && has_mixed_classes(s))
                .then(|| (c.span.clone(), Confidence::High))
        },
    },
    Detector {
        id: "azure-storage-account-key",
        description: "Azure storage account key",
        keywords: &["accountkey"],
        pattern: r"(?i)AccountKey[ \t]*=[ \t]*([A-Za-z0-9+/]{86}==)",
        group: 1,
        verify: |c| {
            (shannon_entropy(c.secret()) >= 4.0).then(|| (c.span.clone(), Confidence::High))
        },
    },
    Detector {
        id: "azure-shared-access-key",
        description: "Azure Service Bus / Event Hubs shared access key",
        keywords: &["sharedaccesskey"],
        pattern: r"(?i)SharedAccessKey[ \t]*=[ \t]*([A-Za-z0-9+/]{43}=)",
        group: 1,
        verify: |c| {
            (shannon_entropy(c.secret()) >= 4.0).then(|| (c.span.clone(), Confidence::High))
        },
    },
    Detector {
        id: "azure-sas-token",
        description: "Azure shared access signature",
        keywords: &["sig="],
        pattern: r"(?i)[?&;]sig=([A-Za-z0-9%+/]{40,120}(?:%3D|=)?)",
        group: 1,
        verify: |c| {
            let from = floor_boundary(c.text, c.span.start.saturating_sub(1024));
            let to = floor_boundary(c.text, c.span.end.saturating_add(1024));
            let lower = c.text.get(from..to).unwrap_or("").to_ascii_lowercase();
            (lower.contains("sv=") && (lower.contains("se=") || lower.contains("sp=")))
                .then(|| (c.span.clone(), Confidence::High))
        },
    },
    Detector {
        id: "azure-ad-client-secret",
        description: "Microsoft Entra ID (Azure AD) client secret",
        keywords: &["q~"],
        pattern: r#"(?:^|[\\'"`\s>=:(,)])([a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34})(?:$|[\\'"`\s<),])"#,
        group: 1,
        verify: |c| {
            (shannon_entropy(c.secret()) >= 3.0).then(|| (c.span.clone(), Confidence::High))
        },
    },
    Detector {
        id: "gcp-api-key",
        description: "Google Cloud API key",
        keywords: &["aiza"],
        pattern: r"(?-u:\b)(AIza[A-Za-z0-9_-]{35})(?:[^A-Za-z0-9_-]|$)",
        group: 1,
        verify: |c| {
            (shannon_entropy(c.secret()) >= 3.5).then(|| (c.span.clone(), Confidence::Medium))
        },
    },
    Detector {
        id: "anthropic-api-key",
        description: "Anthropic API key",
        keywords: &["sk-ant-"],
        pattern: r"(?-u:\b)(sk-ant-(?:api|admin|oat|ort)\d{2}-[A-Za-z0-9_-]{80,120})(?:[^A-Za-z0-9_-]|$)",
        group: 1,
        verify: |c| {
            (shannon_entropy(c.secret()) >= 3.5).then(|| (c.span.clone(), Confidence::High))
        },
    },
    Detector {
        id: "openai-api-key",
        description: "OpenAI API key",
        keywords: &["sk-"],
        pattern: r"(?-u:\b)(sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}))(?:[^A-Za-z0-9_-]|$)",
        group: 1,
        verify: |c| {
            let s = c.secret();
            if s.contains("T3BlbkFJ") {
                Some((c.span.clone(), Confidence::High))
            } else {
                (shannon_entropy(s) >= 4.0).then(|| (c.span.clone(), Confidence::Medium))
            }
        },
    },
    Detector {
        id: "huggingface-token",
        description: "Hugging Face access token",
        keywords: &["hf_", "api_org_"],
        pattern: r"(?-u:\b)((?:hf_|api_org_)[A-Za-z0-9]{34})(?:[^A-Za-z0-9_-]|$)",
        group: 1,
        verify: |c| {
            let s = c.secret();
            let body = s.trim_start_matches("api_org_").trim_start_matches("hf_");
            if shannon_entropy(body) < 3.0
                || !body.chars().any(|ch| ch.is_ascii_uppercase())
                || !body.chars().any(|ch| ch.is_ascii_lowercase())
            {
                return None;
            }
            let conf = if body.chars().all(|ch| ch.is_ascii_alphabetic()) {
                Confidence::High
            } else {
                Confidence::Medium
            };
            Some((c.span.clone(), conf))
        },
    },
    Detector {
        id: "github-pat",
        description: "GitHub personal access token (classic)",
        keywords: &["ghp_"],
        pattern: r"(?-u:\b)(ghp_[A-Za-z0-9]{36})(?-u:\b)",
        group: 1,
        verify: verify_entropy_3,
    },
    Detector {
        id: "github-fine-grained-pat",
        description: "GitHub fine-grained personal access token",
        keywords: &["github_pat_"],
        pattern: r"(?-u:\b)(github_pat_[A-Za-z0-9_]{82})(?-u:\b)",
        group: 1,
        verify: verify_entropy_3,
    },
    Detector {
        id: "github-oauth-token",
        description: "GitHub OAuth access token",
        keywords: &["gho_"],
        pattern: r"(?-u:\b)(gho_[A-Za-z0-9]{36})(?-u:\b)",
        group: 1,
        verify: verify_entropy_3,
    },
    Detector {
        id: "github-app-token",
        description: "GitHub App token",
        keywords: &["ghu_", "ghs_"],
        pattern: r"(?-u:\b)((?:ghu|ghs)_[A-Za-z0-9]{36})(?-u:\b)",
        group: 1,
        verify: verify_entropy_3,
    },
    Detector {
        id: "github-refresh-token",
        description: "GitHub refresh token",
        keywords: &["ghr_"],
        pattern: r"(?-u:\b)(ghr_[A-Za-z0-9]{36})(?-u:\b)",
        group: 1,
        verify: verify_entropy_3,
    },
    Detector {
        id: "gitlab-pat",
        description: "GitLab personal access token",
        keywords: &["glpat-"],
        pattern: r"(?-u:\b)(glpat-[A-Za-z0-9_-]{20,300}(?:\.[0-9a-z]{2,12})?)(?:[^A-Za-z0-9_-]|$)",
        group: 1,
        verify: verify_entropy_3,
    },
    Detector {
        id: "gitlab-token",
        description: "GitLab runner, deploy, trigger or service token",
        keywords: &[
            "glrt-", "gldt-", "glptt-", "glft-", "glsoat-", "glcbt-", "gloas-", "glagent-",
            "glimt-", "glffct-",
        ],
        pattern: r"(?-u:\b)((?:glrt|gldt|glptt|glft|glsoat|glcbt|gloas|glagent|glimt|glffct)-[A-Za-z0-9_-]{20,300})(?:[^A-Za-z0-9_-]|$)",
        group: 1,
        verify: verify_entropy_3,
    },
    Detector {
        id: "slack-webhook-url",
        description: "Slack incoming webhook URL",
        keywords: &["hooks.slack.com"],
        pattern: r"(https?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{40,120})",
        group: 1,
        verify: |c| {
            (shannon_entropy(c.secret()) >= 3.5).then(|| (c.span.clone(), Confidence::High))
        },
    },
    Detector {
        id: "slack-token",
        description: "Slack API token",
        keywords: &["xox", "xapp-"],
        pattern: r"(?-u:\b)(xox[abposre]-(?:\d-)?[0-9A-Za-z]{8,}(?:-[0-9A-Za-z]+){0,6}|xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+)(?-u:\b)",
        group: 1,
        verify: |c| {
            let s = c.secret();
            let digits = s.chars().filter(char::is_ascii_digit).count();
            (s.len() >= 24 && digits >= 6 && shannon_entropy(s) >= 3.0)
                .then(|| (c.span.clone(), Confidence::High))
        },
    },
    Detector {
        id: "stripe-secret-key",
        description: "Stripe secret or restricted key",
        keywords: &[
            "sk_live", "sk_test", "sk_prod", "rk_live", "rk_test", "rk_prod",
        ],
        pattern: r"(?-u:\b)((?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,99})(?-u:\b)",
        group: 1,
        verify: |c| {
            let s = c.secret();
            if shannon_entropy(s) < 3.0 {
                return None;
            }
            let conf = if s.contains("_test_") {
                Confidence::Medium
            } else {
                Confidence::High
            };
            Some((c.span.clone(), conf))
        },
    },
    Detector {
        id: "jwt",
        description: "JSON Web Token",
        keywords: &["eyj"],
        pattern: r"(?-u:\b)(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)",
        group: 1,
        verify: verify_jwt,
    },
    Detector {
        id: "database-url-password",
        description: "database connection URL with a password",
        keywords: &["://"],
        pattern: r#"(?i)(?-u:\b)((?:jdbc:)?(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|valkey|amqps?|mssql|sqlserver|clickhouse|cockroachdb|oracle|couchdb|couchbase|neo4j(?:\+s)?|bolt|nats|kafka|memcached|ldaps?|cassandra|influxdb|elasticsearch|mqtts?)://)([^:/?#@\s"'<>]*):([^@/?#\s"'<>]+)@"#,
        group: 3,
        verify: verify_url_password,
    },
    Detector {
        id: "url-password",
        description: "URL with an embedded password",
        keywords: &["://"],
        pattern: r#"(?-u:\b)([a-zA-Z][a-zA-Z0-9+.-]{1,30}://)([^:/?#@\s"'<>]*):([^@/?#\s"'<>]+)@"#,
        group: 3,
        verify: verify_url_password,
    },
    Detector {
        id: "authorization-header",
        description: "credential in an HTTP Authorization header",
        keywords: &["authorization"],
        pattern: r#"(?i)(?-u:\b)(?:proxy-)?authorization["']?(?:[ \t]*[:=][ \t]*|[ \t]+)["']?(basic|bearer|token|apikey)[ \t]+([A-Za-z0-9._~+/=-]{12,})"#,
        group: 2,
        verify: |c| {
            let s = c.secret();
            if is_placeholder(s) {
                return None;
            }
            let scheme = c
                .caps
                .get(1)
                .map_or("", |m| m.as_str())
                .to_ascii_lowercase();
            if scheme == "basic" {
                let decoded = decode_base64(s)?;
                let text = String::from_utf8(decoded).ok()?;
                let (_, pass) = text.split_once(':')?;
                return (!pass.is_empty() && !is_placeholder(pass))
                    .then(|| (c.span.clone(), Confidence::High));
            }
            (shannon_entropy(s) >= 3.0).then(|| (c.span.clone(), Confidence::Medium))
        },
    },
    Detector {
        id: "generic-secret-assignment",
        description: "random-looking value assigned to a secret-named key",
        keywords: &[
            "pass", "pwd", "secret", "token", "key", "cred", "auth", "bearer",
        ],
        pattern: r#"([A-Za-z_][A-Za-z0-9_.-]{0,60})["']?[ \t]*(?:=|:=|:|=>)[ \t]*["']?([A-Za-z0-9_./+~=!@#$%^&*-]{12,200})"#,
        group: 2,
        verify: |c| {
            let key = c.caps.get(1).map_or("", |m| m.as_str());
            let value = c.secret();
            (key_strength(key) == Strength::Strong && !is_placeholder(value) && looks_random(value))
                .then(|| (c.span.clone(), Confidence::Medium))
        },
    },
];

fn verify_entropy_3(c: &Ctx<'_, '_>) -> Option<(Range<usize>, Confidence)> {
    (shannon_entropy(c.secret()) >= 3.0).then(|| (c.span.clone(), Confidence::High))
}

static PEM_END: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"-{3,5}END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-{3,5}").ok());

/// A PEM header alone is reported (a private key has no business in a
/// manifest even when truncated); a full block with a real body is High.
#[allow(clippy::unnecessary_wraps)] // shape of `Verify`
fn verify_pem(c: &Ctx<'_, '_>) -> Option<(Range<usize>, Confidence)> {
    let start = c.span.start;
    let after = c.span.end;
    let limit = floor_boundary(c.text, after.saturating_add(PEM_SEARCH_LIMIT));
    let window = c.text.get(after..limit).unwrap_or("");
    let Some(end) = PEM_END.as_ref().and_then(|re| re.find(window)) else {
        return Some((c.span.clone(), Confidence::Medium));
    };
    let body = window.get(..end.start()).unwrap_or("").replace("\\n", "\n");
    let body_chars = body
        .lines()
        .filter(|l| !l.contains(':'))
        .flat_map(str::chars)
        .filter(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '+' | '/' | '='))
        .count();
    let conf = if body_chars >= 64 {
        Confidence::High
    } else {
        Confidence::Medium
    };
    Some((start..after + end.end(), conf))
}

fn verify_jwt(c: &Ctx<'_, '_>) -> Option<(Range<usize>, Confidence)> {
    let s = c.secret();
    let mut parts = s.split('.');
    let header = parts.next()?;
    let payload = parts.next()?;
    let signature = parts.next().unwrap_or("");
    if header.len() > 4096 {
        return None;
    }
    let header: serde_json::Value = serde_json::from_slice(&decode_base64(header)?).ok()?;
    let alg = header.get("alg")?.as_str()?;
    let payload_is_json = payload.len() <= PEM_SEARCH_LIMIT
        && decode_base64(payload)
            .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p).ok())
            .is_some_and(|v| v.is_object());
    if !payload_is_json {
        return None;
    }
    let conf = if alg.eq_ignore_ascii_case("none") || signature.len() < 16 {
        Confidence::Medium
    } else {
        Confidence::High
    };
    Some((c.span.clone(), conf))
}

/// Longest user name and password a URL detector takes, in characters. The
/// patterns leave the two parts unbounded and the limit is checked here: a
/// bounded repetition of a negated Unicode class compiles to one copy of the
/// class per step, and the two URL patterns took 23 of the 26 ms that
/// building every detector cost.
const URL_PART_MAX: usize = 256;

fn verify_url_password(c: &Ctx<'_, '_>) -> Option<(Range<usize>, Confidence)> {
    let pass = c.secret();
    let user = c.caps.get(2).map_or("", |m| m.as_str());
    if user.chars().count() > URL_PART_MAX || pass.chars().count() > URL_PART_MAX {
        return None;
    }
    if is_placeholder(pass) || is_template(user) || pass.eq_ignore_ascii_case("x-oauth-basic") {
        return None;
    }
    // `host:8080@` is no password.
    if pass.len() <= 5 && pass.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let conf = if pass.chars().count() >= 8 {
        Confidence::High
    } else {
        Confidence::Medium
    };
    Some((c.span.clone(), conf))
}

/// The detectors, ready to run. Building them is the fixed cost of a scan,
/// so each detector's regex is compiled the first time a text holds one of
/// its keywords ([`prepare`] compiles them all ahead, on another thread).
struct Compiled {
    /// Each detector's regex, compiled on first use.
    regexes: Vec<OnceLock<Option<Regex>>>,
    /// Every detector's keywords, ASCII case-insensitive.
    keywords: Option<AhoCorasick>,
    /// The detector of each keyword pattern of `keywords`.
    keyword_detector: Vec<usize>,
}

static COMPILED: LazyLock<Compiled> = LazyLock::new(|| {
    let mut keyword_detector = Vec::new();
    let mut words = Vec::new();
    for (i, d) in DETECTORS.iter().enumerate() {
        for k in d.keywords {
            words.push(*k);
            keyword_detector.push(i);
        }
    }
    let keywords = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .build(&words)
        .ok();
    Compiled {
        regexes: DETECTORS.iter().map(|_| OnceLock::new()).collect(),
        keywords,
        keyword_detector,
    }
});

/// The keyword prefilter for texts that are not ASCII: Unicode case
/// folding (`ſecret` holds `secret`), as the regexes themselves fold.
static UNICODE_PREFILTER: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new(DETECTORS.iter().map(|d| {
        let alts: Vec<String> = d.keywords.iter().map(|k| regex::escape(k)).collect();
        format!("(?i:{})", alts.join("|"))
    }))
    .unwrap_or_else(|_| RegexSet::empty())
});

impl Compiled {
    fn regex(&self, i: usize) -> Option<&Regex> {
        let d = DETECTORS.get(i)?;
        self.regexes
            .get(i)?
            .get_or_init(|| Regex::new(d.pattern).ok())
            .as_ref()
    }

    /// The detectors whose keywords `text` holds, as a bit set (bit `i` for
    /// `DETECTORS[i]`). On ASCII text an ASCII case-insensitive search finds
    /// exactly what Unicode case folding would.
    fn candidates(&self, text: &str) -> u64 {
        let mut set = 0u64;
        match &self.keywords {
            Some(ac) if text.is_ascii() => {
                for m in ac.find_overlapping_iter(text) {
                    if let Some(d) = self.keyword_detector.get(m.pattern().as_usize()) {
                        set |= 1 << d;
                    }
                }
            }
            _ => {
                for i in &UNICODE_PREFILTER.matches(text) {
                    set |= 1 << i;
                }
            }
        }
        set
    }
}

/// Builds the detectors now (the keyword automaton and every regex), so
/// that the first texts scanned do not wait for them. Call it on a spare
/// thread while input is being read; calling it again costs nothing.
pub fn prepare() {
    let c = &*COMPILED;
    for i in 0..DETECTORS.len() {
        let _ = c.regex(i);
    }
}

/// Every detector's ID and description, in priority order (for docs and
/// `explain`). [`NAMED_SECRET`] is listed last.
pub fn detectors() -> impl Iterator<Item = (&'static str, &'static str)> {
    DETECTORS
        .iter()
        .map(|d| (d.id, d.description))
        .chain(std::iter::once((NAMED_SECRET, NAMED_SECRET_DESC)))
}

/// Finds credentials in `text` by their format. Matches never overlap (the
/// more specific detector wins) and come sorted by position.
pub fn detect(text: &str) -> Vec<SecretMatch> {
    if text.len() < 8 {
        return Vec::new();
    }
    let compiled = &*COMPILED;
    let candidates = compiled.candidates(text);
    if candidates == 0 {
        return Vec::new();
    }
    let mut found: Vec<SecretMatch> = Vec::new();
    for (i, d) in DETECTORS.iter().enumerate() {
        if candidates & (1 << i) == 0 {
            continue;
        }
        let Some(re) = compiled.regex(i) else {
            continue;
        };
        for caps in re.captures_iter(text) {
            if found.len() >= MAX_MATCHES {
                break;
            }
            let Some(m) = caps.get(d.group) else { continue };
            let ctx = Ctx {
                text,
                caps: &caps,
                span: m.range(),
            };
            let Some((span, confidence)) = (d.verify)(&ctx) else {
                continue;
            };
            if found
                .iter()
                .any(|f| f.span.start < span.end && span.start < f.span.end)
            {
                continue;
            }
            found.push(SecretMatch {
                detector: d.id,
                description: d.description,
                span,
                confidence,
            });
        }
    }
    found.sort_by_key(|m| m.span.start);
    found
}

/// [`detect`] on `value`, then, when no detector fires, [`named_secret`]
/// for what the key name says.
pub fn detect_keyed(name: &str, value: &str) -> Vec<SecretMatch> {
    let mut found = detect(value);
    if found.is_empty()
        && let Some(m) = named_secret(name, value)
    {
        found.push(m);
    }
    found
}

/// Judges `value` by its key `name` alone: a non-placeholder value under a
/// secret-looking name (`DB_PASSWORD`, `apiKey`, `client_secret`), or a
/// random-looking one under a name that only may be secret (`key`, `auth`).
/// Placeholders, references, file paths, booleans and resource names
/// (`my-db-secret`) are not secrets.
pub fn named_secret(name: &str, value: &str) -> Option<SecretMatch> {
    let strength = key_strength(name);
    if strength == Strength::None {
        return None;
    }
    let start = value.len() - value.trim_start().len();
    let end = value.trim_end().len();
    let v = value.get(start..end).filter(|v| !v.is_empty())?;
    if is_placeholder(v) || is_non_secret_value(v) {
        return None;
    }
    // `tlsSecret: model-serving-tls`, `credentialsSecret: s3-access`: a
    // name ending in "secret" often holds the name of a Secret object.
    if words(name)
        .last()
        .is_some_and(|l| l == "secret" || l == "secrets")
        && is_dns_name_with_parts(v)
    {
        return None;
    }
    if is_aws_secret_name(name)
        && v.len() == 40
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
    {
        return Some(SecretMatch {
            detector: "aws-secret-access-key",
            description: "AWS secret access key",
            span: start..end,
            confidence: Confidence::High,
        });
    }
    let random = looks_random(v);
    let confidence = match strength {
        Strength::Strong if random => Confidence::High,
        Strength::Strong => Confidence::Medium,
        Strength::Weak if random => Confidence::Medium,
        _ => return None,
    };
    Some(SecretMatch {
        detector: NAMED_SECRET,
        description: NAMED_SECRET_DESC,
        span: start..end,
        confidence,
    })
}

fn is_aws_secret_name(name: &str) -> bool {
    let w = words(name);
    let joined = w.join("");
    joined.ends_with("secretaccesskey")
        || (joined.ends_with("secretkey") && w.first().is_some_and(|f| f == "aws"))
}

// ---------------------------------------------------------------------------
// Key names
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strength {
    None,
    /// May hold a secret (`key`, `auth`): only a random-looking value counts.
    Weak,
    /// Holds a secret: any real value counts.
    Strong,
}

/// Words that name a secret on their own.
const STRONG_WORDS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "pwd",
    "pw",
    "pass",
    "passphrase",
    "passcode",
    "pswd",
    "pswrd",
    "pword",
    "passwrd",
    "secret",
    "secrets",
    "token",
    "credential",
    "credentials",
    "creds",
    "cred",
    "apikey",
    "bearer",
    "privatekey",
    "privkey",
    "secretkey",
    "accesstoken",
    "refreshtoken",
    "authtoken",
    "sessiontoken",
    "idtoken",
    "apitoken",
    "clientsecret",
    "appsecret",
    "apisecret",
    "webhooksecret",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "secretaccesskey",
];

/// Suffixes that make a run-together word (`dbpassword`, `githubtoken`) a secret.
const STRONG_SUFFIXES: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "privatekey",
    "secretkey",
    "credentials",
];

/// Words after which `key` names a secret (`api_key`, `signing-key`).
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "secret",
    "private",
    "priv",
    "signing",
    "sign",
    "encryption",
    "encrypt",
    "decryption",
    "crypt",
    "crypto",
    "cipher",
    "master",
    "session",
    "hmac",
    "jwt",
    "jws",
    "webhook",
    "shared",
    "account",
    "storage",
    "license",
    "licence",
    "app",
    "ssh",
    "tls",
    "ssl",
    "rsa",
    "ecdsa",
    "ed25519",
    "gpg",
    "pgp",
    "subscription",
    "admin",
    "root",
    "aes",
    "deploy",
    "ingest",
    "write",
    "auth",
    "service",
    "sas",
    "otp",
    "totp",
    "mac",
];

/// Words right before `key` that make it an identifier, not a secret.
const KEY_NON_SECRET: &[&str] = &[
    "public",
    "pub",
    "primary",
    "partition",
    "sort",
    "foreign",
    "cache",
    "routing",
    "object",
    "idempotency",
    "hot",
    "dedup",
    "dedupe",
    "shard",
    "hash",
    "range",
    "label",
    "annotation",
    "map",
    "lookup",
    "cursor",
    "row",
    "column",
    "bucket",
    "s3",
    "gcs",
    "kms",
    "cmk",
    "group",
    "message",
    "event",
    "metric",
    "config",
    "index",
    "registry",
    "node",
    "foreign",
    "composite",
    "unique",
    "natural",
    "surrogate",
    "grouping",
    "tracking",
    "topic",
    "consumer",
    "dedupe",
    "cluster",
];

/// Trailing words that keep the meaning of what they follow
/// (`password_value`, `SECRET_KEY_BASE`).
const NEUTRAL_TAIL: &[&str] = &[
    "value",
    "val",
    "raw",
    "plain",
    "plaintext",
    "text",
    "str",
    "string",
    "literal",
    "hex",
    "base",
    "hash",
    "hashed",
    "enc",
    "encrypted",
];

/// Trailing words that mean key material (`KEY_CONTENT`, `key_data`).
const MATERIAL_TAIL: &[&str] = &[
    "content", "contents", "data", "material", "pem", "der", "b64", "base64", "encoded", "bytes",
    "json",
];

/// Leading words that make the whole name a reference (`existingSecret`).
const REFERENCE_HEAD: &[&str] = &["existing"];

/// Whether a key name says its value is a secret: `password`, `DB_PASS`,
/// `apiKey`, `client_secret`, `HF_TOKEN`, `private_key`, `credentials`,
/// `AZURE_STORAGE_KEY`, `OCI_CLI_KEY_CONTENT`. False friends are not:
/// `token_ttl`, `max_tokens`, `tokenizer`, `passwordPolicy`, `secretName`,
/// `secretKeyRef`, `password_file`, `AWS_ACCESS_KEY_ID`, `public_key`.
/// A bare `key` or `auth` is not (see [`named_secret`], which accepts
/// random-looking values under those).
pub fn looks_secret_key(name: &str) -> bool {
    key_strength(name) == Strength::Strong
}

fn key_strength(name: &str) -> Strength {
    let mut w = words(name);
    if w.first()
        .is_some_and(|f| REFERENCE_HEAD.contains(&f.as_str()))
    {
        return Strength::None;
    }
    let mut material = false;
    while let Some(last) = w.last() {
        let last = last.as_str();
        if last.bytes().all(|b| b.is_ascii_digit()) || NEUTRAL_TAIL.contains(&last) {
            w.pop();
        } else if MATERIAL_TAIL.contains(&last) {
            material = true;
            w.pop();
        } else {
            break;
        }
    }
    let Some(last) = w.last().map(String::as_str) else {
        return Strength::None;
    };
    let before = &w[..w.len() - 1];
    if STRONG_WORDS.contains(&last) {
        return Strength::Strong;
    }
    if last.len() > 6
        && STRONG_SUFFIXES
            .iter()
            .any(|s| last.ends_with(s) && last.len() > s.len())
    {
        return Strength::Strong;
    }
    match last {
        "key" | "keys" => {
            let prev = before.last().map(String::as_str);
            if prev.is_some_and(|p| KEY_NON_SECRET.contains(&p)) {
                return Strength::None;
            }
            let qualified = before.iter().any(|b| {
                KEY_QUALIFIERS.contains(&b.as_str()) || STRONG_WORDS.contains(&b.as_str())
            });
            if material || qualified || w.first().is_some_and(|f| f == "azure") {
                Strength::Strong
            } else {
                Strength::Weak
            }
        }
        "auth" => {
            if before
                .last()
                .is_some_and(|p| matches!(p.as_str(), "basic" | "http" | "proxy"))
            {
                Strength::Strong
            } else {
                Strength::Weak
            }
        }
        _ => Strength::None,
    }
}

/// Splits a key name into lowercase words at separators and camelCase
/// boundaries: `secretKeyRef` → `secret key ref`, `APIKey` → `api key`.
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().take(256).collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_ascii_uppercase() && !cur.is_empty() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/// Dummy values, compared after dropping everything but letters and digits
/// and lowercasing.
const DUMMY_VALUES: &[&str] = &[
    "changeme",
    "changeit",
    "replaceme",
    "replace",
    "placeholder",
    "redacted",
    "removed",
    "hidden",
    "masked",
    "secret",
    "secrets",
    "password",
    "passwd",
    "pass",
    "pwd",
    "token",
    "apikey",
    "key",
    "value",
    "test",
    "testing",
    "example",
    "sample",
    "dummy",
    "fake",
    "foo",
    "bar",
    "foobar",
    "baz",
    "none",
    "null",
    "nil",
    "undefined",
    "empty",
    "na",
    "tbd",
    "todo",
    "fixme",
    "notset",
    "unset",
    "unknown",
    "required",
    "optional",
    "string",
    "xoauthbasic",
    "mypassword",
    "yourpassword",
    "secretvalue",
    "secretpassword",
    "supersecretpassword",
];

/// Prefixes (same normalization) of instructions left in place of a value.
const DUMMY_PREFIXES: &[&str] = &[
    "your",
    "insert",
    "enter",
    "replace",
    "changeme",
    "changeit",
    "putyour",
    "addyour",
    "setyour",
    "fillin",
    "placeholder",
    "redacted",
    "dummy",
    "example",
    "sample",
    "xxxx",
    "changethis",
    "setme",
];

/// References to a secret store instead of a value.
const REFERENCE_PREFIXES: &[&str] = &[
    "vault:",
    "ref+",
    "secretref+",
    "arn:aws:secretsmanager:",
    "arn:aws:ssm:",
    "arn:aws:kms:",
    "op://",
    "akv://",
    "azurekeyvault://",
    "keyvault://",
    "sm://",
    "awssm://",
    "gcpsm://",
    "doppler://",
    "infisical://",
    "enc[",
    "$ansible_vault",
    "!vault",
    "age-encryption.org",
    "-----begin pgp message-----",
];

/// Whether a value is a placeholder, template or reference rather than a
/// secret: empty, `changeme`, `REPLACE_ME`, `<password>`, `xxxxx`, `***`,
/// `${VAR}`, `$(VAR)`, `$VAR`, `%VAR%`, `{{ .Values.x }}`, `__TOKEN__`,
/// `vault:secret/data/db#password`, `ENC[AES256_GCM,...]`, AWS `...EXAMPLE`.
pub fn is_placeholder(value: &str) -> bool {
    let v = value
        .trim()
        .trim_matches(|c| matches!(c, '"' | '\'' | '`'))
        .trim();
    if v.is_empty() {
        return true;
    }
    let mut chars = v.chars();
    if let Some(first) = chars.next()
        && (first.is_ascii_alphanumeric() || matches!(first, '*' | '.' | '-' | '_' | '#' | '?'))
        && chars.all(|c| c == first)
    {
        return true;
    }
    if is_template(v) {
        return true;
    }
    if (v.starts_with('<') && v.ends_with('>'))
        || (v.starts_with('[') && v.ends_with(']') && v.len() <= 64)
    {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    if REFERENCE_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    if v.contains("EXAMPLE") {
        return true;
    }
    let norm: String = lower.chars().filter(char::is_ascii_alphanumeric).collect();
    if norm.is_empty() {
        return v.chars().count() < 8;
    }
    if DUMMY_VALUES.contains(&norm.as_str()) || DUMMY_PREFIXES.iter().any(|p| norm.starts_with(p)) {
        return true;
    }
    norm.ends_with("here")
        && ["key", "token", "secret", "password", "value"]
            .iter()
            .any(|w| norm.contains(w))
}

/// Templates and variable references, whole or embedded.
fn is_template(v: &str) -> bool {
    if v.contains("{{") && v.contains("}}") {
        return true;
    }
    if v.contains("${")
        || (v.contains("$(") && v.contains(')'))
        || (v.contains("#{") && v.contains('}'))
    {
        return true;
    }
    let ident =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if let Some(rest) = v.strip_prefix('$')
        && ident(rest)
    {
        return true;
    }
    for (open, close) in [("%", "%"), ("@", "@"), ("__", "__")] {
        if let Some(inner) = v.strip_prefix(open).and_then(|r| r.strip_suffix(close))
            && ident(inner)
        {
            return true;
        }
    }
    false
}

/// Values that are not secrets whatever their key: booleans, file paths,
/// environment variable names, URLs without credentials, Kubernetes
/// resource names that name a secret (`postgres-credentials`,
/// `my-tls-secret`), very short values.
fn is_non_secret_value(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "enabled"
            | "disabled"
            | "enable"
            | "disable"
    ) {
        return true;
    }
    if v.chars().count() < 3 {
        return true;
    }
    if looks_like_path(v) || is_env_var_name(v) {
        return true;
    }
    if let Some((scheme, rest)) = v.split_once("://")
        && !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
    {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        return !authority.contains('@');
    }
    is_secret_resource_name(v)
}

fn looks_like_path(v: &str) -> bool {
    if v.chars().any(char::is_whitespace) {
        return false;
    }
    let unix =
        (v.starts_with('/') || v.starts_with("~/") || v.starts_with("./") || v.starts_with("../"))
            && v.len() > 1
            && v.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(b, b'/' | b'.' | b'_' | b'-' | b'~' | b'@' | b'+')
            });
    let windows = v.len() > 3
        && v.as_bytes()[1] == b':'
        && matches!(v.as_bytes()[2], b'\\' | b'/')
        && v.as_bytes()[0].is_ascii_alphabetic();
    unix || windows || v.starts_with("file://")
}

/// A DNS-1123 subdomain of at least two parts (`s3-access`, `db.creds`).
fn is_dns_name_with_parts(v: &str) -> bool {
    v.len() <= 253
        && v.contains(['-', '.'])
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && v.split(['-', '.']).all(|p| !p.is_empty())
}

/// An environment variable name (`DB_PASSWORD`): a value naming where the
/// secret is, not the secret.
fn is_env_var_name(v: &str) -> bool {
    v.contains('_')
        && v.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && v.split('_').all(|p| !p.is_empty())
}

/// A DNS-1123 name with a part that names a secret: `my-db-secret`,
/// `postgres-credentials`, `api-token`. Resource names, not values.
fn is_secret_resource_name(v: &str) -> bool {
    if !v.contains('-')
        || !v
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return false;
    }
    v.split(['-', '.']).any(|part| {
        matches!(
            part,
            "secret"
                | "secrets"
                | "tls"
                | "cert"
                | "certs"
                | "creds"
                | "credentials"
                | "token"
                | "tokens"
                | "key"
                | "keys"
                | "password"
                | "passwords"
                | "auth"
                | "sa"
                | "keystore"
        )
    })
}

/// Whether a value looks machine-generated: at least 16 characters, no
/// whitespace, digits or symbols mixed with letters, and Shannon entropy of
/// at least 3.5 bits per character (3.0 for hex). UUIDs, URLs, paths,
/// dotted or hyphenated word sequences (`prod.us-east-1.rds.amazonaws.com`,
/// `my-service-account-name`) and placeholders are not random. UUIDs are
/// excluded because in manifests they are far more often client, tenant or
/// subscription IDs than credentials; under a secret-named key they still
/// count (see [`named_secret`]).
pub fn looks_random(value: &str) -> bool {
    let v = value.trim();
    let n = v.chars().count();
    if !(16..=1024).contains(&n) || v.chars().any(char::is_whitespace) {
        return false;
    }
    if is_uuid(v) || v.contains("://") || looks_like_path(v) || is_placeholder(v) {
        return false;
    }
    let words = v
        .split(['-', '_', '.'])
        .filter(|s| s.len() >= 4 && s.bytes().all(|b| b.is_ascii_lowercase()))
        .count();
    if words >= 2 {
        return false;
    }
    if !has_mixed_classes(v) {
        return false;
    }
    let e = shannon_entropy(v);
    if v.bytes().all(|b| b.is_ascii_hexdigit()) {
        e >= 3.0
    } else {
        e >= 3.5
    }
}

/// Letters together with digits or symbols.
fn has_mixed_classes(v: &str) -> bool {
    let letters = v.chars().any(|c| c.is_ascii_alphabetic());
    let others = v.chars().any(|c| !c.is_ascii_alphabetic());
    letters && others
}

fn is_uuid(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// Shannon entropy in bits per character.
pub fn shannon_entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut total = 0u32;
    for b in s.bytes().take(1 << 20) {
        counts[usize::from(b)] += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    let total = f64::from(total);
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / total;
            -p * p.log2()
        })
        .sum()
}

/// A short, non-reversible preview of a secret for messages: the first four
/// characters and the length for values of 16 characters or more
/// (`AKIA…[redacted 20 chars]`), the length alone for shorter ones, so a
/// short password never shows a character.
pub fn redact(value: &str) -> String {
    let n = value.chars().count();
    if n >= 16 {
        let prefix: String = value.chars().take(4).collect();
        if prefix.chars().all(|c| c.is_ascii_graphic()) {
            return format!("{prefix}…[redacted {n} chars]");
        }
    }
    format!("[redacted {n} chars]")
}

/// `text` with every [`detect`] match replaced by `[redacted:<detector>]`,
/// for logs and for filtering what leaves a boundary (the gateway).
pub fn mask(text: &str) -> String {
    let found = detect(text);
    if found.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for m in &found {
        out.push_str(text.get(at..m.span.start).unwrap_or(""));
        out.push_str("[redacted:");
        out.push_str(m.detector);
        out.push(']');
        at = m.span.end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

/// Decodes standard or URL-safe base64, padded or not, ignoring ASCII
/// whitespace (as Kubernetes `data` and JWT segments are written).
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        }))
    }
    let body = s.trim_end_matches(|c: char| c == '=' || c.is_ascii_whitespace());
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 3);
    let mut acc = 0u32;
    let mut bits = 0u32;
    let mut n = 0usize;
    for &c in body.as_bytes() {
        if c.is_ascii_whitespace() {
            continue;
        }
        acc = (acc << 6) | val(c)?;
        bits += 6;
        n += 1;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    if n % 4 == 1 {
        return None;
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// Embedded configuration
// ---------------------------------------------------------------------------

static ASSIGN_LINE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"^[ \t]*(?:export[ \t]+|-[ \t]+)?(["']?)([A-Za-z_][A-Za-z0-9_.\-]{0,127})["']?[ \t]*(=>|:=|=|:)[ \t]*(.*?)[ \t]*$"#).ok()
});

/// Most lines and JSON leaves read from one text.
const MAX_ASSIGNMENTS: usize = 10_000;

/// The `key = value` pairs of an embedded configuration text: a JSON
/// document (keys as dotted paths), or lines of `.env`, properties, INI,
/// TOML or YAML (`KEY=value`, `export KEY=value`, `key: value`,
/// `key = "value"`). Quotes and trailing comments are removed; block
/// scalar indicators and empty values are skipped.
pub fn assignments(text: &str) -> Vec<Assignment> {
    let trimmed = text.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && text.len() <= 16 << 20
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(text)
    {
        let mut out = Vec::new();
        json_leaves(&v, &mut String::new(), 0, &mut out);
        return out;
    }
    let Some(re) = ASSIGN_LINE.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in text.lines().take(100_000) {
        if out.len() >= MAX_ASSIGNMENTS {
            break;
        }
        let l = line.trim_start();
        if l.starts_with('#') || l.starts_with("//") || l.starts_with(';') || l.len() > 8192 {
            continue;
        }
        let Some(c) = re.captures(line) else { continue };
        let quoted_key = c.get(1).is_some_and(|m| !m.as_str().is_empty());
        let key = c.get(2).map_or("", |m| m.as_str());
        let mut value = c.get(4).map_or("", |m| m.as_str());
        if quoted_key {
            value = value.trim_end_matches(',').trim_end();
        }
        let value = clean_value(value);
        if value.is_empty() || matches!(value, "|" | ">" | "|-" | ">-" | "|+" | ">+" | "{" | "[") {
            continue;
        }
        out.push(Assignment {
            key: key.to_owned(),
            value: value.to_owned(),
        });
    }
    out
}

fn clean_value(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q) {
            return match inner.find(q) {
                Some(end) => inner.get(..end).unwrap_or(""),
                None => inner,
            };
        }
    }
    match v.find(" #") {
        Some(i) => v.get(..i).unwrap_or(v).trim_end(),
        None => v,
    }
}

fn json_leaves(v: &serde_json::Value, path: &mut String, depth: usize, out: &mut Vec<Assignment>) {
    if depth > 64 || out.len() >= MAX_ASSIGNMENTS {
        return;
    }
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                json_leaves(child, path, depth + 1, out);
                path.truncate(len);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                json_leaves(child, path, depth + 1, out);
                path.truncate(len);
            }
        }
        serde_json::Value::String(s) => out.push(Assignment {
            key: path.clone(),
            value: s.clone(),
        }),
        serde_json::Value::Number(n) => out.push(Assignment {
            key: path.clone(),
            value: n.to_string(),
        }),
        serde_json::Value::Bool(_) | serde_json::Value::Null => {}
    }
}

/// The largest char boundary of `s` at or below `i`.
fn floor_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::cast_possible_truncation)]
mod tests {
    use super::*;

    // Test tokens are built from pieces and a deterministic generator, so no
    // token-shaped literal appears in the repository.
    const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const UPPER32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const URLSAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    const DIGITS: &str = "0123456789";

    fn rand(alphabet: &str, n: usize, seed: u64) -> String {
        let a: Vec<char> = alphabet.chars().collect();
        let mut x = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407)
            | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                a[(x % a.len() as u64) as usize]
            })
            .collect()
    }

    fn b64url(s: &str) -> String {
        let t = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in s.as_bytes().chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..=chunk.len() {
                out.push(t[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    fn b64std(s: &str) -> String {
        let mut out = b64url(s).replace('-', "+").replace('_', "/");
        while !out.len().is_multiple_of(4) {
            out.push('=');
        }
        out
    }

    fn ids(text: &str) -> Vec<&'static str> {
        detect(text).iter().map(|m| m.detector).collect()
    }

    /// Asserts exactly one match, of `id`, covering exactly `secret`.
    fn finds(text: &str, id: &str, secret: &str) -> SecretMatch {
        let found = detect(text);
        assert_eq!(
            found.len(),
            1,
            "expected one {id} in {text:?}, got {found:?}"
        );
        let m = found[0].clone();
        assert_eq!(m.detector, id, "{text:?}");
        assert_eq!(&text[m.span.clone()], secret, "{id} span");
        m
    }

    #[test]
    fn every_detector_compiles_and_has_a_prefilter() {
        let c = &*COMPILED;
        assert!(DETECTORS.len() <= 64, "the candidate set is a u64");
        for (i, d) in DETECTORS.iter().enumerate() {
            assert!(c.regex(i).is_some(), "{} does not compile", d.id);
            assert!(!d.keywords.is_empty(), "{} has no keywords", d.id);
        }
        assert!(c.keywords.is_some(), "the keyword automaton builds");
        assert_eq!(UNICODE_PREFILTER.len(), DETECTORS.len());
        assert!(PEM_END.is_some() && ASSIGN_LINE.is_some());
        let mut seen = std::collections::HashSet::new();
        assert!(
            detectors().all(|(id, _)| seen.insert(id)),
            "duplicate detector IDs"
        );
    }

    #[test]
    fn keyword_prefilter_agrees_with_unicode_case_folding() {
        let c = &*COMPILED;
        let unicode = |t: &str| {
            UNICODE_PREFILTER
                .matches(t)
                .iter()
                .fold(0u64, |s, i| s | (1 << i))
        };
        for t in [
            "AKIA and sk-ant- and SK-PROJ-x, Authorization: Bearer",
            "postgres://u:p@h/db?sig=abc&x=HOOKS.SLACK.COM/services",
            "ghp_ ghu_ GHS_ glpat- xoxb- xapp- eyJ hf_ api_org_ q~ AIza",
            "-----BEGIN RSA PRIVATE KEY----- service_account AccountKey=",
            "password pwd Token cred bearer nothing-else",
            "plain text without any of them",
        ] {
            assert_eq!(c.candidates(t), unicode(t), "{t}");
        }
        // Non-ASCII text takes the Unicode path: the long s folds to s.
        assert_ne!(c.candidates("\u{17f}ecret: x"), 0);
    }

    #[test]
    fn aws_access_key_id() {
        let key = ["AK", "IA"].concat() + &rand(UPPER32, 16, 1);
        let m = finds(
            &format!("aws_access_key_id = {key}\n"),
            "aws-access-key-id",
            &key,
        );
        assert_eq!(m.confidence, Confidence::High);
        let sts = ["AS", "IA"].concat() + &rand(UPPER32, 16, 2);
        finds(&format!("\"{sts}\""), "aws-access-key-id", &sts);
        // Keys outside the base32 alphabet gitleaks assumes are still keys.
        let digits = ["AK", "IA"].concat() + &rand("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16, 4);
        finds(&digits, "aws-access-key-id", &digits);
        assert!(detect(&["AKIA", &"A".repeat(16)].concat()).is_empty());
        // The documentation's example key, and a key glued into a longer word.
        assert!(detect(&["AKIA", "IOSFODNN7", "EXAMPLE"].concat()).is_empty());
        assert!(detect(&format!("X{key}Y")).is_empty());
    }

    #[test]
    fn aws_secret_access_key_by_keyword_or_name() {
        let secret = rand(B64, 40, 3);
        finds(
            &format!("aws_secret_access_key = {secret}\n"),
            "aws-secret-access-key",
            &secret,
        );
        finds(
            &format!("{{\"SecretAccessKey\": \"{secret}\"}}"),
            "aws-secret-access-key",
            &secret,
        );
        let m = detect_keyed("AWS_SECRET_ACCESS_KEY", &secret);
        assert_eq!(m[0].detector, "aws-secret-access-key");
        assert_eq!(m[0].confidence, Confidence::High);
        // 40 base64 characters with no keyword are no finding by format alone.
        assert!(detect(&format!("checksum {secret}")).is_empty());
    }

    #[test]
    fn gcp_service_account_json_and_api_key() {
        let body = rand(B64, 64, 4) + "\\n" + &rand(B64, 64, 5);
        let pk = format!("-----BEGIN PRIVATE KEY-----\\n{body}\\n-----END PRIVATE KEY-----\\n");
        let json = format!(
            "{{\"type\": \"service_account\", \"project_id\": \"p\", \"private_key_id\": \"{}\", \"private_key\": \"{pk}\", \"client_email\": \"sa@p.iam.gserviceaccount.com\"}}",
            rand(DIGITS, 40, 6)
        );
        let m = finds(&json, "gcp-service-account-key", &pk);
        assert_eq!(m.confidence, Confidence::High);
        let api = ["AI", "za"].concat() + &rand(URLSAFE, 35, 7);
        finds(&format!("key={api}&q=1"), "gcp-api-key", &api);
    }

    #[test]
    fn azure_credentials() {
        let account_key = rand(B64, 86, 8) + "==";
        let conn = format!(
            "DefaultEndpointsProtocol=https;AccountName=models;AccountKey={account_key};EndpointSuffix=core.windows.net"
        );
        finds(&conn, "azure-storage-account-key", &account_key);
        let sb_key = rand(B64, 43, 9) + "=";
        let sb = format!(
            "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey={sb_key}"
        );
        finds(&sb, "azure-shared-access-key", &sb_key);
        let client = rand(ALNUM, 3, 10) + "8Q~" + &rand(ALNUM, 34, 11);
        finds(
            &format!("AZURE_CLIENT_SECRET=\"{client}\""),
            "azure-ad-client-secret",
            &client,
        );
        let sig = rand(ALNUM, 43, 12) + "%3D";
        let sas = format!(
            "https://acct.blob.core.windows.net/models?sv=2022-11-02&se=2030-01-01&sp=r&sig={sig}"
        );
        assert_eq!(ids(&sas), ["azure-sas-token"]);
    }

    #[test]
    fn ai_provider_tokens() {
        let hf = ["hf", "_"].concat() + &rand(LETTERS, 34, 13);
        assert_eq!(
            finds(&format!("HF_TOKEN={hf}"), "huggingface-token", &hf).confidence,
            Confidence::High
        );
        let org = ["api", "_org_"].concat() + &rand(LETTERS, 34, 14);
        finds(&org, "huggingface-token", &org);

        let proj = ["sk-", "proj-"].concat()
            + &rand(URLSAFE, 74, 15)
            + &["T3Blbk", "FJ"].concat()
            + &rand(URLSAFE, 74, 16);
        assert_eq!(
            finds(&format!("OPENAI_API_KEY={proj}"), "openai-api-key", &proj).confidence,
            Confidence::High
        );
        let legacy =
            ["sk", "-"].concat() + &rand(ALNUM, 20, 17) + "T3BlbkFJ" + &rand(ALNUM, 20, 18);
        finds(&format!("'{legacy}'"), "openai-api-key", &legacy);
        let svc = ["sk-", "svcacct-"].concat() + &rand(URLSAFE, 120, 19);
        assert_eq!(
            finds(&svc, "openai-api-key", &svc).confidence,
            Confidence::Medium
        );

        let ant = ["sk-", "ant-", "api03-"].concat() + &rand(URLSAFE, 93, 20) + "AA";
        finds(&format!("--api-key={ant}"), "anthropic-api-key", &ant);
        // Short `sk-` strings are not keys.
        assert!(detect("sk-learn and disk-usage and task-queue").is_empty());
    }

    #[test]
    fn forge_tokens() {
        for (prefix, id) in [
            ("ghp", "github-pat"),
            ("gho", "github-oauth-token"),
            ("ghu", "github-app-token"),
            ("ghs", "github-app-token"),
            ("ghr", "github-refresh-token"),
        ] {
            let t = format!("{prefix}_{}", rand(ALNUM, 36, 21));
            finds(&format!("token: {t}"), id, &t);
        }
        let fine = ["github", "_pat_"].concat() + &rand(ALNUM, 22, 22) + "_" + &rand(ALNUM, 59, 23);
        finds(&fine, "github-fine-grained-pat", &fine);
        let gl = ["gl", "pat-"].concat() + &rand(URLSAFE, 20, 24);
        finds(
            &format!("https://oauth2:{gl}@gitlab.example.com/x.git"),
            "gitlab-pat",
            &gl,
        );
        let runner = ["gl", "rt-"].concat() + &rand(ALNUM, 20, 25);
        finds(&runner, "gitlab-token", &runner);
        // Too short or too regular.
        assert!(detect(&format!("ghp_{}", "a".repeat(36))).is_empty());
        assert!(detect("ghp_short").is_empty());
    }

    #[test]
    fn slack_and_stripe() {
        let bot = ["xo", "xb-"].concat()
            + &rand(DIGITS, 12, 26)
            + "-"
            + &rand(DIGITS, 13, 27)
            + "-"
            + &rand(ALNUM, 24, 28);
        finds(&format!("SLACK_BOT_TOKEN={bot}"), "slack-token", &bot);
        let hook = ["https://hooks", ".slack.com/services/"].concat()
            + "T"
            + &rand(UPPER32, 8, 29)
            + "/B"
            + &rand(UPPER32, 8, 30)
            + "/"
            + &rand(ALNUM, 24, 31);
        finds(&format!("url: {hook}"), "slack-webhook-url", &hook);
        assert!(detect("xoxb-your-token-here").is_empty());

        let live = ["sk", "_live_"].concat() + &rand(ALNUM, 24, 32);
        assert_eq!(
            finds(&live, "stripe-secret-key", &live).confidence,
            Confidence::High
        );
        let test = ["rk", "_test_"].concat() + &rand(ALNUM, 24, 33);
        assert_eq!(
            finds(&test, "stripe-secret-key", &test).confidence,
            Confidence::Medium
        );
    }

    #[test]
    fn pem_private_keys() {
        let body: String = (0..6).map(|i| rand(B64, 64, 40 + i) + "\n").collect();
        for kind in ["RSA ", "EC ", "OPENSSH ", "", "ENCRYPTED ", "DSA "] {
            let pem =
                format!("-----BEGIN {kind}PRIVATE KEY-----\n{body}-----END {kind}PRIVATE KEY-----");
            let text = format!("key: |\n{pem}\nnext: 1");
            let m = finds(&text, "private-key", &pem);
            assert_eq!(m.confidence, Confidence::High, "{kind}");
        }
        let pgp = format!(
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{body}-----END PGP PRIVATE KEY BLOCK-----"
        );
        finds(&pgp, "private-key", &pgp);
        // JSON-escaped, as inside a last-applied annotation or a key file.
        let escaped = format!(
            "\"-----BEGIN RSA PRIVATE KEY-----\\n{}\\n-----END RSA PRIVATE KEY-----\\n\"",
            body.replace('\n', "\\n")
        );
        assert_eq!(detect(&escaped)[0].confidence, Confidence::High);
        // A header with no real body is still reported, with less confidence.
        let m = detect("---BEGIN OPENSSH PRIVATE KEY---\nxxxxx\n---END  OPENSSH PRIVATE KEY---");
        assert_eq!(
            (m[0].detector, m[0].confidence),
            ("private-key", Confidence::Medium)
        );
        let m = detect("-----BEGIN PRIVATE KEY-----");
        assert_eq!(m[0].confidence, Confidence::Medium);
        // Public material is not.
        assert!(detect("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----").is_empty());
        assert!(detect("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----").is_empty());
    }

    #[test]
    fn jwt_requires_a_json_header_with_alg() {
        let header = b64url(r#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#);
        let payload = b64url(
            r#"{"iss":"kubernetes/serviceaccount","sub":"system:serviceaccount:ml:default"}"#,
        );
        let jwt = format!("{header}.{payload}.{}", rand(URLSAFE, 86, 50));
        assert_eq!(
            finds(&format!("Bearer {jwt}"), "jwt", &jwt).confidence,
            Confidence::High
        );
        let none = format!("{}.{payload}.", b64url(r#"{"alg":"none"}"#));
        assert_eq!(finds(&none, "jwt", &none).confidence, Confidence::Medium);
        // eyJ-prefixed text whose header is not a JWT header.
        let fake = format!(
            "{}.{payload}.{}",
            b64url(r#"{"type":"not-a-jwt"}"#),
            rand(URLSAFE, 40, 51)
        );
        assert!(detect(&fake).is_empty());
        assert!(
            detect(&format!(
                "eyJ{}.{}.{}",
                rand(ALNUM, 20, 52),
                rand(ALNUM, 20, 53),
                rand(ALNUM, 20, 54)
            ))
            .is_empty()
        );
    }

    #[test]
    fn urls_with_passwords() {
        let pw = rand(ALNUM, 18, 60);
        let m = finds(
            &format!("DATABASE_URL=postgres://app:{pw}@db.internal:5432/app"),
            "database-url-password",
            &pw,
        );
        assert_eq!(m.confidence, Confidence::High);
        finds(
            &format!("jdbc:mysql://root:{pw}@mysql:3306/x"),
            "database-url-password",
            &pw,
        );
        finds(
            &format!("mongodb+srv://u:{pw}@cluster0.mongodb.net/db"),
            "database-url-password",
            &pw,
        );
        finds(
            &format!("redis://:{pw}@redis:6379/0"),
            "database-url-password",
            &pw,
        );
        assert_eq!(
            ids("https://deploy:hunter2x9@registry.example.com/v2/"),
            ["url-password"]
        );
        // An S3 URI with an access key pair: both halves are found.
        let key = ["AK", "IA"].concat() + &rand(UPPER32, 16, 61);
        let secret = rand(ALNUM, 40, 62);
        assert_eq!(
            ids(&format!("s3://{key}:{secret}@models/llama")),
            ["aws-access-key-id", "url-password"]
        );
        // References, templates, placeholders and ports are not passwords.
        for ok in [
            "postgres://app:${DB_PASSWORD}@db:5432/app",
            "postgres://app:$(DB_PASSWORD)@db:5432/app",
            "postgres://{{ .Values.user }}:{{ .Values.password }}@db/app",
            "postgres://app:<password>@db/app",
            "postgres://app:password@db/app",
            "mysql://root:****@db/app",
            "https://example.com:8443/path",
            "http://user@host/path",
            "https://ghuser:x-oauth-basic@github.com/org/repo",
        ] {
            assert!(detect(ok).is_empty(), "{ok}: {:?}", detect(ok));
        }
        // User names and passwords of up to 256 characters (multi-byte ones
        // counted as one), no longer.
        let long = "é".repeat(URL_PART_MAX - 8) + &rand(ALNUM, 8, 63);
        finds(
            &format!("postgres://{long}:{long}@db/app"),
            "database-url-password",
            &long,
        );
        let longer = long.clone() + "x";
        for over in [
            format!("postgres://app:{longer}@db/app"),
            format!("postgres://{longer}:{long}@db/app"),
            format!("https://app:{longer}@host/"),
        ] {
            assert!(detect(&over).is_empty(), "{over}: {:?}", detect(&over));
        }
    }

    #[test]
    fn authorization_headers() {
        let tok = rand(ALNUM, 40, 70);
        finds(
            &format!("curl -H \"Authorization: Bearer {tok}\" https://api"),
            "authorization-header",
            &tok,
        );
        let basic = b64std(&format!("admin:{}", rand(ALNUM, 12, 71)));
        let m = finds(
            &format!("proxy_set_header Authorization \"Basic {basic}\";"),
            "authorization-header",
            &basic,
        );
        assert_eq!(m.confidence, Confidence::High);
        assert!(detect("Authorization: Bearer $TOKEN").is_empty());
        assert!(
            detect(&format!(
                "Authorization: Basic {}",
                b64std("admin:changeme")
            ))
            .is_empty()
        );
    }

    #[test]
    fn generic_assignments_need_a_secret_name_and_a_random_value() {
        let v = rand(ALNUM, 32, 80);
        finds(
            &format!("--client-secret={v}"),
            "generic-secret-assignment",
            &v,
        );
        finds(
            &format!("db.password: \"{v}\""),
            "generic-secret-assignment",
            &v,
        );
        for ok in [
            format!("max_tokens: {}", 4096),
            format!("secretName: {}", "llama-weights-credentials"),
            format!("token_ttl = {v}"),
            format!("checksum: {v}"),
            "password: changeme-please-1234".to_owned(),
        ] {
            assert!(detect(&ok).is_empty(), "{ok}: {:?}", detect(&ok));
        }
    }

    #[test]
    fn specific_detectors_win_overlaps() {
        let header = b64url(r#"{"alg":"HS256"}"#);
        let jwt = format!(
            "{header}.{}.{}",
            b64url(r#"{"sub":"u1"}"#),
            rand(URLSAFE, 43, 90)
        );
        assert_eq!(ids(&format!("api_token: {jwt}")), ["jwt"]);
        assert_eq!(ids(&format!("Authorization: Bearer {jwt}")), ["jwt"]);
        let gh = format!("ghp_{}", rand(ALNUM, 36, 91));
        assert_eq!(ids(&format!("GITHUB_TOKEN={gh}")), ["github-pat"]);
    }

    #[test]
    fn secret_key_names() {
        for name in [
            "password",
            "PASSWORD",
            "db_password",
            "DB_PASS",
            "my_password",
            "POSTGRES_PASSWORD",
            "adminPassword",
            "rootpassword",
            "passphrase",
            "secret",
            "client_secret",
            "clientSecret",
            "NEXTAUTH_SECRET",
            "token",
            "HF_TOKEN",
            "HUGGING_FACE_HUB_TOKEN",
            "GITHUB_TOKEN",
            "auth_token",
            "OAuth2Token",
            "api_key",
            "apiKey",
            "APIKey",
            "x-api-key",
            "OPENAI_API_KEY",
            "WANDB_API_KEY",
            "private_key",
            "privateKey",
            "secret_key",
            "SECRET_KEY_BASE",
            "AWS_SECRET_ACCESS_KEY",
            "AZURE_BATCH_KEY",
            "AZURE_STORAGE_KEY",
            "OCI_CLI_KEY_CONTENT",
            "client-key-data",
            "credentials",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "creds",
            "bearer",
            "BASIC_AUTH",
            "spring.datasource.password",
            "encryption_key",
            "SIGNING_KEY",
            "webhookSecret",
            "password_hash",
            "PASSWORD_1",
        ] {
            assert!(looks_secret_key(name), "{name} should look secret");
        }
        for name in [
            "token_ttl",
            "tokenTTL",
            "max_tokens",
            "MAX_TOTAL_TOKENS",
            "MAX_BATCH_PREFILL_TOKENS",
            "tokenizer",
            "TOKENIZERS_PARALLELISM",
            "token_url",
            "token_endpoint",
            "tokenType",
            "passwordPolicy",
            "password_min_length",
            "PASSWORD_FILE",
            "passwordSecretRef",
            "passwordless",
            "bypass",
            "compass",
            "secretName",
            "secret_name",
            "secretKeyRef",
            "secretRef",
            "secrets_dir",
            "existingSecret",
            "AWS_ACCESS_KEY_ID",
            "private_key_id",
            "public_key",
            "SSH_PUBLIC_KEY",
            "primary_key",
            "cache_key",
            "kms_key",
            "key_id",
            "key",
            "auth",
            "author",
            "authority",
            "user_name",
            "greeting",
            "the_good_stuff",
            "db_user",
            "secret_manager",
            "",
            "___",
        ] {
            assert!(!looks_secret_key(name), "{name} should not look secret");
        }
    }

    #[test]
    fn named_values() {
        let named = |k: &str, v: &str| named_secret(k, v).map(|m| (m.detector, m.confidence));
        assert_eq!(
            named("password", "abc123"),
            Some((NAMED_SECRET, Confidence::Medium))
        );
        assert_eq!(
            named("password", "supersecret"),
            Some((NAMED_SECRET, Confidence::Medium))
        );
        assert_eq!(
            named("api_key", &rand(ALNUM, 32, 100)),
            Some((NAMED_SECRET, Confidence::High))
        );
        assert_eq!(
            named("key", &rand(ALNUM, 32, 101)),
            Some((NAMED_SECRET, Confidence::Medium))
        );
        assert_eq!(
            named("token", "5a0f6a53-3c4e-4b0e-9a51-8d5a1c2b3f4e"),
            Some((NAMED_SECRET, Confidence::Medium))
        );
        for (k, v) in [
            ("password", "changeme"),
            ("password", "CHANGE_ME"),
            ("password", "REPLACE_ME"),
            ("password", "<password>"),
            ("password", "${DB_PASSWORD}"),
            ("password", "$(DB_PASSWORD)"),
            ("password", "{{ .Values.db.password }}"),
            ("password", ""),
            ("password", "   "),
            ("password", "xxxxx"),
            ("password", "********"),
            ("token", "your-token-here"),
            ("token", "true"),
            ("api_key", "YOUR_OPENAI_API_KEY"),
            ("secret", "my-db-secret"),
            ("tlsSecret", "ingress-tls"),
            (
                "GOOGLE_APPLICATION_CREDENTIALS",
                "/var/secrets/google/key.json",
            ),
            ("password", "vault:secret/data/db#password"),
            (
                "password",
                "ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]",
            ),
            ("token", "https://auth.example.com/oauth/token"),
            ("key", "user-sessions"),
            ("key", "5a0f6a53-3c4e-4b0e-9a51-8d5a1c2b3f4e"),
            ("max_tokens", "4096"),
            ("secretKeyRef", "db"),
            ("credentialsSecret", "s3-access"),
            ("password", "DB_PASSWORD"),
            ("jwt_secret", "change-this-in-production"),
        ] {
            assert_eq!(named(k, v), None, "{k}={v:?}");
        }
        // A single word under a secret name is a value, not a resource name.
        assert!(named("secret", "supersecret").is_some());
        // The span is the trimmed value.
        let m = named_secret("password", "  hunter2x  ").unwrap();
        assert_eq!(m.span, 2..10);
    }

    #[test]
    fn placeholders() {
        for v in [
            "",
            "changeme",
            "ChangeMe!",
            "changeit",
            "REPLACE_ME",
            "replace-with-your-token",
            "<password>",
            "<YOUR_TOKEN>",
            "[REDACTED]",
            "${VAR}",
            "${VAR:-x}",
            "$(VAR)",
            "$VAR",
            "%VAR%",
            "@VAR@",
            "__TOKEN__",
            "#{Secret}#",
            "{{ .Values.x }}",
            "{{ secret }}",
            "xxx",
            "XXXXXXXX",
            "***",
            "...",
            "none",
            "null",
            "N/A",
            "TODO",
            "dummy",
            "example",
            "test",
            "password",
            "secret",
            "your_api_key_here",
            "op://vault/item/password",
            "ref+vault://secret/db#/password",
            "arn:aws:secretsmanager:us-east-1:1:secret:db",
            "\"\"",
        ] {
            assert!(is_placeholder(v), "{v:?} should be a placeholder");
        }
        for v in [
            "supersecret",
            "abc123",
            "hunter2",
            "abcd1234",
            "s3cr3t-Pa55",
        ] {
            assert!(!is_placeholder(v), "{v:?} is a real value");
        }
    }

    #[test]
    fn randomness() {
        assert!(looks_random(&rand(ALNUM, 32, 110)));
        assert!(looks_random(&rand(B64, 44, 111)));
        assert!(looks_random(&rand("0123456789abcdef", 40, 112)));
        for v in [
            "5a0f6a53-3c4e-4b0e-9a51-8d5a1c2b3f4e",
            "prod.us-east-1.rds.amazonaws.com",
            "my-service-account-name-123",
            "MyApplicationServiceName",
            "https://example.com/a1b2c3d4e5f6",
            "/var/run/secrets/kubernetes.io/token",
            "short1",
            "aaaaaaaaaaaaaaaaaaaa1",
            "the quick brown fox 1234",
        ] {
            assert!(!looks_random(v), "{v} should not look random");
        }
    }

    #[test]
    fn entropy_values() {
        assert!(shannon_entropy("").abs() < f64::EPSILON);
        assert!(shannon_entropy("aaaa").abs() < f64::EPSILON);
        assert!((shannon_entropy("ab") - 1.0).abs() < 1e-9);
        assert!((shannon_entropy("0123456789abcdef") - 4.0).abs() < 1e-9);
    }

    #[test]
    fn redaction_shows_at_most_four_characters() {
        let key = ["AK", "IA"].concat() + &rand(UPPER32, 16, 120);
        assert_eq!(redact(&key), "AKIA…[redacted 20 chars]");
        assert_eq!(redact("abc123"), "[redacted 6 chars]");
        assert_eq!(redact("fifteen-chars!!"), "[redacted 15 chars]");
        assert_eq!(redact(""), "[redacted 0 chars]");
        // No prefix when the first characters are not plain printable ASCII.
        assert_eq!(redact("\npässwörd-with-ümlauts"), "[redacted 22 chars]");
        assert_eq!(redact("pä€sword-with-ümlauts"), "[redacted 21 chars]");
        let long = rand(ALNUM, 200, 121);
        let r = redact(&long);
        assert!(
            r.starts_with(&long[..4])
                && !r.contains(&long[..5])
                && r.ends_with("[redacted 200 chars]")
        );
    }

    #[test]
    fn masking_replaces_every_match() {
        let gh = format!("ghp_{}", rand(ALNUM, 36, 150));
        let pw = rand(ALNUM, 18, 151);
        let text = format!("token={gh} url=postgres://u:{pw}@db/x é");
        assert_eq!(
            mask(&text),
            "token=[redacted:github-pat] url=postgres://u:[redacted:database-url-password]@db/x é"
        );
        assert_eq!(mask("nothing here"), "nothing here");
    }

    #[test]
    fn base64_decoding() {
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVsbG8").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVs\nbG8=\n").unwrap(), b"hello");
        assert_eq!(decode_base64(&b64url("a?>b")).unwrap(), b"a?>b");
        assert_eq!(decode_base64(&b64std("a?>b")).unwrap(), b"a?>b");
        assert_eq!(decode_base64("").unwrap(), b"");
        assert!(decode_base64("not base64!").is_none());
        assert!(decode_base64("a").is_none());
        assert!(decode_base64("aGVs=bG8").is_none());
    }

    #[test]
    fn embedded_assignments() {
        let kv = |t: &str| {
            assignments(t)
                .into_iter()
                .map(|a| (a.key, a.value))
                .collect::<Vec<_>>()
        };
        let s = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(
            kv("REDIS_PASSWORD=abcd1234"),
            [s("REDIS_PASSWORD", "abcd1234")]
        );
        assert_eq!(kv("REDIS_PASSWORD="), []);
        assert_eq!(
            kv("env: REDIS_PASSWORD=${REDIS_PASSWORD}"),
            [s("env", "REDIS_PASSWORD=${REDIS_PASSWORD}")]
        );
        assert_eq!(
            kv(
                "# comment\nexport API_TOKEN=\"abc def\"\nspring.datasource.password = s3cret # note\n[section]\nkey: |\n"
            ),
            [
                s("API_TOKEN", "abc def"),
                s("spring.datasource.password", "s3cret")
            ]
        );
        assert_eq!(
            kv("database:\n  host: db\n  password: 'hunter2'\n  - name: x\n"),
            [s("host", "db"), s("password", "hunter2"), s("name", "x")]
        );
        assert_eq!(
            kv(
                r#"{"db": {"user": "app", "password": "hunter2", "port": 5432, "tls": true}, "keys": ["a"]}"#
            ),
            [
                s("db.password", "hunter2"),
                s("db.port", "5432"),
                s("db.user", "app"),
                s("keys[0]", "a")
            ]
        );
        assert_eq!(
            kv(r#"  "password": "hunter2","#),
            [s("password", "hunter2")]
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        let key = ["AK", "IA"].concat() + &rand(UPPER32, 16, 130);
        let odd = [
            String::new(),
            "é".repeat(1000),
            format!("é{key}é"),
            format!("🔑{key}🔑-----BEGIN RSA PRIVATE KEY-----é"),
            "-----BEGIN PRIVATE KEY-----\n".repeat(50),
            format!("eyJ{}.eyJ{}.", "é".repeat(10), "x".repeat(10)),
            format!("eyJhbGciOiJIUzI1NiJ9.{}.sig", "e".repeat(100_000)),
            "postgres://a:".repeat(1000) + "@",
            "Authorization: Basic ////////////////".to_owned(),
            "password=".repeat(10_000),
            String::from_utf8_lossy(&(0u8..=255).cycle().take(70_000).collect::<Vec<_>>())
                .into_owned(),
        ];
        for t in &odd {
            for m in detect(t) {
                assert!(t.get(m.span.clone()).is_some(), "span off a char boundary");
                let _ = redact(&t[m.span]);
            }
            let _ = assignments(t);
            let _ = detect_keyed("password", t);
            let _ = looks_random(t);
            let _ = is_placeholder(t);
            let _ = looks_secret_key(t);
            let _ = decode_base64(t);
        }
    }

    #[test]
    fn large_texts_are_scanned_whole() {
        let gh = format!("ghp_{}", rand(ALNUM, 36, 140));
        let filler = "lorem ipsum dolor sit amet, key: value; token_ttl: 300\n".repeat(40_000);
        let text = format!("{filler}GITHUB_TOKEN={gh}\n{filler}");
        let start = std::time::Instant::now();
        let found = detect(&text);
        assert_eq!(
            found.iter().map(|m| m.detector).collect::<Vec<_>>(),
            ["github-pat"]
        );
        assert!(
            start.elapsed().as_secs() < 20,
            "detect too slow: {:?}",
            start.elapsed()
        );
    }
}
