//! The service: [`app`] builds the router from an [`AppState`]; handlers
//! run the pipeline: authenticate, parse, request filters, reserve, forward
//! with failover, filter the answer as it streams, settle, audit.

use crate::anomaly::AnomalyTracker;
use crate::audit::{AuditRecord, AuditSink, Decision};
use crate::auth::{AuthSetupError, Authenticator};
use crate::config::{GatewayConfig, TenantConfig};
use crate::error::{ApiError, rules};
use crate::hooks::{Chain, ProxyHooks, RequestCtx, TextFilter};
use crate::metrics::Metrics;
use crate::openai::{Endpoint, ParsedRequest, Usage};
use crate::sse::{FilterFactory, StreamProcessor, filter_json_answer};
use crate::store::{Admission, AdmitRequest, Limits, Reservation, Store, now_us};
use crate::upstream::{HealthTask, Pool, Upstream, UpstreamError};
use arc_swap::ArcSwap;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::{any, get, post};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use http_body::Frame;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Largest non-streamed upstream answer the gateway reads to filter it.
const MAX_ANSWER: usize = 32 << 20;

/// The runtime could not be built from a configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Authentication setup (JWKS).
    #[error(transparent)]
    Auth(#[from] AuthSetupError),
    /// Upstream setup (TLS).
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

/// Everything derived from one configuration; replaced whole on reload.
#[derive(Debug)]
pub struct Runtime {
    /// The configuration.
    pub cfg: GatewayConfig,
    /// Credentials to tenants.
    pub auth: Authenticator,
    /// Upstreams.
    pub pool: Pool,
    /// Each tenant's configuration (shared by its requests, never cloned
    /// per request) and limits, by ID.
    tenants: HashMap<String, (Arc<TenantConfig>, Limits)>,
    health: Mutex<Vec<HealthTask>>,
}

impl Runtime {
    /// Builds the runtime (reads the JWKS and CA files; opens no connection).
    pub fn new(cfg: GatewayConfig) -> Result<Runtime, BuildError> {
        let auth = Authenticator::new(&cfg)?;
        let pool = Pool::new(&cfg)?;
        let tenants = cfg
            .tenants
            .iter()
            .map(|t| (t.id.clone(), (Arc::new(t.clone()), Limits::from(t))))
            .collect();
        Ok(Runtime {
            cfg,
            auth,
            pool,
            tenants,
            health: Mutex::new(Vec::new()),
        })
    }

    /// Starts health checks (needs a tokio runtime).
    pub fn start_health_checks(&self) {
        let tasks = self.pool.start_health_checks();
        self.health
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(tasks);
    }

    /// Stops health checks.
    pub fn stop_health_checks(&self) {
        self.health
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

/// State that survives configuration reloads.
#[derive(Debug)]
pub struct Shared {
    /// Budgets and limits.
    pub store: Arc<dyn Store>,
    /// Metrics.
    pub metrics: Metrics,
    /// Audit sink.
    pub audit: Arc<dyn AuditSink>,
    /// Pipeline hooks, in order.
    pub hooks: Vec<Arc<dyn ProxyHooks>>,
    /// Anomaly tracker.
    pub anomaly: AnomalyTracker,
    /// Set when shutting down (`/readyz` turns 503).
    pub draining: AtomicBool,
    ids: AtomicU64,
    nonce: u64,
}

impl std::fmt::Debug for dyn ProxyHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProxyHooks")
    }
}

impl Shared {
    /// Shared state with these parts.
    pub fn new(
        store: Arc<dyn Store>,
        audit: Arc<dyn AuditSink>,
        hooks: Vec<Arc<dyn ProxyHooks>>,
        anomaly: AnomalyTracker,
    ) -> Shared {
        Shared {
            store,
            metrics: Metrics::new(),
            audit,
            hooks,
            anomaly,
            draining: AtomicBool::new(false),
            ids: AtomicU64::new(0),
            nonce: now_us() & 0xffff_ffff,
        }
    }

    fn request_id(&self) -> String {
        format!(
            "{:08x}{:08x}",
            self.nonce,
            self.ids.fetch_add(1, Ordering::Relaxed)
        )
    }
}

struct StateInner {
    runtime: ArcSwap<Runtime>,
    shared: Shared,
}

/// The handlers' state: the current runtime (swappable) and the shared parts.
#[derive(Clone)]
pub struct AppState(Arc<StateInner>);

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    /// State from a runtime and shared parts.
    pub fn new(runtime: Runtime, shared: Shared) -> AppState {
        AppState(Arc::new(StateInner {
            runtime: ArcSwap::from_pointee(runtime),
            shared,
        }))
    }

    /// The current runtime.
    pub fn runtime(&self) -> Arc<Runtime> {
        self.0.runtime.load_full()
    }

    /// The shared parts.
    pub fn shared(&self) -> &Shared {
        &self.0.shared
    }

    /// Replaces the runtime; requests in flight finish on the old one.
    pub fn reload(&self, runtime: Runtime) {
        let old = self.0.runtime.swap(Arc::new(runtime));
        old.stop_health_checks();
    }
}

