//! One audit record per decision, through a sink trait. The default sink
//! writes JSON lines from a background thread, so a slow disk never stalls
//! the proxy. Records never hold credentials, and hold prompt text only when
//! configured.
//!
//! [`SiemAuditSink`] adds the SIEM sinks of `palisade_audit::sink`
//! (`audit.sinks`): syslog, Splunk HEC, webhooks, files and the
//! tamper-evident log (`tlog:DIR`), each at least once through its own disk
//! spool. Every decision goes out as a gateway request (OCSF API Activity
//! 6003); detections and refusals that matter to a security team
//! (authentication, model access, budgets and rate limits, prompt
//! injection, secrets in answers) also go out as findings (OCSF Detection
//! Finding 2004).

use crate::error::rules;
use crate::metrics::Metrics;
use palisade_audit::sink::{Forwarder, ForwarderOptions, SinkRecord};
use palisade_core::finding::{FindingReferences, Location, ResourceRef, fingerprint};
use palisade_core::{Finding, Severity};
use serde::Serialize;
use std::borrow::Cow;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

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
    /// Hands the sink the gateway's metrics (called once, at start).
    fn attach(&self, _metrics: &Metrics) {}
    /// Writes out what is buffered; called when the gateway stops.
    fn close(&self) {}
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
///
/// The thread takes what has queued up every [`JSON_LINES_BATCH`] instead
/// of waking for each record: a wake-up per request (a futex call and a
/// context switch) cost the proxy more than serialising the record, on a
/// machine where the proxy, its clients and its upstreams share the cores.
/// [`AuditSink::close`] writes out what is queued and waits for it.
#[derive(Debug)]
pub struct JsonLinesSink {
    tx: mpsc::SyncSender<LineMsg>,
}

/// How long the JSON lines writer lets records gather between two writes.
pub const JSON_LINES_BATCH: Duration = Duration::from_millis(5);

/// Records the JSON lines queue holds before a sender waits. std's bounded
/// channel allocates and writes every slot up front (32 bytes each), so
/// 65,536 slots were 2 MiB of resident memory for a queue that holds about
/// a hundred records per batch at 20,000 requests a second.
const JSON_LINES_QUEUE: usize = 8_192;

