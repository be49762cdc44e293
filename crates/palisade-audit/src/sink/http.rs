//! HTTP sinks: Splunk HEC and a generic webhook, over rustls (ring).

use super::{Delivery, PayloadFormat, SiemSink, SinkError, SinkRecord, payload};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// A blocking HTTP(S) client: hyper's client on a private current-thread
/// runtime (the delivery thread is synchronous), TLS by rustls with ring.
/// The runtime is made on the first request, on the delivery thread: a sink
/// built and dropped to check an address (configuration load, possibly in
/// an async context) never makes or drops one.
pub(crate) struct Client {
    rt: std::sync::OnceLock<tokio::runtime::Runtime>,
    client: hyper_util::client::legacy::Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        http_body_util::Full<hyper::body::Bytes>,
    >,
}

/// Refuses `user:password@` in a URL: it would not be sent (tokens come
/// from `token-env`) and would show in messages and metrics.
fn no_userinfo(url: &str) -> Result<(), SinkError> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(SinkError::Config(
            "credentials in the URL are not supported (and would be logged): use token-env=VAR"
                .into(),
        ));
    }
    Ok(())
}

fn client(ca: Option<&std::path::Path>) -> Result<Client, SinkError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SinkError::Config(e.to_string()))?
        .with_root_certificates(super::roots(ca)?)
        .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(cfg)
        .https_or_http()
        .enable_http1()
        .build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(https);
    Ok(Client {
        rt: std::sync::OnceLock::new(),
        client,
    })
}

impl Client {
    fn runtime(&self) -> Result<&tokio::runtime::Runtime, SinkError> {
        if let Some(rt) = self.rt.get() {
            return Ok(rt);
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SinkError::Transport(e.to_string()))?;
        Ok(self.rt.get_or_init(|| rt))
    }
}

fn post(c: &Client, url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Result<(), SinkError> {
    let t = |e: String| SinkError::Transport(format!("{url}: {e}"));
    let mut req = hyper::Request::post(url).header("Content-Type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let req = req
        .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))
        .map_err(|e| t(e.to_string()))?;
    c.runtime()?.block_on(async {
        let resp = tokio::time::timeout(Duration::from_secs(15), c.client.request(req))
            .await
            .map_err(|_| t("timed out".into()))?
            .map_err(|e| t(e.to_string()))?;
        let status = resp.status();
        let _ = http_body_util::BodyExt::collect(resp.into_body()).await;
        if status.is_success() {
            Ok(())
        } else {
            Err(t(format!("HTTP {status}")))
        }
    })
}

/// Splunk HTTP Event Collector.
pub struct HecSink {
    url: String,
    token: String,
    index: Option<String>,
    format: PayloadFormat,
    agent: Client,
}

impl std::fmt::Debug for HecSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl HecSink {
    /// HEC at `base` (`https://splunk:8088`), authenticated with `token`.
    pub fn new(
        base: &str,
        token: String,
        index: Option<&str>,
        format: PayloadFormat,
        ca: Option<&std::path::Path>,
    ) -> Result<HecSink, SinkError> {
        no_userinfo(base)?;
        Ok(HecSink {
            url: format!("{}/services/collector/event", base.trim_end_matches('/')),
            token,
            index: index.map(ToOwned::to_owned),
            format,
            agent: client(ca)?,
        })
    }
}

impl SiemSink for HecSink {
    fn describe(&self) -> String {
        format!("splunk-hec {}", self.url)
    }
    fn send(&mut self, batch: &[Delivery<'_>]) -> Result<(), SinkError> {
        // HEC takes several event objects concatenated in one body.
        let mut body = Vec::new();
        for d in batch {
            let (sourcetype, time) = match d.record {
                SinkRecord::Finding(f) => (
                    "palisade:finding",
                    f.pointer("/event/time")
                        .or_else(|| f.pointer("/request/time")),
                ),
                SinkRecord::AuditEvent(e) => ("palisade:k8s-audit", e.get("time")),
                SinkRecord::GatewayRequest(r) => ("palisade:gateway", r.get("time")),
            };
            #[allow(clippy::cast_precision_loss)]
            let secs = super::millis(time.and_then(Value::as_str)) as f64 / 1000.0;
            let mut ev = json!({
                "time": secs,
                "host": "palisade",
                "source": "palisade",
                "sourcetype": sourcetype,
                "event": payload(d, self.format),
                "fields": { "delivery_id": d.id },
            });
            if let Some(i) = &self.index {
                ev["index"] = json!(i);
            }
            serde_json::to_writer(&mut body, &ev)
                .map_err(|e| SinkError::Transport(e.to_string()))?;
        }
        let key = format!(
            "{}..{}",
            batch.first().map_or("", |d| d.id),
            batch.last().map_or("", |d| d.id)
        );
        post(
            &self.agent,
            &self.url,
            &[
                ("Authorization", format!("Splunk {}", self.token)),
                ("X-Palisade-Idempotency-Key", key),
            ],
            body,
        )
    }
}

/// A generic HTTPS webhook: POSTs `{"deliveries": [{"id", "type", "data"}]}`.
pub struct WebhookSink {
    url: String,
    format: PayloadFormat,
    token: Option<String>,
    agent: Client,
}

impl std::fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl WebhookSink {
    /// A webhook at `url`; `token` is sent as a bearer token.
    pub fn new(
        url: &str,
        format: PayloadFormat,
        token: Option<String>,
        ca: Option<&std::path::Path>,
    ) -> Result<WebhookSink, SinkError> {
        no_userinfo(url)?;
        Ok(WebhookSink {
            url: url.to_owned(),
            format,
            token,
            agent: client(ca)?,
        })
    }
}

impl SiemSink for WebhookSink {
    fn describe(&self) -> String {
        format!("webhook {}", self.url)
    }
    fn send(&mut self, batch: &[Delivery<'_>]) -> Result<(), SinkError> {
        let items: Vec<Value> = batch
            .iter()
            .map(|d| {
                let kind = d.record.kind();
                json!({ "id": d.id, "type": kind, "data": payload(d, self.format) })
            })
            .collect();
        let body = serde_json::to_vec(&json!({ "deliveries": items }))
            .map_err(|e| SinkError::Transport(e.to_string()))?;
        let key = format!(
            "{}..{}",
            batch.first().map_or("", |d| d.id),
            batch.last().map_or("", |d| d.id)
        );
        let mut headers = vec![("Idempotency-Key", key)];
        if let Some(t) = &self.token {
            headers.push(("Authorization", format!("Bearer {t}")));
        }
        post(&self.agent, &self.url, &headers, body)
    }
}