/// The router.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/authz", any(crate::authz::authz))
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(openai))
        .route("/v1/completions", post(openai))
        .route("/v1/embeddings", post(openai))
        .route("/v1/responses", post(openai))
        .fallback(passthrough)
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(s): State<AppState>) -> Response {
    let rt = s.runtime();
    let sh = s.shared();
    let mut problems = Vec::new();
    if sh.draining.load(Ordering::Relaxed) {
        problems.push("shutting down".to_owned());
    }
    if let Err(e) = sh.store.ping().await {
        problems.push(e.to_string());
    }
    if !rt.pool.upstreams.iter().any(|u| u.is_healthy()) {
        problems.push("no healthy upstream".to_owned());
    }
    let (status, body) = if problems.is_empty() {
        (StatusCode::OK, "ready\n".to_owned())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", problems.join("; ")),
        )
    };
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r
}

async fn metrics(State(s): State<AppState>) -> Response {
    let rt = s.runtime();
    for u in &rt.pool.upstreams {
        s.shared()
            .metrics
            .upstream_healthy
            .get_or_create(&vec![("upstream", u.cfg.name.clone())])
            .set(i64::from(u.is_healthy()));
    }
    let mut r = Response::new(Body::from(s.shared().metrics.render()));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

/// What one request has gathered, for metrics, audit and settlement.
pub(crate) struct Outcome {
    pub(crate) state: AppState,
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) request_id: String,
    pub(crate) started: Instant,
    pub(crate) tenant: String,
    pub(crate) model: String,
    pub(crate) endpoint: &'static str,
    pub(crate) rules: Vec<&'static str>,
    pub(crate) reservation: Option<Reservation>,
    pub(crate) prompt_estimate: u64,
    pub(crate) reserved_tokens: u64,
    pub(crate) stream: bool,
    pub(crate) upstream: Option<String>,
    pub(crate) prompt: Option<String>,
    pub(crate) status: u16,
    pub(crate) done: bool,
    /// The tenant's and model's metric series, once known.
    pub(crate) series: Option<Arc<crate::metrics::ModelSeries>>,
}

impl Outcome {
    pub(crate) fn new(state: &AppState, runtime: Arc<Runtime>, endpoint: &'static str) -> Outcome {
        Outcome {
            request_id: state.shared().request_id(),
            state: state.clone(),
            runtime,
            started: Instant::now(),
            tenant: "-".into(),
            model: "-".into(),
            endpoint,
            rules: Vec::new(),
            reservation: None,
            prompt_estimate: 0,
            reserved_tokens: 0,
            stream: false,
            upstream: None,
            prompt: None,
            status: 0,
            done: false,
            series: None,
        }
    }

    /// A refusal: metrics, audit, and the response.
    pub(crate) fn deny(mut self, e: &ApiError) -> Response {
        self.status = e.status.as_u16();
        if !self.rules.contains(&e.rule) {
            self.rules.push(e.rule);
        }
        let sh = self.state.shared();
        sh.metrics
            .denials
            .get_or_create(&vec![
                ("tenant", self.tenant.clone()),
                ("rule", e.rule.to_owned()),
            ])
            .inc();
        self.finish(Decision::Deny, None, 0, 0, Some(e.message.clone()));
        let mut r = e.response();
        self.add_id(r.headers_mut());
        r
    }

    fn add_id(&self, h: &mut HeaderMap) {
        if let Ok(v) = HeaderValue::from_str(&self.request_id) {
            h.insert("x-request-id", v);
        }
    }

