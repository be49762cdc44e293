//! Prometheus metrics (`/metrics`): requests, tokens and reservations per
//! tenant and model, denials by rule, latency histograms, upstream health.
//! Labels only ever carry configured names (tenants, models a tenant may
//! use, upstreams), never client-chosen strings, so cardinality is bounded.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A label set.
pub type Labels = Vec<(&'static str, String)>;

/// The series one tenant and model touch on every request, found once in
/// their families and kept: a request then costs an atomic add per
/// counter instead of a label vector built, hashed and looked up each time
/// (6 lookups, about 7,000 instructions a request before).
#[derive(Debug)]
pub struct ModelSeries {
    /// `tokens{kind="prompt"}`.
    pub prompt_tokens: Counter,
    /// `tokens{kind="completion"}`.
    pub completion_tokens: Counter,
    /// `reserved_tokens`.
    pub reserved: Counter,
    labels: Labels,
    /// `requests` by endpoint and status (a handful each).
    requests: RwLock<Vec<(&'static str, u16, Counter)>>,
}

impl ModelSeries {
    /// Counts one request that ended with `status`.
    pub fn request(&self, family: &Family<Labels, Counter>, endpoint: &'static str, status: u16) {
        if let Some((_, _, c)) = read(&self.requests)
            .iter()
            .find(|(e, s, _)| *e == endpoint && *s == status)
        {
            c.inc();
            return;
        }
        let mut l = self.labels.clone();
        l.push(("endpoint", endpoint.to_owned()));
        l.push(("status", status.to_string()));
        let c = family.get_or_create(&l).clone();
        c.inc();
        let mut w = write(&self.requests);
        if !w.iter().any(|(e, s, _)| *e == endpoint && *s == status) {
            w.push((endpoint, status, c));
        }
    }
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn latency_histogram() -> Histogram {
    // 100 µs to ~3.3 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

/// The gateway's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Requests by tenant, model, endpoint, status.
    pub requests: Family<Labels, Counter>,
    /// Tokens used by tenant, model, kind (prompt, completion).
    pub tokens: Family<Labels, Counter>,
    /// Tokens reserved by tenant, model.
    pub reserved: Family<Labels, Counter>,
    /// Denials by tenant and rule.
    pub denials: Family<Labels, Counter>,
    /// Time to response headers, by endpoint.
    pub latency: Family<Labels, Histogram, fn() -> Histogram>,
    /// Whole-request duration including streaming, by endpoint.
    pub duration: Family<Labels, Histogram, fn() -> Histogram>,
    /// Upstream health (1 healthy, 0 not).
    pub upstream_healthy: Family<Labels, Gauge>,
    /// Requests in flight.
    pub inflight: Gauge,
    /// Budget store errors.
    pub store_errors: Counter,
    /// Output redactions by tenant.
    pub redactions: Family<Labels, Counter>,
    /// Token-rate anomalies by tenant.
    pub anomalies: Family<Labels, Counter>,
    /// Audit records not handed to the SIEM sinks (queue full).
    pub audit_sink_dropped: Counter,
    /// Records synced into a SIEM sink's spool, by sink.
    pub audit_sink_spooled: Family<Labels, Counter>,
    /// Records a SIEM sink's spool could not take, by sink.
    pub audit_sink_spool_errors: Family<Labels, Counter>,
    /// Failed delivery attempts (retried), by sink.
    pub audit_sink_delivery_failures: Family<Labels, Counter>,
    /// Records spooled and not yet delivered, by sink.
    pub audit_sink_backlog: Family<Labels, Gauge>,
    /// Series by tenant, then model.
    series: RwLock<HashMap<String, HashMap<String, Arc<ModelSeries>>>>,
    /// `request_duration_seconds` and `response_latency_seconds` by endpoint.
    by_endpoint: RwLock<Vec<(&'static str, Histogram, Histogram)>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("palisade_gateway");
        let m = Metrics {
            requests: Family::default(),
            tokens: Family::default(),
            reserved: Family::default(),
            denials: Family::default(),
            latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            duration: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            upstream_healthy: Family::default(),
            inflight: Gauge::default(),
            store_errors: Counter::default(),
            redactions: Family::default(),
            anomalies: Family::default(),
            audit_sink_dropped: Counter::default(),
            audit_sink_spooled: Family::default(),
            audit_sink_spool_errors: Family::default(),
            audit_sink_delivery_failures: Family::default(),
            audit_sink_backlog: Family::default(),
            series: RwLock::default(),
            by_endpoint: RwLock::default(),
            registry: Registry::default(),
        };
        registry.register("requests", "Requests handled", m.requests.clone());
        registry.register("tokens", "Tokens used (settled)", m.tokens.clone());
        registry.register(
            "reserved_tokens",
            "Tokens reserved before forwarding",
            m.reserved.clone(),
        );
        registry.register("denials", "Requests refused, by rule", m.denials.clone());
        registry.register(
            "response_latency_seconds",
            "Time to response headers",
            m.latency.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Whole request including the stream",
            m.duration.clone(),
        );
        registry.register(
            "upstream_healthy",
            "Upstream health",
            m.upstream_healthy.clone(),
        );
        registry.register(
            "inflight_requests",
            "Requests in flight",
            m.inflight.clone(),
        );
        registry.register(
            "store_errors",
            "Budget store errors",
            m.store_errors.clone(),
        );
        registry.register(
            "redactions",
            "Secrets and PII redacted from output",
            m.redactions.clone(),
        );
        registry.register("anomalies", "Token-rate anomalies", m.anomalies.clone());
        registry.register(
            "audit_sink_dropped",
            "Audit records not handed to the SIEM sinks because their queue was full",
            m.audit_sink_dropped.clone(),
        );
        registry.register(
            "audit_sink_spooled",
            "Records synced into a SIEM sink's spool",
            m.audit_sink_spooled.clone(),
        );
        registry.register(
            "audit_sink_spool_errors",
            "Records a SIEM sink's spool could not take",
            m.audit_sink_spool_errors.clone(),
        );
        registry.register(
            "audit_sink_delivery_failures",
            "Failed SIEM delivery attempts (retried)",
            m.audit_sink_delivery_failures.clone(),
        );
        registry.register(
            "audit_sink_backlog",
            "Records spooled and not yet delivered",
            m.audit_sink_backlog.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The series of `tenant` and `model` (created on first use).
    pub fn series(&self, tenant: &str, model: &str) -> Arc<ModelSeries> {
        if let Some(s) = read(&self.series).get(tenant).and_then(|m| m.get(model)) {
            return Arc::clone(s);
        }
        let labels: Labels = vec![("tenant", tenant.to_owned()), ("model", model.to_owned())];
        let with_kind = |kind: &str| {
            let mut l = labels.clone();
            l.push(("kind", kind.to_owned()));
            self.tokens.get_or_create(&l).clone()
        };
        let s = Arc::new(ModelSeries {
            prompt_tokens: with_kind("prompt"),
            completion_tokens: with_kind("completion"),
            reserved: self.reserved.get_or_create(&labels).clone(),
            labels,
            requests: RwLock::default(),
        });
        Arc::clone(
            write(&self.series)
                .entry(tenant.to_owned())
                .or_default()
                .entry(model.to_owned())
                .or_insert(s),
        )
    }

    /// `(request_duration_seconds, response_latency_seconds)` of an endpoint.
    pub fn endpoint(&self, endpoint: &'static str) -> (Histogram, Histogram) {
        if let Some((_, d, l)) = read(&self.by_endpoint)
            .iter()
            .find(|(e, _, _)| *e == endpoint)
        {
            return (d.clone(), l.clone());
        }
        let label = vec![("endpoint", endpoint.to_owned())];
        let d = self.duration.get_or_create(&label).clone();
        let l = self.latency.get_or_create(&label).clone();
        let mut w = write(&self.by_endpoint);
        if !w.iter().any(|(e, _, _)| *e == endpoint) {
            w.push((endpoint, d.clone(), l.clone()));
        }
        (d, l)
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = encode(&mut s, &self.registry);
        s
    }
}
