//! SIEM export: findings and raw audit events delivered at least once to
//! a JSON-lines file, syslog (RFC 5424 over TCP or TLS, octet-counting
//! framing of RFC 6587/5425, CEF payloads), Splunk HEC or an HTTPS webhook,
//! as Palisade JSON or OCSF (Detection Finding 2004, API Activity 6003).
//!
//! Delivery goes through a disk-backed spool: [`Forwarder::send`] returns
//! once the record is synced into the spool (a tamper-evident log of this
//! crate); a delivery thread sends the spool in order, batch by batch, and
//! moves its cursor (a synced file) only after the destination accepted a
//! batch. A batch that fails is retried, with backoff, until it goes
//! through: nothing is lost or reordered, and a record may arrive twice
//! after a crash or a failure the destination did not report (at least
//! once). Every record carries an idempotency key, `<spool id>:<index>`,
//! stable across retries and restarts, so the destination can drop repeats.
//!
//! A sink can also be a tamper-evident log of this crate (`tlog:DIR`,
//! [`TlogSink`]): records are appended with the log's own group-committing
//! writer and a batch counts as delivered only once it is on disk.

mod cef;
mod forward;
mod http;
pub mod ocsf;
mod syslog;
mod tlog;

pub use forward::{Forwarder, ForwarderOptions};
pub use http::{HecSink, WebhookSink};
pub use syslog::SyslogSink;
pub use tlog::TlogSink;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::Write as _;
use std::path::PathBuf;

/// What travels to the SIEM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "kebab-case")]
pub enum SinkRecord {
    /// A finding (the shared `Finding` JSON; audit findings with their `event`).
    Finding(Value),
    /// A raw Kubernetes audit event, summarised ([`crate::detect::EventInfo`] JSON).
    AuditEvent(Value),
    /// One decision of the inference gateway (its audit record JSON:
    /// `request_id`, `tenant`, `model`, `endpoint`, `decision`, `status`,
    /// `rules`, token counts, `message`, and `prompt` only when the gateway
    /// logs prompts). OCSF: API Activity (6003).
    GatewayRequest(Value),
}

impl SinkRecord {
    /// The record's kind as written in `recordType` / webhook `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            SinkRecord::Finding(_) => "finding",
            SinkRecord::AuditEvent(_) => "audit-event",
            SinkRecord::GatewayRequest(_) => "gateway-request",
        }
    }
}

/// One record with its idempotency key.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// `<spool id>:<index>`: the same for every attempt.
    pub id: &'a str,
    /// The record.
    pub record: &'a SinkRecord,
}

/// Why a batch was not delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The destination could not be reached or refused the batch (retried).
    #[error("{0}")]
    Transport(String),
    /// The sink is misconfigured (not retried by the caller's logic either way).
    #[error("sink configuration: {0}")]
    Config(String),
    /// The spool failed.
    #[error("spool: {0}")]
    Spool(#[from] crate::log::Error),
}

/// A SIEM destination. `send` must deliver the whole batch, in order, or fail.
pub trait SiemSink: Send {
    /// A short description for messages (`syslog+tls://siem:6514`).
    fn describe(&self) -> String;
    /// Delivers a batch.
    fn send(&mut self, batch: &[Delivery<'_>]) -> Result<(), SinkError>;
}

/// Payload format for the JSON sinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadFormat {
    /// Palisade's own JSON (findings in the shared schema), with `deliveryId`.
    Native,
    /// OCSF 1.3: Detection Finding (2004) or API Activity (6003), `metadata.uid` = key.
    Ocsf,
}

/// The JSON document a JSON sink sends for a delivery.
pub fn payload(d: &Delivery<'_>, format: PayloadFormat) -> Value {
    match format {
        PayloadFormat::Ocsf => match d.record {
            SinkRecord::Finding(f) => ocsf::detection_finding(f, d.id),
            SinkRecord::AuditEvent(e) => ocsf::api_activity(e, d.id),
            SinkRecord::GatewayRequest(r) => ocsf::gateway_activity(r, d.id),
        },
        PayloadFormat::Native => {
            let kind = d.record.kind();
            let (SinkRecord::Finding(data)
            | SinkRecord::AuditEvent(data)
            | SinkRecord::GatewayRequest(data)) = d.record;
            let mut v = data.clone();
            if let Value::Object(m) = &mut v {
                m.insert("deliveryId".into(), Value::String(d.id.to_owned()));
                m.insert("recordType".into(), Value::String(kind.into()));
            }
            v
        }
    }
}

/// Appends JSON lines to a file, synced per batch.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    format: PayloadFormat,
}

impl FileSink {
    /// A file sink.
    pub fn new(path: PathBuf, format: PayloadFormat) -> FileSink {
        FileSink { path, format }
    }
}