    /// Settles, counts and audits, once.
    pub(crate) fn finish(
        &mut self,
        decision: Decision,
        usage: Option<Usage>,
        counted_completion: u64,
        redactions: usize,
        message: Option<String>,
    ) {
        if self.done {
            return;
        }
        self.done = true;
        let sh = self.state.shared();
        let (used, usage_reported, prompt, completion) = match usage {
            Some(u) => (u.total(), true, u.prompt, u.completion),
            None if decision == Decision::Deny || self.reservation.is_none() => (0, false, 0, 0),
            None => (
                self.prompt_estimate + counted_completion,
                false,
                self.prompt_estimate,
                counted_completion,
            ),
        };
        let now = now_us();
        if let Some(res) = self.reservation.take() {
            let store = Arc::clone(&sh.store);
            let limits = self
                .runtime
                .tenants
                .get(&self.tenant)
                .map(|(_, l)| l.clone())
                .unwrap_or_default();
            let tenant = self.tenant.clone();
            let state = self.state.clone();
            let fut = async move {
                if let Err(e) = store.settle(&tenant, &limits, &res, used, now).await {
                    state.shared().metrics.store_errors.inc();
                    tracing::error!(tenant = %tenant, error = %e, "settlement failed; the reservation expires by itself");
                }
            };
            run_or_spawn(fut);
        }
        let series = self
            .series
            .take()
            .unwrap_or_else(|| sh.metrics.series(&self.tenant, &self.model));
        if used > 0 {
            series.prompt_tokens.inc_by(prompt);
            series.completion_tokens.inc_by(completion);
            if let Some(f) = sh.anomaly.observe(&self.tenant, used, now) {
                sh.metrics
                    .anomalies
                    .get_or_create(&vec![("tenant", self.tenant.clone())])
                    .inc();
                tracing::warn!(tenant = %self.tenant, rule = rules::ANOMALY, "{}", f.message);
                sh.audit.finding(&f);
            }
        }
        if redactions > 0 {
            sh.metrics
                .redactions
                .get_or_create(&vec![("tenant", self.tenant.clone())])
                .inc_by(redactions as u64);
            if !self.rules.contains(&rules::OUTPUT_REDACTED) {
                self.rules.push(rules::OUTPUT_REDACTED);
            }
        }
        let elapsed = self.started.elapsed();
        series.request(&sh.metrics.requests, self.endpoint, self.status);
        sh.metrics
            .endpoint(self.endpoint)
            .0
            .observe(elapsed.as_secs_f64());
        let record = AuditRecord {
            time: palisade_core::clock::now_rfc3339_micros(),
            request_id: self.request_id.clone(),
            tenant: self.tenant.clone(),
            model: self.model.clone(),
            endpoint: self.endpoint,
            decision,
            status: self.status,
            rules: self.rules.clone(),
            tokens_reserved: self.reservation_tokens(),
            prompt_tokens: prompt,
            completion_tokens: completion,
            usage_reported,
            upstream: self.upstream.clone(),
            stream: self.stream,
            latency_ms: elapsed.as_secs_f64() * 1000.0,
            message,
            prompt: self.prompt.take(),
        };
        for h in &sh.hooks {
            h.logging(&record);
        }
        sh.audit.record(&record);
    }

    fn reservation_tokens(&self) -> u64 {
        self.reserved_tokens
    }
}

impl Drop for Outcome {
    fn drop(&mut self) {
        if !self.done {
            self.finish(
                Decision::Error,
                None,
                0,
                0,
                Some("request abandoned".into()),
            );
        }
    }
}

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// Headers sent upstream: the client's, less hop-by-hop ones and the
/// tenant's credential (the upstream never sees the gateway's keys).
fn upstream_headers(h: &HeaderMap, tenant: &str) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(h.len());
    for (k, v) in h {
        let n = k.as_str();
        if HOP_BY_HOP.contains(&n) || n == "authorization" || n == "x-api-key" || n == "cookie" {
            continue;
        }
        out.append(k.clone(), v.clone());
    }
    if let Ok(v) = HeaderValue::from_str(tenant) {
        out.insert(HeaderName::from_static("x-palisade-tenant"), v);
    }
    out
}

fn copy_response_headers(from: &HeaderMap, to: &mut HeaderMap, keep_length: bool) {
    for (k, v) in from {
        let n = k.as_str();
        if HOP_BY_HOP.contains(&n) && !(keep_length && n == "content-length") {
            continue;
        }
        to.append(k.clone(), v.clone());
    }
}