#[derive(Debug)]
enum LineMsg {
    Line(String),
    Flush(mpsc::SyncSender<()>),
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
        let (tx, rx) = mpsc::sync_channel::<LineMsg>(JSON_LINES_QUEUE);
        std::thread::Builder::new()
            .name("palisade-audit".into())
            .spawn(move || {
                let mut w = std::io::BufWriter::new(w);
                while let Ok(first) = rx.recv() {
                    let mut msg = Some(first);
                    while let Some(m) = msg.take() {
                        match m {
                            LineMsg::Line(line) => {
                                let _ = w.write_all(line.as_bytes());
                            }
                            LineMsg::Flush(done) => {
                                let _ = w.flush();
                                let _ = done.send(());
                            }
                        }
                        msg = rx.try_recv().ok();
                    }
                    let _ = w.flush();
                    // Let the next records gather; senders do not wake a
                    // thread that is not waiting in `recv`.
                    std::thread::sleep(JSON_LINES_BATCH);
                }
                let _ = w.flush();
            })
            .ok();
        JsonLinesSink { tx }
    }

    fn send<T: Serialize>(&self, kind: &'static str, v: &T) {
        if let Ok(mut s) = serde_json::to_string(&Tagged { kind, inner: v }) {
            s.push('\n');
            let _ = self.tx.send(LineMsg::Line(s));
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

    fn close(&self) {
        let (done, wait) = mpsc::sync_channel(1);
        if self.tx.send(LineMsg::Flush(done)).is_ok() {
            let _ = wait.recv_timeout(CLOSE_TIMEOUT);
        }
    }
}

/// What the SIEM thread receives.
enum Msg {
    Record(Box<AuditRecord>),
    Finding(Box<Finding>),
    Close(mpsc::SyncSender<()>),
}

/// How long [`AuditSink::close`] waits for the sinks to take what is spooled
/// (the rest is delivered by the next start).
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Seconds between two warnings about the same kind of trouble.
const WARN_EVERY: Duration = Duration::from_secs(30);

/// The SIEM sinks (`audit.sinks`), behind the local audit sink.
///
/// The request path only clones the record into a bounded queue
/// (`audit.sinkQueue`, `try_send`: it never waits). A thread takes records
/// from the queue in batches, turns them into [`SinkRecord`]s (secrets
/// masked, prompts only with `audit.logPrompts`) and appends each batch to
/// every sink's spool with one group commit; each sink's forwarder delivers
/// from its spool, retrying while the destination is slow or down. A record
/// acknowledged by the spool is never lost: what is not delivered at exit is
/// delivered by the next start.
///
/// When the queue is full (the spool's disk cannot keep up or failed) the
/// record still goes to the local audit sink (`audit.path`), but not to the
/// SIEM: it is counted in `palisade_gateway_audit_sink_dropped_total` and
/// logged (at most every 30 s). Requests are never held up or refused for
/// the SIEM's sake: a SIEM outage must not become a gateway outage.
#[derive(Debug)]
pub struct SiemAuditSink {
    local: Arc<dyn AuditSink>,
    tx: mpsc::SyncSender<Msg>,
    stats: Arc<Stats>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    describe: Vec<String>,
}

#[derive(Debug, Default)]
struct Stats {
    dropped: AtomicU64,
    last_drop_warning: Mutex<Option<Instant>>,
    metrics: OnceLock<SinkMetrics>,
}

#[derive(Debug, Clone)]
struct SinkMetrics {
    dropped: prometheus_client::metrics::counter::Counter,
    spooled: prometheus_client::metrics::family::Family<
        crate::metrics::Labels,
        prometheus_client::metrics::counter::Counter,
    >,
    spool_errors: prometheus_client::metrics::family::Family<
        crate::metrics::Labels,
        prometheus_client::metrics::counter::Counter,
    >,
    delivery_failures: prometheus_client::metrics::family::Family<
        crate::metrics::Labels,
        prometheus_client::metrics::counter::Counter,
    >,
    backlog: prometheus_client::metrics::family::Family<
        crate::metrics::Labels,
        prometheus_client::metrics::gauge::Gauge,
    >,
}

/// The SIEM sinks could not be started.
#[derive(Debug, thiserror::Error)]
#[error("audit.sinks: {address}: {source}")]
pub struct SiemSinkError {
    address: String,
    #[source]
    source: palisade_audit::sink::SinkError,
}

impl SiemAuditSink {
    /// Opens every sink of `addresses` with its spool under `spool` and
    /// starts the thread. `prompts` is `audit.logPrompts`.
    pub fn start(
        local: Arc<dyn AuditSink>,
        addresses: &[String],
        spool: &Path,
        queue: usize,
        prompts: bool,
    ) -> Result<SiemAuditSink, SiemSinkError> {
        let mut forwarders = Vec::with_capacity(addresses.len());
        for a in addresses {
            let err = |source| SiemSinkError {
                address: a.clone(),
                source,
            };
            let sink = palisade_audit::sink::open(a).map_err(err)?;
            let f = Forwarder::start(
                &palisade_audit::sink::spool_dir(spool, a),
                sink,
                ForwarderOptions::default(),
            )
            .map_err(err)?;
            forwarders.push(f);
        }
        let describe = forwarders.iter().map(|f| f.describe().to_owned()).collect();
        let (tx, rx) = mpsc::sync_channel(queue.max(1));
        let stats = Arc::new(Stats::default());
        let st = Arc::clone(&stats);
        let thread = std::thread::Builder::new()
            .name("palisade-siem".into())
            .spawn(move || siem_thread(&rx, forwarders, prompts, &st))
            .map_err(|e| SiemSinkError {
                address: String::new(),
                source: palisade_audit::sink::SinkError::Config(e.to_string()),
            })?;
        Ok(SiemAuditSink {
            local,
            tx,
            stats,
            thread: Mutex::new(Some(thread)),
            describe,
        })
    }

    /// The sinks, as they describe themselves.
    pub fn sinks(&self) -> &[String] {
        &self.describe
    }

    /// Records not handed to the sinks because the queue was full or closed.
    pub fn dropped(&self) -> u64 {
        self.stats.dropped.load(Ordering::Relaxed)
    }

    fn offer(&self, m: Msg) {
        if self.tx.try_send(m).is_ok() {
            return;
        }
        self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        if let Some(m) = self.stats.metrics.get() {
            m.dropped.inc();
        }
        let mut last = self
            .stats
            .last_drop_warning
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
            *last = Some(Instant::now());
            tracing::error!(
                dropped = self.stats.dropped.load(Ordering::Relaxed),
                "audit sink queue full or closed: records for the SIEM sinks are dropped (the local audit log still has them)"
            );
        }
    }
}