impl SiemSink for FileSink {
    fn describe(&self) -> String {
        format!("file:{}", self.path.display())
    }
    fn send(&mut self, batch: &[Delivery<'_>]) -> Result<(), SinkError> {
        let mut buf = Vec::new();
        for d in batch {
            serde_json::to_writer(&mut buf, &payload(d, self.format))
                .map_err(|e| SinkError::Transport(e.to_string()))?;
            buf.push(b'\n');
        }
        let err = |e: std::io::Error| SinkError::Transport(format!("{}: {e}", self.path.display()));
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(err)?;
        f.write_all(&buf).map_err(err)?;
        f.sync_data().map_err(err)
    }
}

/// Parses a sink address:
///
/// | address | sink |
/// |---|---|
/// | `file:PATH[?format=ocsf]` | JSON lines appended to PATH |
/// | `syslog+tcp://HOST:PORT` | RFC 5424 + CEF over TCP (RFC 6587 octet counting) |
/// | `syslog+tls://HOST:PORT[?ca=FILE&sni=NAME]` | the same over TLS (RFC 5425) |
/// | `splunk-hec+https://HOST:PORT[?token-env=VAR&ca=FILE&index=I&format=ocsf]` | Splunk HTTP Event Collector (`/services/collector/event`); token from `$VAR` (default `SPLUNK_HEC_TOKEN`) |
/// | `webhook+https://HOST[:PORT]/PATH[?ca=FILE&format=ocsf&token-env=VAR]` | JSON POSTs with an `Idempotency-Key` header |
/// | `tlog:DIR[?format=ocsf]` | appended to the tamper-evident log in DIR (the `palisade audit` format), acknowledged after the group commit |
///
/// `http` instead of `https` is accepted for local receivers. Tokens are
/// read from the process environment.
pub fn open(address: &str) -> Result<Box<dyn SiemSink>, SinkError> {
    open_with(address, &|k| std::env::var(k).ok())
}

/// Checks an address without keeping the sink (configuration validation):
/// the same errors as [`open`], with tokens looked up by `env`.
pub fn check(address: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<(), SinkError> {
    open_with(address, env).map(drop)
}

/// The spool folder of one destination under `base`: named by a hash of
/// its address, so each sink keeps its own spool and cursor across runs.
pub fn spool_dir(base: &std::path::Path, address: &str) -> PathBuf {
    let name = palisade_core::finding::fingerprint(
        "sink",
        &palisade_core::ResourceRef::default(),
        address,
        "",
    );
    base.join(&name[..16])
}

/// [`open`], with environment variables (tokens) looked up by `env`.
pub fn open_with(
    address: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Box<dyn SiemSink>, SinkError> {
    let (base, query) = address.split_once('?').unwrap_or((address, ""));
    let params: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    let param = |k: &str| params.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    for (k, _) in &params {
        if !matches!(*k, "format" | "ca" | "sni" | "token-env" | "index") {
            return Err(SinkError::Config(format!(
                "unknown parameter {k:?} in {address:?}"
            )));
        }
    }
    let format = match param("format") {
        None | Some("json" | "native") => PayloadFormat::Native,
        Some("ocsf") => PayloadFormat::Ocsf,
        Some(f) => {
            return Err(SinkError::Config(format!(
                "unknown format {f:?} (json or ocsf)"
            )));
        }
    };
    let ca = param("ca").map(PathBuf::from);
    if let Some(path) = base.strip_prefix("file:") {
        if path.is_empty() {
            return Err(SinkError::Config("file: needs a path".into()));
        }
        return Ok(Box::new(FileSink::new(PathBuf::from(path), format)));
    }
    if let Some(path) = base.strip_prefix("tlog:") {
        if path.is_empty() {
            return Err(SinkError::Config("tlog: needs a folder".into()));
        }
        if ca.is_some()
            || param("sni").is_some()
            || param("token-env").is_some()
            || param("index").is_some()
        {
            return Err(SinkError::Config(format!(
                "{address:?}: tlog: takes only ?format="
            )));
        }
        return Ok(Box::new(TlogSink::new(PathBuf::from(path), format)));
    }
    let (scheme, rest) = base.split_once("://").ok_or_else(|| {
        SinkError::Config(format!("{address:?} is not a sink address (see --help)"))
    })?;
    match scheme {
        "syslog+tcp" => Ok(Box::new(SyslogSink::tcp(rest)?)),
        "syslog+tls" => Ok(Box::new(SyslogSink::tls(
            rest,
            ca.as_deref(),
            param("sni"),
        )?)),
        "splunk-hec+https" | "splunk-hec+http" => {
            let var = param("token-env").unwrap_or("SPLUNK_HEC_TOKEN");
            let token = env(var).ok_or_else(|| {
                SinkError::Config(format!(
                    "the Splunk HEC token is read from ${var}, which is not set"
                ))
            })?;
            let url = format!("{}://{rest}", &scheme["splunk-hec+".len()..]);
            Ok(Box::new(HecSink::new(
                &url,
                token,
                param("index"),
                format,
                ca.as_deref(),
            )?))
        }
        "webhook+https" | "webhook+http" => {
            let url = format!("{}://{rest}", &scheme["webhook+".len()..]);
            let token = match param("token-env") {
                Some(var) => {
                    Some(env(var).ok_or_else(|| SinkError::Config(format!("${var} is not set")))?)
                }
                None => None,
            };
            Ok(Box::new(WebhookSink::new(
                &url,
                format,
                token,
                ca.as_deref(),
            )?))
        }
        s => Err(SinkError::Config(format!(
            "unknown sink scheme {s:?} (file:, tlog:, syslog+tcp, syslog+tls, splunk-hec+https, webhook+https)"
        ))),
    }
}

/// Reads PEM certificates for a client trust store.
pub(crate) fn roots(ca: Option<&std::path::Path>) -> Result<rustls::RootCertStore, SinkError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(path) => {
            for c in
                crate::webhook::tls::certs(path).map_err(|e| SinkError::Config(e.to_string()))?
            {
                roots
                    .add(c)
                    .map_err(|e| SinkError::Config(format!("{}: {e}", path.display())))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    Ok(roots)
}

/// Milliseconds since the epoch of an RFC 3339 time, else now.
pub(crate) fn millis(time: Option<&str>) -> i64 {
    time.and_then(crate::k8s::parse_timestamp).map_or_else(
        || {
            i64::try_from(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_millis(),
            )
            .unwrap_or(0)
        },
        |us| us / 1000,
    )
}