/// Sends a replayable request to the first upstream that answers, failing
/// over on connection errors and 502/503.
pub(crate) async fn forward(
    candidates: &[Arc<Upstream>],
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &Bytes,
    timeout: Duration,
) -> Result<(http::Response<Incoming>, Arc<Upstream>), ApiError> {
    let mut last = ApiError::upstream(StatusCode::BAD_GATEWAY, "no upstream serves this model");
    for (i, u) in candidates.iter().enumerate() {
        let mut req = http::Request::new(Body::from(body.clone()));
        *req.method_mut() = method.clone();
        *req.headers_mut() = headers.clone();
        match u.url(path_and_query).parse() {
            Ok(uri) => *req.uri_mut() = uri,
            Err(_) => continue,
        }
        match tokio::time::timeout(timeout, u.client().request(req)).await {
            Err(_) => {
                u.mark_failed();
                return Err(ApiError::upstream(
                    StatusCode::GATEWAY_TIMEOUT,
                    format!("upstream {} did not answer in time", u.cfg.name),
                ));
            }
            Ok(Err(e)) => {
                u.mark_failed();
                tracing::warn!(upstream = %u.cfg.name, error = %e, "upstream request failed; trying the next");
                last = ApiError::upstream(
                    StatusCode::BAD_GATEWAY,
                    format!("upstream {} is unreachable", u.cfg.name),
                );
            }
            Ok(Ok(resp)) => {
                let s = resp.status();
                if (s == StatusCode::BAD_GATEWAY || s == StatusCode::SERVICE_UNAVAILABLE)
                    && i + 1 < candidates.len()
                {
                    u.mark_failed();
                    tracing::warn!(upstream = %u.cfg.name, status = s.as_u16(), "upstream refused; trying the next");
                    continue;
                }
                u.mark_ok();
                return Ok((resp, Arc::clone(u)));
            }
        }
    }
    Err(last)
}

/// Runs `fut` to its end here if it needs no waiting (the in-memory store
/// settles under a lock), else spawns the rest. A spawn from a handler wakes
/// an idle worker thread: one futex wake and one park per request, most of
/// the cost of a request's settlement at moderate load.
fn run_or_spawn(fut: impl Future<Output = ()> + Send + 'static) {
    let mut fut = Box::pin(fut);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    if fut.as_mut().poll(&mut cx).is_pending() {
        // Polled again by the task, with its own waker.
        if let Ok(h) = tokio::runtime::Handle::try_current() {
            h.spawn(fut);
        }
    }
}

/// Reads a body up to `max` bytes.
pub(crate) async fn read_body(
    body: Body,
    headers: &HeaderMap,
    max: usize,
) -> Result<Bytes, ApiError> {
    let too_large = || ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        ..ApiError::bad_request(format!("the request body is larger than {max} bytes"), None)
    };
    if let Some(len) = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > max as u64
    {
        return Err(too_large());
    }
    match http_body_util::Limited::new(body, max).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(too_large())
            } else {
                Err(ApiError::bad_request(
                    "the request body could not be read",
                    None,
                ))
            }
        }
    }
}

/// The text filters of a tenant, chained, as a factory (one per choice).
fn filter_factory(hooks: &[Arc<dyn ProxyHooks>], tenant: &Arc<TenantConfig>) -> FilterFactory {
    let hooks: Vec<Arc<dyn ProxyHooks>> = hooks.to_vec();
    let tenant = Arc::clone(tenant);
    Box::new(move || {
        let fs: Vec<Box<dyn TextFilter>> = hooks
            .iter()
            .filter_map(|h| h.response_text_filter(&tenant))
            .collect();
        match fs.len() {
            0 => None,
            1 => fs.into_iter().next(),
            _ => Some(Box::new(Chain(fs)) as Box<dyn TextFilter>),
        }
    })
}

/// Authenticates and returns the tenant, or the refusal.
pub(crate) fn authenticate(
    rt: &Runtime,
    headers: &HeaderMap,
    o: &mut Outcome,
) -> Result<Arc<TenantConfig>, ApiError> {
    let id = rt.auth.authenticate(headers)?;
    let t = rt
        .tenants
        .get(&id)
        .map(|(t, _)| Arc::clone(t))
        .ok_or_else(|| ApiError::unauthenticated("the token names an unknown tenant"))?;
    o.tenant.clone_from(&t.id);
    Ok(t)
}