impl AuditSink for SiemAuditSink {
    fn record(&self, r: &AuditRecord) {
        self.local.record(r);
        self.offer(Msg::Record(Box::new(r.clone())));
    }

    fn finding(&self, f: &Finding) {
        self.local.finding(f);
        self.offer(Msg::Finding(Box::new(f.clone())));
    }

    fn attach(&self, m: &Metrics) {
        self.local.attach(m);
        let _ = self.stats.metrics.set(SinkMetrics {
            dropped: m.audit_sink_dropped.clone(),
            spooled: m.audit_sink_spooled.clone(),
            spool_errors: m.audit_sink_spool_errors.clone(),
            delivery_failures: m.audit_sink_delivery_failures.clone(),
            backlog: m.audit_sink_backlog.clone(),
        });
    }

    fn close(&self) {
        let t = self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(t) = t {
            let (reply, done) = mpsc::sync_channel(1);
            // Blocking here is fine: the server has stopped taking requests.
            if self.tx.send(Msg::Close(reply)).is_ok() {
                let _ = done.recv();
            }
            let _ = t.join();
        }
        self.local.close();
    }
}

impl Drop for SiemAuditSink {
    fn drop(&mut self) {
        self.close();
    }
}

/// The SIEM thread: queue -> spools, and the sinks' health into metrics and logs.
fn siem_thread(rx: &mpsc::Receiver<Msg>, forwarders: Vec<Forwarder>, prompts: bool, stats: &Stats) {
    const BATCH: usize = 1024;
    let mut failures = vec![0u64; forwarders.len()];
    let mut warned: Vec<Option<Instant>> = vec![None; forwarders.len()];
    let mut records = Vec::with_capacity(BATCH);
    loop {
        let mut close = None;
        let mut disconnected = false;
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(m) => {
                let mut next = Some(m);
                while let Some(m) = next.take() {
                    match m {
                        Msg::Record(r) => records.extend(sink_records(&r, prompts)),
                        Msg::Finding(f) => records.push(finding_record(&f, None)),
                        Msg::Close(reply) => {
                            close = Some(reply);
                            break;
                        }
                    }
                    if records.len() < BATCH {
                        next = rx.try_recv().ok();
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => disconnected = true,
        }
        let metrics = stats.metrics.get();
        if !records.is_empty() {
            for f in &forwarders {
                let label = vec![("sink", f.describe().to_owned())];
                match f.send_all(&records) {
                    Ok(_) => {
                        if let Some(m) = metrics {
                            m.spooled.get_or_create(&label).inc_by(records.len() as u64);
                        }
                    }
                    Err(e) => {
                        if let Some(m) = metrics {
                            m.spool_errors
                                .get_or_create(&label)
                                .inc_by(records.len() as u64);
                        }
                        tracing::error!(sink = %f.describe(), error = %e, records = records.len(), "cannot write the sink's spool: these records are lost for this sink");
                    }
                }
            }
            records.clear();
        }
        for (i, f) in forwarders.iter().enumerate() {
            let label = vec![("sink", f.describe().to_owned())];
            let backlog = f.spooled().saturating_sub(f.delivered());
            let (n, err) = f.failures();
            if let Some(m) = metrics {
                m.backlog
                    .get_or_create(&label)
                    .set(i64::try_from(backlog).unwrap_or(i64::MAX));
                m.delivery_failures
                    .get_or_create(&label)
                    .inc_by(n.saturating_sub(failures[i]));
            }
            if n > failures[i] && warned[i].is_none_or(|t| t.elapsed() >= WARN_EVERY) {
                warned[i] = Some(Instant::now());
                tracing::warn!(sink = %f.describe(), error = %err.unwrap_or_default(), backlog, "SIEM delivery failing; records stay spooled and are retried");
            }
            failures[i] = n;
        }
        if let Some(reply) = close {
            for f in &forwarders {
                if !f.flush(CLOSE_TIMEOUT, f.spooled()) {
                    tracing::warn!(sink = %f.describe(), backlog = f.spooled().saturating_sub(f.delivered()), "records not delivered yet stay in the spool for the next start");
                }
            }
            drop(forwarders);
            let _ = reply.send(());
            return;
        }
        if disconnected {
            return;
        }
    }
}

/// The tenant as a finding's resource (as the anomaly detector names it).
fn tenant_resource(tenant: &str) -> ResourceRef {
    ResourceRef {
        api_version: "gateway.palisade.dev/v1".into(),
        kind: "Tenant".into(),
        namespace: None,
        name: tenant.to_owned(),
    }
}

/// A gateway rule reported as a finding when it decides or marks a request.
struct FindingRule {
    id: &'static str,
    title: &'static str,
    severity: Severity,
    category: &'static str,
    remediation: &'static str,
    owasp_llm: &'static [&'static str],
    /// Reported only when the request was refused (not when merely marked).
    deny_only: bool,
}

const FINDING_RULES: &[FindingRule] = &[
    FindingRule {
        id: rules::UNAUTHENTICATED,
        title: "Gateway request refused: missing or unknown credentials",
        severity: Severity::Medium,
        category: "gateway-auth",
        remediation: "Find the caller (request ID, time): a revoked or leaked key, a misconfigured client or key guessing. Rotate the tenant's key if it leaked.",
        owasp_llm: &[],
        deny_only: true,
    },
    FindingRule {
        id: rules::MODEL_NOT_ALLOWED,
        title: "Gateway request refused: model not allowed for the tenant",
        severity: Severity::Medium,
        category: "gateway-authz",
        remediation: "Check whether the tenant should use this model; if not, find out why its client asks for it.",
        owasp_llm: &[],
        deny_only: true,
    },
    FindingRule {
        id: rules::BUDGET,
        title: "Gateway request refused: token budget exhausted",
        severity: Severity::Low,
        category: "denial-of-wallet",
        remediation: "Check the tenant's usage for a runaway agent loop, a leaked key or scraping; raise the budget only if the use is legitimate.",
        owasp_llm: &["LLM10"],
        deny_only: true,
    },
    FindingRule {
        id: rules::REQUEST_RATE,
        title: "Gateway request refused: request rate limit",
        severity: Severity::Low,
        category: "denial-of-wallet",
        remediation: "Check the tenant's callers for a retry storm, a leaked key or scraping; adjust the rate limit if the load is legitimate.",
        owasp_llm: &["LLM10"],
        deny_only: true,
    },
    FindingRule {
        id: rules::TOKEN_RATE,
        title: "Gateway request refused: token rate limit",
        severity: Severity::Low,
        category: "denial-of-wallet",
        remediation: "Check the tenant's callers for oversized prompts or a runaway loop; adjust the token rate limit if the load is legitimate.",
        owasp_llm: &["LLM10"],
        deny_only: true,
    },
    FindingRule {
        id: rules::CONCURRENCY,
        title: "Gateway request refused: concurrency cap",
        severity: Severity::Low,
        category: "denial-of-wallet",
        remediation: "Check the tenant's callers for a fan-out or retry storm; raise the cap only if the load is legitimate.",
        owasp_llm: &["LLM10"],
        deny_only: true,
    },
    FindingRule {
        id: rules::INJECTION,
        title: "Prompt injection detected in a gateway request",
        severity: Severity::High,
        category: "prompt-injection",
        remediation: "Review the request (and, if prompts are logged, its text) and the caller; block the tenant's key if the attempts continue.",
        owasp_llm: &["LLM01"],
        deny_only: false,
    },
    FindingRule {
        id: rules::OUTPUT_REDACTED,
        title: "Secrets, PII or a canary in a model answer",
        severity: Severity::Medium,
        category: "sensitive-information-disclosure",
        remediation: "Find where the model got the secret (training data, retrieval, system prompt) and rotate it; a canary means the system prompt leaked.",
        owasp_llm: &["LLM02", "LLM07"],
        deny_only: false,
    },
];

/// The record as the sinks get it: free text masked, the prompt only when
/// prompts are logged.
fn request_json(r: &AuditRecord, prompts: bool) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    if let serde_json::Value::Object(m) = &mut v {
        match (&r.prompt, prompts) {
            (Some(p), true) => {
                m.insert("prompt".into(), palisade_core::secrets::mask(p).into());
            }
            _ => {
                m.remove("prompt");
            }
        }
        if let Some(msg) = &r.message {
            m.insert("message".into(), palisade_core::secrets::mask(msg).into());
        }
    }
    v
}

