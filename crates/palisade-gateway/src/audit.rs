//! One audit record per decision, through a sink trait so the audit issue's
//! tamper-evident log can plug in. The default sink writes JSON lines from a
//! background thread, so a slow disk never stalls the proxy. Records never
//! hold credentials, and hold prompt text only when configured.

use palisade_core::Finding;
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::sync::mpsc;

/// What the gateway decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Forwarded.
    Allow,
    /// Refused by a rule.
    Deny,
    /// Forwarded, but the upstream failed or the client left.
    Error,
}

/// One decision.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// RFC 3339 time of the decision.
    pub time: String,
    /// Request ID (also sent as `x-request-id`).
    pub request_id: String,
    /// Tenant (`-` when unauthenticated).
    pub tenant: String,
    /// Model requested (`-` when unknown).
    pub model: String,
    /// Route (`chat`, `completions`, ..., `passthrough`, `authz`).
    pub endpoint: &'static str,
    /// The decision.
    pub decision: Decision,
    /// HTTP status returned.
    pub status: u16,
    /// Rule IDs that fired.
    pub rules: Vec<&'static str>,
    /// Tokens reserved before forwarding.
    pub tokens_reserved: u64,
    /// Prompt tokens used (settled).
    pub prompt_tokens: u64,
    /// Completion tokens used (settled).
    pub completion_tokens: u64,
    /// Whether usage came from the upstream (`true`) or was counted.
    pub usage_reported: bool,
    /// The upstream that answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// Whether the answer streamed.
    pub stream: bool,
    /// Total latency in milliseconds.
    pub latency_ms: f64,
    /// The denial or error message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Prompt text, only with `audit.logPrompts: true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
}

/// Where audit records and findings go.
pub trait AuditSink: Send + Sync + std::fmt::Debug {
    /// Records a decision.
    fn record(&self, r: &AuditRecord);
    /// Records a finding (e.g. a token-rate anomaly).
    fn finding(&self, f: &Finding);
}

/// Discards everything.
#[derive(Debug, Default)]
pub struct NullSink;

impl AuditSink for NullSink {
    fn record(&self, _: &AuditRecord) {}
    fn finding(&self, _: &Finding) {}
}

#[derive(Serialize)]
struct Tagged<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    inner: &'a T,
}

/// JSON lines written by a background thread.
#[derive(Debug)]
pub struct JsonLinesSink {
    tx: mpsc::SyncSender<String>,
}

impl JsonLinesSink {
    /// Appends to a file (created with mode 0600 where supported).
    pub fn file(path: &Path) -> std::io::Result<JsonLinesSink> {
        let mut o = std::fs::OpenOptions::new();
        o.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let f = o.open(path)?;
        Ok(Self::writer(Box::new(f)))
    }

    /// Writes to standard error.
    pub fn stderr() -> JsonLinesSink {
        Self::writer(Box::new(std::io::stderr()))
    }

    /// Writes to any writer.
    pub fn writer(w: Box<dyn Write + Send>) -> JsonLinesSink {
        let (tx, rx) = mpsc::sync_channel::<String>(65_536);
        std::thread::Builder::new()
            .name("palisade-audit".into())
            .spawn(move || {
                let mut w = std::io::BufWriter::new(w);
                while let Ok(line) = rx.recv() {
                    let _ = w.write_all(line.as_bytes());
                    while let Ok(more) = rx.try_recv() {
                        let _ = w.write_all(more.as_bytes());
                    }
                    let _ = w.flush();
                }
            })
            .ok();
        JsonLinesSink { tx }
    }

    fn send<T: Serialize>(&self, kind: &'static str, v: &T) {
        if let Ok(mut s) = serde_json::to_string(&Tagged { kind, inner: v }) {
            s.push('\n');
            let _ = self.tx.send(s);
        }
    }
}

impl AuditSink for JsonLinesSink {
    fn record(&self, r: &AuditRecord) {
        self.send("decision", r);
    }

    fn finding(&self, f: &Finding) {
        self.send("finding", f);
    }
}

/// RFC 3339 now.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