/// Checks the model and runs request filters; returns the parsed request.
pub(crate) fn check_request(
    state: &AppState,
    rt: &Runtime,
    tenant: &TenantConfig,
    endpoint: Endpoint,
    body: &[u8],
    ctx: &mut RequestCtx,
    o: &mut Outcome,
) -> Result<ParsedRequest, ApiError> {
    let req = ParsedRequest::parse(endpoint, body)?;
    if !tenant.models.is_empty() && !tenant.models.iter().any(|m| m.matches(&req.model)) {
        return Err(ApiError::model_not_allowed(&req.model));
    }
    if !rt.pool.serves(&req.model) {
        return Err(ApiError {
            status: StatusCode::NOT_FOUND,
            code: "model_not_found",
            ..ApiError::bad_request(
                format!("the model {:?} does not exist", req.model),
                Some("model"),
            )
        });
    }
    o.model.clone_from(&req.model);
    o.stream = req.stream;
    if rt.cfg.audit_prompts {
        o.prompt = Some(req.prompt_text());
    }
    ctx.tenant.clone_from(&tenant.id);
    ctx.model.clone_from(&req.model);
    for h in &state.shared().hooks {
        let r = h.request_filter(ctx, tenant, &req);
        o.rules.append(&mut ctx.rules);
        r?;
    }
    Ok(req)
}

/// Reserves tokens; the refusal for limits and an unreachable store.
pub(crate) async fn reserve(
    state: &AppState,
    rt: &Runtime,
    tenant: &TenantConfig,
    tokens: u64,
    o: &mut Outcome,
    limits_override: Option<&Limits>,
) -> Result<(), ApiError> {
    let limits = match limits_override {
        Some(l) => l,
        None => rt
            .tenants
            .get(&tenant.id)
            .map(|(_, l)| l)
            .ok_or_else(|| ApiError::unauthenticated("unknown tenant"))?,
    };
    let sh = state.shared();
    let ttl = rt.cfg.request_timeout + rt.cfg.idle_timeout + Duration::from_secs(60);
    let ans = sh
        .store
        .admit(AdmitRequest {
            tenant: &tenant.id,
            limits,
            tokens,
            now_us: now_us(),
            ttl,
        })
        .await;
    match ans {
        Ok(Admission::Admitted(r)) => {
            let series = sh.metrics.series(&o.tenant, &o.model);
            series.reserved.inc_by(r.tokens);
            o.series = Some(series);
            o.reserved_tokens = r.tokens;
            o.reservation = Some(r);
            Ok(())
        }
        Ok(Admission::Denied(d)) => Err(ApiError::limited(d.rule, d.message, d.retry_after)),
        Err(e) => {
            sh.metrics.store_errors.inc();
            if rt.cfg.fail_open {
                tracing::error!(tenant = %tenant.id, error = %e, "budget store unreachable; admitting without accounting (failOpen)");
                o.rules.push(rules::STORE_UNAVAILABLE);
                Ok(())
            } else {
                tracing::error!(tenant = %tenant.id, error = %e, "budget store unreachable; refusing (fail closed)");
                Err(ApiError::store_unavailable())
            }
        }
    }
}

/// The completion tokens a request may produce: its own `max_tokens`, capped by policy.
pub(crate) fn completion_cap(req: &ParsedRequest, tenant: &TenantConfig) -> u64 {
    if req.endpoint == Endpoint::Embeddings {
        return 0;
    }
    req.max_tokens
        .unwrap_or(tenant.max_tokens)
        .min(tenant.max_tokens)
}