/// What one decision sends: the request, and a finding per rule that matters.
fn sink_records(r: &AuditRecord, prompts: bool) -> Vec<SinkRecord> {
    let v = request_json(r, prompts);
    let mut out = Vec::with_capacity(2);
    for rule in FINDING_RULES {
        if !r.rules.contains(&rule.id) || (rule.deny_only && r.decision != Decision::Deny) {
            continue;
        }
        let resource = tenant_resource(&r.tenant);
        let blocked = r.decision == Decision::Deny;
        let severity = if rule.id == rules::OUTPUT_REDACTED && blocked {
            Severity::High
        } else {
            rule.severity
        };
        let detail = r
            .message
            .as_deref()
            .map(|m| format!(": {}", palisade_core::secrets::mask(m)))
            .unwrap_or_default();
        let f = Finding {
            rule: Cow::Borrowed(rule.id),
            title: Cow::Borrowed(rule.title),
            severity,
            category: Cow::Borrowed(rule.category),
            message: format!(
                "{} request {} of tenant {:?} for model {:?} {} with status {}{detail}",
                r.endpoint,
                r.request_id,
                r.tenant,
                r.model,
                match r.decision {
                    Decision::Allow => "allowed",
                    Decision::Deny => "refused",
                    Decision::Error => "failed",
                },
                r.status
            ),
            remediation: Cow::Borrowed(rule.remediation),
            references: FindingReferences {
                owasp_llm: rule.owasp_llm,
                ..FindingReferences::default()
            },
            fingerprint: fingerprint(rule.id, &resource, "request", &r.request_id),
            location: Location {
                path: "request".into(),
                ..Location::default()
            },
            resource,
        };
        out.push(finding_record(&f, Some(&v)));
    }
    out.insert(0, SinkRecord::GatewayRequest(v));
    out
}