#[allow(clippy::single_match_else)]
async fn openai(State(state): State<AppState>, req: Request) -> Response {
    let rt = state.runtime();
    let Some(endpoint) = Endpoint::from_path(req.uri().path()) else {
        return ApiError::bad_request("unknown route", None).response();
    };
    let mut o = Outcome::new(&state, Arc::clone(&rt), endpoint.name());
    let sh = state.shared();
    sh.metrics.inflight.inc();
    let _inflight = InflightGuard(&sh.metrics.inflight);
    let (parts, body) = req.into_parts();
    let tenant = match authenticate(&rt, &parts.headers, &mut o) {
        Ok(t) => t,
        Err(e) => return o.deny(&e),
    };
    let bytes = match read_body(body, &parts.headers, rt.cfg.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return o.deny(&e),
    };
    let mut ctx = RequestCtx::default();
    let mut parsed = match check_request(&state, &rt, &tenant, endpoint, &bytes, &mut ctx, &mut o) {
        Ok(p) => p,
        Err(e) => return o.deny(&e),
    };
    let cap = completion_cap(&parsed, &tenant);
    let prompt = crate::tokens::estimate_prompt(&parsed);
    o.prompt_estimate = prompt;
    let want = prompt.saturating_add(cap.saturating_mul(parsed.n));
    if let Err(e) = reserve(&state, &rt, &tenant, want, &mut o, None).await {
        return o.deny(&e);
    }
    let mut up_body = parsed.take_upstream_body(cap);
    for h in &sh.hooks {
        h.upstream_request_filter(&mut ctx, &tenant, &mut up_body);
    }
    o.rules.append(&mut ctx.rules);
    let body = match serde_json::to_vec(&serde_json::Value::Object(up_body)) {
        Ok(b) => Bytes::from(b),
        Err(_) => {
            return o.deny(&ApiError::bad_request(
                "the request could not be re-encoded",
                None,
            ));
        }
    };
    let mut headers = upstream_headers(&parts.headers, &tenant.id);
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let candidates = rt.pool.candidates(&parsed.model);
    let started = Instant::now();
    let (resp, upstream) = match forward(
        &candidates,
        &Method::POST,
        endpoint.path(),
        &headers,
        &body,
        rt.cfg.request_timeout,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => {
            o.status = e.status.as_u16();
            o.finish(Decision::Error, None, 0, 0, Some(e.message.clone()));
            let mut r = e.response();
            o.add_id(r.headers_mut());
            return r;
        }
    };
    sh.metrics
        .endpoint(endpoint.name())
        .1
        .observe(started.elapsed().as_secs_f64());
    o.upstream = Some(upstream.cfg.name.clone());
    let (up_parts, up_body) = resp.into_parts();
    o.status = up_parts.status.as_u16();
    let factory = filter_factory(&sh.hooks, &tenant);
    let is_sse = up_parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let mut out = Response::new(Body::empty());
    *out.status_mut() = up_parts.status;
    copy_response_headers(&up_parts.headers, out.headers_mut(), false);
    for (k, v) in &ctx.response_headers {
        out.headers_mut().insert(k.clone(), v.clone());
    }
    o.add_id(out.headers_mut());
    if !up_parts.status.is_success() {
        // The upstream refused: pass its error on, charge nothing.
        let b = read_answer(up_body).await.unwrap_or_default();
        o.finish(
            Decision::Error,
            Some(Usage::default()),
            0,
            0,
            Some(format!("upstream answered {}", up_parts.status)),
        );
        *out.body_mut() = Body::from(b);
        return out;
    }
    if is_sse && parsed.stream {
        o.stream = true;
        let proc = StreamProcessor::new(
            endpoint,
            &parsed.model,
            parsed.stream && !parsed.client_wants_usage,
            factory,
        );
        *out.body_mut() = Body::new(SseBody {
            inner: up_body,
            proc,
            outcome: Some(o),
            idle: Box::pin(tokio::time::sleep(rt.cfg.idle_timeout)),
            idle_timeout: rt.cfg.idle_timeout,
            done: false,
        });
        return out;
    }
    let bytes = match read_answer(up_body).await {
        Ok(b) => b,
        Err(e) => {
            o.status = 502;
            o.finish(Decision::Error, None, 0, 0, Some(e.clone()));
            return ApiError::upstream(StatusCode::BAD_GATEWAY, e).response();
        }
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(mut v) => {
            let (usage, n, changed) = filter_json_answer(endpoint, &mut v, &factory);
            let counted = if usage.is_none() {
                count_answer(endpoint, &parsed.model, &v)
            } else {
                0
            };
            o.finish(Decision::Allow, usage, counted, n, None);
            // Nothing redacted: the upstream's own bytes go on (no
            // re-encoding, and the upstream's field order is kept).
            *out.body_mut() = if changed {
                Body::from(v.to_string())
            } else {
                Body::from(bytes)
            };
        }
        Err(_) => {
            o.finish(
                Decision::Allow,
                None,
                cap,
                0,
                Some("upstream answer is not JSON".into()),
            );
            *out.body_mut() = Body::from(bytes);
        }
    }
    out
}

fn count_answer(endpoint: Endpoint, model: &str, v: &serde_json::Value) -> u64 {
    let mut n = 0;
    if let Some(choices) = v.get("choices").and_then(|c| c.as_array()) {
        for c in choices {
            for p in ["/message/content", "/text"] {
                if let Some(s) = c.pointer(p).and_then(|s| s.as_str()) {
                    n += crate::tokens::count(model, s);
                }
            }
        }
    }
    if endpoint == Endpoint::Responses
        && let Some(items) = v.get("output").and_then(|c| c.as_array())
    {
        for it in items {
            for p in it
                .get("content")
                .and_then(|c| c.as_array())
                .into_iter()
                .flatten()
            {
                if let Some(s) = p.get("text").and_then(|s| s.as_str()) {
                    n += crate::tokens::count(model, s);
                }
            }
        }
    }
    n
}

async fn read_answer(b: Incoming) -> Result<Bytes, String> {
    match http_body_util::Limited::new(b, MAX_ANSWER).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) => Err(format!("upstream answer could not be read: {e}")),
    }
}

struct InflightGuard<'a>(&'a prometheus_client::metrics::gauge::Gauge);

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The client's view of a streamed answer: upstream events, filtered as they
/// arrive; settles when the stream ends or the client goes away.
struct SseBody {
    inner: Incoming,
    proc: StreamProcessor,
    outcome: Option<Outcome>,
    idle: Pin<Box<tokio::time::Sleep>>,
    idle_timeout: Duration,
    done: bool,
}

impl SseBody {
    fn settle(&mut self, decision: Decision, message: Option<String>) {
        if let Some(mut o) = self.outcome.take() {
            let usage = self.proc.usage();
            let counted = self.proc.counted_completion();
            let n = self.proc.redactions();
            o.finish(decision, usage, counted, n, message);
        }
    }
}