/// A finding as a sink record, with the request it is about.
fn finding_record(f: &Finding, request: Option<&serde_json::Value>) -> SinkRecord {
    let mut v = serde_json::to_value(f).unwrap_or_default();
    if let serde_json::Value::Object(m) = &mut v {
        m.insert(
            "message".into(),
            palisade_core::secrets::mask(&f.message).into(),
        );
        if let Some(r) = request {
            m.insert("request".into(), r.clone());
        }
    }
    SinkRecord::Finding(v)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record(decision: Decision, rules: Vec<&'static str>) -> AuditRecord {
        AuditRecord {
            time: "2026-12-01T10:00:00Z".into(),
            request_id: "r-1".into(),
            tenant: "demo".into(),
            model: "m".into(),
            endpoint: "chat",
            decision,
            status: 200,
            rules,
            tokens_reserved: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
            usage_reported: false,
            upstream: None,
            stream: false,
            latency_ms: 1.0,
            message: Some("key AKIAZ3MHQWERTY7UIOPQ seen".into()),
            prompt: Some("the prompt AKIAZ3MHQWERTY7UIOPQ".into()),
        }
    }

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_are_all_written_by_close() {
        let out = Shared::default();
        let sink = JsonLinesSink::writer(Box::new(out.clone()));
        for _ in 0..1000 {
            sink.record(&record(Decision::Allow, vec![]));
        }
        sink.close();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1000);
        for l in text.lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["type"], "decision");
            assert_eq!(v["tenant"], "demo");
        }
        // More records after a close are written too, and a second close waits for them.
        sink.record(&record(Decision::Deny, vec![]));
        sink.close();
        let n = String::from_utf8(out.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .count();
        assert_eq!(n, 1001);
    }

    fn rules_of(recs: &[SinkRecord]) -> Vec<(String, String)> {
        recs.iter()
            .filter_map(|r| match r {
                SinkRecord::Finding(f) => Some((
                    f["rule"].as_str().unwrap().to_owned(),
                    f["severity"].as_str().unwrap().to_owned(),
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn findings_for_refusals_and_detections_only() {
        // A redacted answer is a detection even though it was allowed.
        let r = sink_records(
            &record(Decision::Allow, vec![rules::OUTPUT_REDACTED]),
            false,
        );
        assert_eq!(rules_of(&r), [("PLS-GW-008".into(), "medium".into())]);
        // A stopped answer (canary) is refused: high.
        let r = sink_records(&record(Decision::Deny, vec![rules::OUTPUT_REDACTED]), false);
        assert_eq!(rules_of(&r), [("PLS-GW-008".into(), "high".into())]);
        // Injection in log/flag mode is still a detection.
        let r = sink_records(
            &record(Decision::Allow, vec![rules::INJECTION, "PLS-PI-001"]),
            false,
        );
        assert_eq!(rules_of(&r), [("PLS-GW-007".into(), "high".into())]);
        // A budget refusal is a finding; the same rule on an allowed request is not.
        assert_eq!(
            rules_of(&sink_records(
                &record(Decision::Deny, vec![rules::BUDGET]),
                false
            ))
            .len(),
            1
        );
        assert!(
            rules_of(&sink_records(
                &record(Decision::Allow, vec![rules::BUDGET]),
                false
            ))
            .is_empty()
        );
        // Operational refusals (store down, bad request, upstream) are requests only.
        for rule in [
            rules::STORE_UNAVAILABLE,
            rules::BAD_REQUEST,
            rules::UPSTREAM,
        ] {
            let r = sink_records(&record(Decision::Deny, vec![rule]), false);
            assert_eq!(r.len(), 1);
            assert!(matches!(r[0], SinkRecord::GatewayRequest(_)));
        }
    }

    #[test]
    fn prompts_only_when_logged_and_secrets_masked() {
        let text = |recs: &[SinkRecord]| serde_json::to_string(recs).unwrap();
        let off = text(&sink_records(
            &record(Decision::Deny, vec![rules::INJECTION]),
            false,
        ));
        assert!(
            !off.contains("the prompt") && !off.contains("AKIAZ3MHQWERTY7UIOPQ"),
            "{off}"
        );
        let on = text(&sink_records(
            &record(Decision::Deny, vec![rules::INJECTION]),
            true,
        ));
        assert!(
            on.contains("the prompt [redacted:") && !on.contains("AKIAZ3MHQWERTY7UIOPQ"),
            "{on}"
        );
    }

    #[test]
    fn a_closed_queue_drops_and_counts_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let addr = format!("file:{}", dir.path().join("siem.jsonl").display());
        let s = SiemAuditSink::start(
            Arc::new(NullSink),
            &[addr],
            &dir.path().join("spool"),
            4,
            false,
        )
        .unwrap();
        s.record(&record(Decision::Allow, vec![]));
        s.close();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("siem.jsonl"))
                .unwrap()
                .lines()
                .count(),
            1
        );
        for _ in 0..10 {
            s.record(&record(Decision::Allow, vec![]));
        }
        assert_eq!(s.dropped(), 10);
    }
}