impl http_body::Body for SseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    let deadline = tokio::time::Instant::now() + this.idle_timeout;
                    this.idle.as_mut().reset(deadline);
                    if let Ok(data) = frame.into_data() {
                        let mut out = this.proc.feed(&data);
                        if this.proc.blocked() {
                            // A canary leaked: the answer stops here.
                            this.done = true;
                            let e = ApiError {
                                status: StatusCode::OK,
                                message: "the answer was stopped: it revealed protected content"
                                    .into(),
                                kind: "server_error",
                                param: None,
                                code: "output_blocked",
                                retry_after: None,
                                rule: rules::OUTPUT_REDACTED,
                            };
                            out.extend_from_slice(
                                format!("data: {}\n\ndata: [DONE]\n\n", e.body()).as_bytes(),
                            );
                            this.settle(
                                Decision::Deny,
                                Some("answer stopped by the output filter".into()),
                            );
                            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                        }
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                        }
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    this.settle(
                        Decision::Error,
                        Some(format!("upstream stream failed: {e}")),
                    );
                    return Poll::Ready(Some(Err(Box::new(e))));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    let out = this.proc.end();
                    this.settle(Decision::Allow, None);
                    if out.is_empty() {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                }
                Poll::Pending => {
                    if this.idle.as_mut().poll(cx).is_ready() {
                        this.done = true;
                        this.settle(Decision::Error, Some("upstream stream idle timeout".into()));
                        return Poll::Ready(Some(Err("upstream stream idle timeout".into())));
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

impl Drop for SseBody {
    fn drop(&mut self) {
        if self.outcome.is_some() {
            self.settle(
                Decision::Error,
                Some("client disconnected during the stream".into()),
            );
        }
    }
}

async fn models(State(state): State<AppState>, req: Request) -> Response {
    let rt = state.runtime();
    let mut o = Outcome::new(&state, Arc::clone(&rt), "models");
    let tenant = match authenticate(&rt, req.headers(), &mut o) {
        Ok(t) => t,
        Err(e) => return o.deny(&e),
    };
    let headers = upstream_headers(req.headers(), &tenant.id);
    let mut seen = std::collections::BTreeMap::new();
    let mut reached = false;
    for u in rt.pool.upstreams.iter().filter(|u| u.is_healthy()) {
        let Ok(Ok((resp, _))) = tokio::time::timeout(
            Duration::from_secs(5),
            forward(
                std::slice::from_ref(u),
                &Method::GET,
                "/v1/models",
                &headers,
                &Bytes::new(),
                Duration::from_secs(5),
            ),
        )
        .await
        else {
            continue;
        };
        let Ok(b) = read_answer(resp.into_body()).await else {
            continue;
        };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&b) else {
            continue;
        };
        reached = true;
        for m in v
            .get("data")
            .and_then(|d| d.as_array())
            .into_iter()
            .flatten()
        {
            let Some(id) = m.get("id").and_then(|i| i.as_str()) else {
                continue;
            };
            let served = u.cfg.models.iter().any(|p| p.matches(id));
            let allowed = tenant.models.is_empty() || tenant.models.iter().any(|p| p.matches(id));
            if served && allowed {
                seen.entry(id.to_owned()).or_insert_with(|| m.clone());
            }
        }
    }
    if !reached {
        o.status = 502;
        o.finish(
            Decision::Error,
            None,
            0,
            0,
            Some("no upstream listed its models".into()),
        );
        return ApiError::upstream(StatusCode::BAD_GATEWAY, "no upstream listed its models")
            .response();
    }
    o.status = 200;
    o.finish(Decision::Allow, None, 0, 0, None);
    let body =
        serde_json::json!({"object": "list", "data": seen.into_values().collect::<Vec<_>>()});
    let mut r = Response::new(Body::from(body.to_string()));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    o.add_id(r.headers_mut());
    r
}

#[allow(clippy::many_single_char_names)]
async fn passthrough(State(state): State<AppState>, req: Request) -> Response {
    let rt = state.runtime();
    let mut o = Outcome::new(&state, Arc::clone(&rt), "passthrough");
    let path = req.uri().path().to_owned();
    let Some(route) = rt
        .cfg
        .routes
        .iter()
        .filter(|r| path.starts_with(&r.prefix))
        .max_by_key(|r| r.prefix.len())
        .cloned()
    else {
        let e = ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            ..ApiError::bad_request(format!("no route for {path}"), None)
        };
        return o.deny(&e);
    };
    let tenant = if route.auth {
        match authenticate(&rt, req.headers(), &mut o) {
            Ok(t) => t.id.clone(),
            Err(e) => return o.deny(&e),
        }
    } else {
        "-".to_owned()
    };
    let Some(u) = rt.pool.by_name(&route.upstream).cloned() else {
        return o.deny(&ApiError::upstream(
            StatusCode::BAD_GATEWAY,
            "route names no upstream",
        ));
    };
    let pq = req
        .uri()
        .path_and_query()
        .map_or_else(|| path.clone(), |p| p.as_str().to_owned());
    let (parts, body) = req.into_parts();
    let mut up = http::Request::new(Body::new(http_body_util::Limited::new(
        body,
        rt.cfg.max_body_bytes,
    )));
    *up.method_mut() = parts.method.clone();
    *up.headers_mut() = upstream_headers(&parts.headers, &tenant);
    if let Some(l) = parts.headers.get(http::header::CONTENT_LENGTH) {
        up.headers_mut()
            .insert(http::header::CONTENT_LENGTH, l.clone());
    }
    match u.url(&pq).parse() {
        Ok(uri) => *up.uri_mut() = uri,
        Err(_) => return o.deny(&ApiError::bad_request("invalid path", None)),
    }
    o.upstream = Some(u.cfg.name.clone());
    match tokio::time::timeout(rt.cfg.request_timeout, u.client().request(up)).await {
        Ok(Ok(resp)) => {
            u.mark_ok();
            let (p, b) = resp.into_parts();
            o.status = p.status.as_u16();
            o.finish(Decision::Allow, None, 0, 0, None);
            let mut r = Response::new(Body::new(b));
            *r.status_mut() = p.status;
            copy_response_headers(&p.headers, r.headers_mut(), true);
            o.add_id(r.headers_mut());
            r
        }
        Ok(Err(e)) => {
            u.mark_failed();
            let e = ApiError::upstream(
                StatusCode::BAD_GATEWAY,
                format!("upstream {} failed: {e}", u.cfg.name),
            );
            o.status = 502;
            o.finish(Decision::Error, None, 0, 0, Some(e.message.clone()));
            e.response()
        }
        Err(_) => {
            let e = ApiError::upstream(
                StatusCode::GATEWAY_TIMEOUT,
                format!("upstream {} did not answer in time", u.cfg.name),
            );
            o.status = 504;
            o.finish(Decision::Error, None, 0, 0, Some(e.message.clone()));
            e.response()
        }
    }
}
