//! `gateway.yaml`, read in two steps (the `palisade.yaml` pattern): parsed
//! with positions by `palisade_core::yaml`, then validated into types that
//! cannot be wrong. Every mistake names its line and column.
//!
//! Secrets never live in the file: API keys are given as SHA-256 hashes, or
//! as the name of an environment variable or a file holding the key, which
//! is hashed on load and never kept in clear.
//!
//! ```yaml
//! listen: 127.0.0.1:8080
//! upstreams:
//!   - name: local
//!     url: http://127.0.0.1:8000
//!     models: ["*"]
//!     health: {path: /health, interval: 5s}
//! tenants:
//!   - id: demo
//!     apiKeys: [{env: PALISADE_DEMO_KEY}]
//!     budgets: [{window: day, tokens: 20000}]
//!     guard: {injection: block, output: redact}
//! ```

use palisade_core::node::{Entry, Node, Pos, Value};
use palisade_core::yaml;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A mistake in the gateway configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{col}: {message}")]
#[non_exhaustive]
pub struct ConfigError {
    /// The configuration file.
    pub file: String,
    /// 1-based line (0 when the whole file is meant).
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// What is wrong.
    pub message: String,
}

/// A model name pattern: `*` matches any run of characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPattern(pub String);

impl ModelPattern {
    /// Whether `model` matches.
    pub fn matches(&self, model: &str) -> bool {
        wildcard(self.0.as_bytes(), model.as_bytes())
    }
}

fn wildcard(p: &[u8], s: &[u8]) -> bool {
    // Iterative glob with `*` only; linear backtracking.
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && p[pi] != b'*' && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// Active health checking of an upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// Path probed with GET; a 2xx answer is healthy.
    pub path: String,
    /// Time between probes.
    pub interval: Duration,
    /// Probe timeout.
    pub timeout: Duration,
    /// Consecutive failures before the upstream is taken out.
    pub unhealthy_after: u32,
}

/// One upstream inference server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamConfig {
    /// Name, used by routes and metrics.
    pub name: String,
    /// Base URL (`http://` or `https://`), without trailing slash.
    pub url: String,
    /// Models this upstream serves.
    pub models: Vec<ModelPattern>,
    /// Health check, if any.
    pub health: Option<HealthCheck>,
    /// PEM file of CA certificates to trust for `https` (default: the Mozilla roots).
    pub ca_file: Option<PathBuf>,
    /// Lower is preferred; upstreams of equal priority share load round-robin.
    pub priority: u32,
}

/// A path passed through to an upstream without OpenAI parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteConfig {
    /// Path prefix, e.g. `/v2/`.
    pub prefix: String,
    /// The upstream that serves it.
    pub upstream: String,
    /// Whether a tenant credential is required.
    pub auth: bool,
}

/// How a budget window is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WindowKind {
    /// Aligned to UTC calendar boundaries (the minute, hour, day, month).
    Calendar,
    /// The trailing window ending now, kept in twelve buckets.
    Rolling,
}

/// The length of a budget window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    /// A minute.
    Minute,
    /// An hour.
    Hour,
    /// A day.
    Day,
    /// A month (calendar) or 30 days (rolling).
    Month,
}

impl Window {
    /// The name as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Window::Minute => "minute",
            Window::Hour => "hour",
            Window::Day => "day",
            Window::Month => "month",
        }
    }
}

/// A token budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Window length.
    pub window: Window,
    /// Calendar or rolling.
    pub kind: WindowKind,
    /// Tokens (prompt + completion) allowed per window.
    pub tokens: u64,
}

/// A GCRA rate: `rate` units per `period`, with a burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Units per period.
    pub rate: u64,
    /// The period.
    pub period: Duration,
    /// Units that may be spent at once (default: `rate`).
    pub burst: u64,
}

/// What to do when the injection detector fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectionAction {
    /// Do not scan.
    Off,
    /// Scan and write the verdict to the audit log only.
    Log,
    /// Forward, and add `X-Palisade-Injection` to the response.
    Flag,
    /// Refuse with 400.
    Block,
}

/// What to do with secrets and PII in responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputAction {
    /// Pass responses untouched.
    Off,
    /// Replace matches with a redaction marker.
    Redact,
}

/// Content filter settings of a tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardConfig {
    /// Injection action.
    pub injection: InjectionAction,
    /// Score at or above which the injection detector's verdict counts.
    pub threshold: f32,
    /// Output action.
    pub output: OutputAction,
    /// Canary tokens placed in this tenant's system prompts; one in an
    /// answer means the prompt leaked, and the answer is stopped.
    pub canaries: Vec<String>,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            injection: InjectionAction::Block,
            threshold: 0.8,
            output: OutputAction::Redact,
            canaries: Vec::new(),
        }
    }
}

/// A tenant: who may call, which models, how much.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantConfig {
    /// Tenant ID (`X-Tenant-Id`, metrics, audit).
    pub id: String,
    /// SHA-256 hashes of the tenant's API keys.
    pub key_hashes: Vec<[u8; 32]>,
    /// Models the tenant may call (empty: all).
    pub models: Vec<ModelPattern>,
    /// Token budgets.
    pub budgets: Vec<Budget>,
    /// Request rate limit.
    pub requests: Option<Rate>,
    /// Token rate limit (reserved tokens).
    pub tokens: Option<Rate>,
    /// Concurrent requests allowed.
    pub max_concurrent: Option<u32>,
    /// Cap on `max_tokens`; also the completion reservation when a request names none.
    pub max_tokens: u64,
    /// Content filters.
    pub guard: GuardConfig,
}

/// JWT verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtConfig {
    /// JWKS file with the issuer's public keys.
    pub jwks: PathBuf,
    /// Required `iss`.
    pub issuer: Option<String>,
    /// Required `aud`.
    pub audience: Option<String>,
    /// Claim holding the tenant ID.
    pub tenant_claim: String,
}

/// Where budgets and rate limits live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// In this process.
    Memory,
    /// In Redis, shared by replicas.
    Redis {
        /// `redis://host:port/db`.
        url: String,
        /// Key prefix.
        prefix: String,
    },
}

/// Where audit records go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditTarget {
    /// No audit records.
    Off,
    /// JSON lines on standard error.
    Stderr,
    /// JSON lines appended to a file.
    File(PathBuf),
}

/// TLS for clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// Token-rate anomaly detection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnomalyConfig {
    /// Length of one observation interval.
    pub interval: Duration,
    /// EWMA smoothing factor (0 < alpha <= 1).
    pub alpha: f64,
    /// Alert when an interval exceeds the baseline by this many deviations.
    pub threshold: f64,
    /// Intervals observed before alerts are raised.
    pub warmup: u32,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        AnomalyConfig {
            interval: Duration::from_secs(60),
            alpha: 0.3,
            threshold: 4.0,
            warmup: 5,
        }
    }
}

/// The validated gateway configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayConfig {
    /// The file it came from.
    pub file: String,
    /// Listen address.
    pub listen: SocketAddr,
    /// Client TLS.
    pub tls: Option<TlsConfig>,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Time allowed to connect to an upstream.
    pub connect_timeout: Duration,
    /// Time allowed for an upstream to answer (headers).
    pub request_timeout: Duration,
    /// Longest silence allowed between two streamed chunks.
    pub idle_timeout: Duration,
    /// Upstreams.
    pub upstreams: Vec<UpstreamConfig>,
    /// Passthrough routes.
    pub routes: Vec<RouteConfig>,
    /// Tenants.
    pub tenants: Vec<TenantConfig>,
    /// JWT verification, when tokens are accepted.
    pub jwt: Option<JwtConfig>,
    /// Budget store.
    pub store: StoreConfig,
    /// Admit requests when the store is unreachable (default: refuse).
    pub fail_open: bool,
    /// Audit target.
    pub audit: AuditTarget,
    /// Whether audit records carry the prompt text.
    pub audit_prompts: bool,
    /// SIEM sinks (`audit.sinks`, `palisade_audit::sink` addresses, checked
    /// at load; `file:` and `tlog:` paths resolved against the config folder).
    pub audit_sinks: Vec<String>,
    /// Spool folder of the sinks (`audit.spool`; one subfolder per sink).
    pub audit_spool: PathBuf,
    /// Records buffered in memory between the requests and the spool
    /// writer (`audit.sinkQueue`); when full, records for the sinks are
    /// dropped and counted, requests are never held up.
    pub audit_sink_queue: usize,
    /// Anomaly detection.
    pub anomaly: AnomalyConfig,
    /// Time allowed for in-flight requests on shutdown.
    pub drain_timeout: Duration,
    /// Serving threads (`workers`), each with its own listener and upstream
    /// connections; 0 (the default) means one per CPU.
    pub workers: usize,
}

/// Most serving threads a configuration may ask for.
pub const MAX_WORKERS: u64 = 256;

/// Reads the environment and files referenced by the configuration. Kept
/// apart so tests can provide their own.
pub trait Env {
    /// An environment variable.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// Hashes an API key as stored: SHA-256.
pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.trim().as_bytes()).into()
}

struct Cx<'a> {
    file: &'a str,
    base: &'a Path,
    env: &'a dyn Env,
}

impl Cx<'_> {
    fn err(&self, pos: Pos, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_owned(),
            line: pos.line,
            col: pos.col,
            message: message.into(),
        }
    }

    fn str(&self, n: &Node, what: &str) -> Result<String, ConfigError> {
        match &n.value {
            Value::Scalar(s) => Ok(s.text.to_string()),
            _ => Err(self.err(n.pos, format!("{what} must be a string"))),
        }
    }

    fn map<'n>(&self, n: &'n Node, what: &str) -> Result<&'n [Entry], ConfigError> {
        match &n.value {
            Value::Map(e) => Ok(e),
            Value::Null => Ok(&[]),
            _ => Err(self.err(n.pos, format!("{what} must be a mapping"))),
        }
    }

    fn seq<'n>(&self, n: &'n Node, what: &str) -> Result<&'n [Node], ConfigError> {
        match &n.value {
            Value::Seq(s) => Ok(s),
            Value::Null => Ok(&[]),
            _ => Err(self.err(n.pos, format!("{what} must be a list"))),
        }
    }

    fn strings(&self, n: &Node, what: &str) -> Result<Vec<String>, ConfigError> {
        match &n.value {
            Value::Scalar(_) => Ok(vec![self.str(n, what)?]),
            _ => self
                .seq(n, what)?
                .iter()
                .map(|i| self.str(i, what))
                .collect(),
        }
    }

    fn uint(&self, n: &Node, what: &str) -> Result<u64, ConfigError> {
        n.as_i64()
            .and_then(|i| u64::try_from(i).ok())
            .ok_or_else(|| self.err(n.pos, format!("{what} must be a non-negative integer")))
    }

    fn bool(&self, n: &Node, what: &str) -> Result<bool, ConfigError> {
        n.as_bool()
            .ok_or_else(|| self.err(n.pos, format!("{what} must be true or false")))
    }

    fn float(&self, n: &Node, what: &str) -> Result<f64, ConfigError> {
        n.as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|f| f.is_finite())
            .ok_or_else(|| self.err(n.pos, format!("{what} must be a number")))
    }

    fn duration(&self, n: &Node, what: &str) -> Result<Duration, ConfigError> {
        let s = self.str(n, what)?;
        parse_duration(&s).ok_or_else(|| {
            self.err(
                n.pos,
                format!("{what}: invalid duration {s:?} (e.g. 500ms, 5s, 2m, 1h)"),
            )
        })
    }

    fn path(&self, n: &Node, what: &str) -> Result<PathBuf, ConfigError> {
        let s = self.str(n, what)?;
        if s.is_empty() {
            return Err(self.err(n.pos, format!("{what} must not be empty")));
        }
        let p = PathBuf::from(s);
        Ok(if p.is_absolute() {
            p
        } else {
            self.base.join(p)
        })
    }

    fn unknown(&self, e: &Entry, section: &str, known: &[&str]) -> ConfigError {
        self.err(
            e.key_pos,
            format!(
                "unknown key {:?} in {section} (expected one of: {})",
                e.key.as_str(),
                known.join(", ")
            ),
        )
    }
}

/// Parses `500ms`, `5s`, `2m`, `1h`, `1d`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let ms = match unit {
        "ms" => n,
        "s" => n.checked_mul(1000)?,
        "m" => n.checked_mul(60_000)?,
        "h" => n.checked_mul(3_600_000)?,
        "d" => n.checked_mul(86_400_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}

const TOP_KEYS: &[&str] = &[
    "listen",
    "workers",
    "tls",
    "limits",
    "upstreams",
    "routes",
    "tenants",
    "jwt",
    "store",
    "audit",
    "anomaly",
];

impl GatewayConfig {
    /// Reads and validates a configuration file. Relative paths inside it are
    /// resolved against the file's folder.
    pub fn load(path: &Path, env: &dyn Env) -> Result<GatewayConfig, ConfigError> {
        let file = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| ConfigError {
            file: file.clone(),
            line: 0,
            col: 0,
            message: format!("cannot read: {e}"),
        })?;
        if meta.len() > 4 << 20 {
            return Err(ConfigError {
                file,
                line: 0,
                col: 0,
                message: "configuration larger than 4 MiB".into(),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            line: 0,
            col: 0,
            message: format!("cannot read: {e}"),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&file, &text, base, env)
    }

    /// Parses and validates a configuration text.
    pub fn parse(
        file: &str,
        text: &str,
        base: &Path,
        env: &dyn Env,
    ) -> Result<GatewayConfig, ConfigError> {
        let cx = Cx { file, base, env };
        let root = yaml::parse_one(text)
            .map_err(|e| ConfigError {
                file: file.to_owned(),
                line: e.line,
                col: e.col,
                message: format!("YAML error: {}", e.message),
            })?
            .ok_or_else(|| cx.err(Pos::new(1, 1), "the configuration is empty"))?;
        let mut cfg = GatewayConfig {
            file: file.to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            tls: None,
            max_body_bytes: 1 << 20,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(300),
            idle_timeout: Duration::from_secs(60),
            upstreams: Vec::new(),
            routes: Vec::new(),
            tenants: Vec::new(),
            jwt: None,
            store: StoreConfig::Memory,
            fail_open: false,
            audit: AuditTarget::Stderr,
            audit_prompts: false,
            audit_sinks: Vec::new(),
            audit_spool: default_spool(),
            audit_sink_queue: 65_536,
            anomaly: AnomalyConfig::default(),
            drain_timeout: Duration::from_secs(30),
            workers: 0,
        };
        let mut route_refs = Vec::new();
        for top in cx.map(&root, "the configuration")? {
            let v = &top.value;
            match top.key.as_str() {
                "listen" => {
                    let s = cx.str(v, "listen")?;
                    cfg.listen = s.parse().map_err(|_| {
                        cx.err(
                            v.pos,
                            format!("listen: {s:?} is not an address like 127.0.0.1:8080"),
                        )
                    })?;
                }
                "tls" => cfg.tls = Some(parse_tls(&cx, v)?),
                "limits" => parse_limits(&cx, v, &mut cfg)?,
                "upstreams" => {
                    for u in cx.seq(v, "upstreams")? {
                        let up = parse_upstream(&cx, u)?;
                        if cfg.upstreams.iter().any(|o| o.name == up.name) {
                            return Err(
                                cx.err(u.pos, format!("upstream {:?} defined twice", up.name))
                            );
                        }
                        cfg.upstreams.push(up);
                    }
                }
                "routes" => {
                    for r in cx.seq(v, "routes")? {
                        let (route, pos) = parse_route(&cx, r)?;
                        route_refs.push(pos);
                        cfg.routes.push(route);
                    }
                }
                "tenants" => {
                    for t in cx.seq(v, "tenants")? {
                        let tenant = parse_tenant(&cx, t)?;
                        if cfg.tenants.iter().any(|o| o.id == tenant.id) {
                            return Err(
                                cx.err(t.pos, format!("tenant {:?} defined twice", tenant.id))
                            );
                        }
                        cfg.tenants.push(tenant);
                    }
                }
                "jwt" => cfg.jwt = Some(parse_jwt(&cx, v)?),
                "store" => parse_store(&cx, v, &mut cfg)?,
                "audit" => parse_audit(&cx, v, &mut cfg)?,
                "anomaly" => cfg.anomaly = parse_anomaly(&cx, v)?,
                "workers" => {
                    let n = cx.uint(v, "workers")?;
                    if n > MAX_WORKERS {
                        return Err(cx.err(
                            v.pos,
                            format!("workers must be between 0 (one per CPU) and {MAX_WORKERS}"),
                        ));
                    }
                    cfg.workers = usize::try_from(n).unwrap_or(0);
                }
                _ => return Err(cx.unknown(top, "the configuration", TOP_KEYS)),
            }
        }
        if cfg.upstreams.is_empty() {
            return Err(cx.err(root.pos, "at least one upstream is required (`upstreams:`)"));
        }
        for (route, pos) in cfg.routes.iter().zip(route_refs) {
            if !cfg.upstreams.iter().any(|u| u.name == route.upstream) {
                return Err(cx.err(
                    pos,
                    format!(
                        "route {:?} names unknown upstream {:?}",
                        route.prefix, route.upstream
                    ),
                ));
            }
        }
        Ok(cfg)
    }

    /// The number of serving threads: `workers`, or one per CPU.
    pub fn worker_count(&self) -> usize {
        if self.workers > 0 {
            self.workers
        } else {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        }
    }

    /// The tenant with this ID.
    pub fn tenant(&self, id: &str) -> Option<&TenantConfig> {
        self.tenants.iter().find(|t| t.id == id)
    }
}

fn parse_tls(cx: &Cx<'_>, v: &Node) -> Result<TlsConfig, ConfigError> {
    let (mut cert, mut key) = (None, None);
    for e in cx.map(v, "tls")? {
        match e.key.as_str() {
            "cert" => cert = Some(cx.path(&e.value, "tls.cert")?),
            "key" => key = Some(cx.path(&e.value, "tls.key")?),
            _ => return Err(cx.unknown(e, "tls", &["cert", "key"])),
        }
    }
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(TlsConfig { cert, key }),
        _ => Err(cx.err(v.pos, "tls needs both `cert` and `key`")),
    }
}

fn parse_limits(cx: &Cx<'_>, v: &Node, cfg: &mut GatewayConfig) -> Result<(), ConfigError> {
    const K: &[&str] = &[
        "maxBodyBytes",
        "connectTimeout",
        "requestTimeout",
        "idleTimeout",
        "drainTimeout",
    ];
    for e in cx.map(v, "limits")? {
        let n = &e.value;
        match e.key.as_str() {
            "maxBodyBytes" => {
                let b = cx.uint(n, "limits.maxBodyBytes")?;
                if b == 0 || b > 64 << 20 {
                    return Err(cx.err(n.pos, "limits.maxBodyBytes must be between 1 and 67108864"));
                }
                cfg.max_body_bytes = usize::try_from(b).unwrap_or(64 << 20);
            }
            "connectTimeout" => cfg.connect_timeout = cx.duration(n, "limits.connectTimeout")?,
            "requestTimeout" => cfg.request_timeout = cx.duration(n, "limits.requestTimeout")?,
            "idleTimeout" => cfg.idle_timeout = cx.duration(n, "limits.idleTimeout")?,
            "drainTimeout" => cfg.drain_timeout = cx.duration(n, "limits.drainTimeout")?,
            _ => return Err(cx.unknown(e, "limits", K)),
        }
    }
    Ok(())
}

fn parse_models(cx: &Cx<'_>, n: &Node, what: &str) -> Result<Vec<ModelPattern>, ConfigError> {
    let v = cx.strings(n, what)?;
    if v.iter().any(String::is_empty) {
        return Err(cx.err(n.pos, format!("{what}: empty model name")));
    }
    Ok(v.into_iter().map(ModelPattern).collect())
}

fn parse_upstream(cx: &Cx<'_>, u: &Node) -> Result<UpstreamConfig, ConfigError> {
    const K: &[&str] = &["name", "url", "models", "health", "caFile", "priority"];
    let mut up = UpstreamConfig {
        name: String::new(),
        url: String::new(),
        models: vec![ModelPattern("*".into())],
        health: None,
        ca_file: None,
        priority: 0,
    };
    for e in cx.map(u, "an upstream")? {
        let n = &e.value;
        match e.key.as_str() {
            "name" => up.name = cx.str(n, "upstream name")?,
            "url" => {
                let s = cx.str(n, "upstream url")?;
                let ok = (s.starts_with("http://") || s.starts_with("https://"))
                    && s.parse::<http::Uri>().is_ok_and(|u| u.host().is_some());
                if !ok {
                    return Err(cx.err(
                        n.pos,
                        format!(
                            "upstream url {s:?} must be an http:// or https:// URL with a host"
                        ),
                    ));
                }
                s.trim_end_matches('/').clone_into(&mut up.url);
            }
            "models" => up.models = parse_models(cx, n, "upstream models")?,
            "caFile" => up.ca_file = Some(cx.path(n, "caFile")?),
            "priority" => {
                up.priority = u32::try_from(cx.uint(n, "priority")?)
                    .map_err(|_| cx.err(n.pos, "priority is too large"))?;
            }
            "health" => {
                let mut h = HealthCheck {
                    path: "/health".into(),
                    interval: Duration::from_secs(5),
                    timeout: Duration::from_secs(2),
                    unhealthy_after: 2,
                };
                for he in cx.map(n, "health")? {
                    let hn = &he.value;
                    match he.key.as_str() {
                        "path" => {
                            h.path = cx.str(hn, "health.path")?;
                            if !h.path.starts_with('/') {
                                return Err(cx.err(hn.pos, "health.path must start with /"));
                            }
                        }
                        "interval" => h.interval = cx.duration(hn, "health.interval")?,
                        "timeout" => h.timeout = cx.duration(hn, "health.timeout")?,
                        "unhealthyAfter" => {
                            h.unhealthy_after = u32::try_from(cx.uint(hn, "unhealthyAfter")?)
                                .unwrap_or(u32::MAX)
                                .max(1);
                        }
                        _ => {
                            return Err(cx.unknown(
                                he,
                                "health",
                                &["path", "interval", "timeout", "unhealthyAfter"],
                            ));
                        }
                    }
                }
                if h.interval.is_zero() {
                    return Err(cx.err(n.pos, "health.interval must be positive"));
                }
                up.health = Some(h);
            }
            _ => return Err(cx.unknown(e, "an upstream", K)),
        }
    }
    if up.name.is_empty() || up.url.is_empty() {
        return Err(cx.err(u.pos, "an upstream needs `name` and `url`"));
    }
    Ok(up)
}

fn parse_route(cx: &Cx<'_>, r: &Node) -> Result<(RouteConfig, Pos), ConfigError> {
    let mut route = RouteConfig {
        prefix: String::new(),
        upstream: String::new(),
        auth: true,
    };
    let mut upos = r.pos;
    for e in cx.map(r, "a route")? {
        let n = &e.value;
        match e.key.as_str() {
            "prefix" => {
                route.prefix = cx.str(n, "route prefix")?;
                if !route.prefix.starts_with('/') {
                    return Err(cx.err(n.pos, "route prefix must start with /"));
                }
            }
            "upstream" => {
                route.upstream = cx.str(n, "route upstream")?;
                upos = n.pos;
            }
            "auth" => route.auth = cx.bool(n, "route auth")?,
            _ => return Err(cx.unknown(e, "a route", &["prefix", "upstream", "auth"])),
        }
    }
    if route.prefix.is_empty() || route.upstream.is_empty() {
        return Err(cx.err(r.pos, "a route needs `prefix` and `upstream`"));
    }
    Ok((route, upos))
}

fn parse_window(cx: &Cx<'_>, n: &Node) -> Result<Window, ConfigError> {
    match cx.str(n, "window")?.as_str() {
        "minute" => Ok(Window::Minute),
        "hour" => Ok(Window::Hour),
        "day" => Ok(Window::Day),
        "month" => Ok(Window::Month),
        other => Err(cx.err(
            n.pos,
            format!("window {other:?} must be minute, hour, day or month"),
        )),
    }
}

#[allow(clippy::single_match_else)]
fn parse_rate(cx: &Cx<'_>, n: &Node, what: &str) -> Result<Rate, ConfigError> {
    // `60/minute` or {rate: 60, per: minute, burst: 10}
    let (rate, per, burst, pos) = match &n.value {
        Value::Scalar(_) => {
            let s = cx.str(n, what)?;
            let (r, p) = s
                .split_once('/')
                .ok_or_else(|| cx.err(n.pos, format!("{what} must look like 60/minute")))?;
            let r: u64 = r
                .trim()
                .parse()
                .map_err(|_| cx.err(n.pos, format!("{what}: {r:?} is not a number")))?;
            (r, p.trim().to_owned(), None, n.pos)
        }
        _ => {
            let (mut r, mut p, mut b) = (None, "second".to_owned(), None);
            for e in cx.map(n, what)? {
                match e.key.as_str() {
                    "rate" => r = Some(cx.uint(&e.value, "rate")?),
                    "per" => p = cx.str(&e.value, "per")?,
                    "burst" => b = Some(cx.uint(&e.value, "burst")?),
                    _ => return Err(cx.unknown(e, what, &["rate", "per", "burst"])),
                }
            }
            let r = r.ok_or_else(|| cx.err(n.pos, format!("{what} needs `rate`")))?;
            (r, p, b, n.pos)
        }
    };
    let period = match per.as_str() {
        "second" | "s" => Duration::from_secs(1),
        "minute" | "m" => Duration::from_secs(60),
        "hour" | "h" => Duration::from_secs(3600),
        "day" | "d" => Duration::from_secs(86_400),
        other => {
            return Err(cx.err(
                pos,
                format!("{what}: period {other:?} must be second, minute, hour or day"),
            ));
        }
    };
    if rate == 0 {
        return Err(cx.err(pos, format!("{what}: rate must be positive")));
    }
    Ok(Rate {
        rate,
        period,
        burst: burst.unwrap_or(rate).max(1),
    })
}

#[allow(clippy::many_single_char_names)]
fn parse_key_source(cx: &Cx<'_>, n: &Node) -> Result<[u8; 32], ConfigError> {
    let entries = cx.map(n, "an API key")?;
    let [e] = entries else {
        return Err(cx.err(
            n.pos,
            "an API key is one of {sha256: HEX}, {env: NAME} or {file: PATH}",
        ));
    };
    let v = &e.value;
    match e.key.as_str() {
        "sha256" => {
            let s = cx.str(v, "sha256")?;
            let bytes = hex::decode(s.trim())
                .ok()
                .filter(|b| b.len() == 32)
                .ok_or_else(|| {
                    cx.err(
                        v.pos,
                        "sha256 must be 64 hexadecimal digits (`printf %s KEY | sha256sum`)",
                    )
                })?;
            let mut h = [0u8; 32];
            h.copy_from_slice(&bytes);
            Ok(h)
        }
        "env" => {
            let name = cx.str(v, "env")?;
            match cx.env.var(&name) {
                Some(k) if !k.trim().is_empty() => Ok(hash_key(&k)),
                _ => Err(cx.err(
                    v.pos,
                    format!("environment variable {name} is not set or empty"),
                )),
            }
        }
        "file" => {
            let p = cx.path(v, "file")?;
            let meta = std::fs::metadata(&p)
                .map_err(|e| cx.err(v.pos, format!("cannot read {}: {e}", p.display())))?;
            if !meta.is_file() || meta.len() > 4096 {
                return Err(cx.err(
                    v.pos,
                    format!("{} must be a regular file of at most 4 KiB", p.display()),
                ));
            }
            let k = std::fs::read_to_string(&p)
                .map_err(|e| cx.err(v.pos, format!("cannot read {}: {e}", p.display())))?;
            if k.trim().is_empty() {
                return Err(cx.err(v.pos, format!("{} is empty", p.display())));
            }
            Ok(hash_key(&k))
        }
        _ => Err(cx.unknown(e, "an API key", &["sha256", "env", "file"])),
    }
}

fn parse_tenant(cx: &Cx<'_>, t: &Node) -> Result<TenantConfig, ConfigError> {
    const K: &[&str] = &[
        "id",
        "apiKeys",
        "models",
        "budgets",
        "requests",
        "tokens",
        "maxConcurrent",
        "maxTokens",
        "guard",
    ];
    let mut tenant = TenantConfig {
        id: String::new(),
        key_hashes: Vec::new(),
        models: Vec::new(),
        budgets: Vec::new(),
        requests: None,
        tokens: None,
        max_concurrent: None,
        max_tokens: 1024,
        guard: GuardConfig::default(),
    };
    for e in cx.map(t, "a tenant")? {
        let n = &e.value;
        match e.key.as_str() {
            "id" => {
                tenant.id = cx.str(n, "tenant id")?;
                let ok = !tenant.id.is_empty()
                    && tenant.id.len() <= 64
                    && tenant
                        .id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
                if !ok {
                    return Err(
                        cx.err(n.pos, "tenant id must be 1-64 characters of [A-Za-z0-9._-]")
                    );
                }
            }
            "apiKeys" => {
                for k in cx.seq(n, "apiKeys")? {
                    tenant.key_hashes.push(parse_key_source(cx, k)?);
                }
            }
            "models" => tenant.models = parse_models(cx, n, "tenant models")?,
            "budgets" => {
                for b in cx.seq(n, "budgets")? {
                    let (mut window, mut kind, mut tokens) = (None, WindowKind::Calendar, None);
                    for be in cx.map(b, "a budget")? {
                        match be.key.as_str() {
                            "window" => window = Some(parse_window(cx, &be.value)?),
                            "kind" => {
                                kind = match cx.str(&be.value, "kind")?.as_str() {
                                    "calendar" => WindowKind::Calendar,
                                    "rolling" => WindowKind::Rolling,
                                    other => {
                                        return Err(cx.err(
                                            be.value.pos,
                                            format!(
                                                "budget kind {other:?} must be calendar or rolling"
                                            ),
                                        ));
                                    }
                                }
                            }
                            "tokens" => tokens = Some(cx.uint(&be.value, "tokens")?),
                            _ => {
                                return Err(cx.unknown(
                                    be,
                                    "a budget",
                                    &["window", "kind", "tokens"],
                                ));
                            }
                        }
                    }
                    match (window, tokens) {
                        (Some(window), Some(tokens)) => tenant.budgets.push(Budget {
                            window,
                            kind,
                            tokens,
                        }),
                        _ => return Err(cx.err(b.pos, "a budget needs `window` and `tokens`")),
                    }
                }
            }
            "requests" => tenant.requests = Some(parse_rate(cx, n, "requests")?),
            "tokens" => tenant.tokens = Some(parse_rate(cx, n, "tokens")?),
            "maxConcurrent" => {
                let c = cx.uint(n, "maxConcurrent")?;
                if c == 0 {
                    return Err(cx.err(n.pos, "maxConcurrent must be positive"));
                }
                tenant.max_concurrent = Some(u32::try_from(c).unwrap_or(u32::MAX));
            }
            "maxTokens" => {
                tenant.max_tokens = cx.uint(n, "maxTokens")?;
                if tenant.max_tokens == 0 {
                    return Err(cx.err(n.pos, "maxTokens must be positive"));
                }
            }
            "guard" => {
                for ge in cx.map(n, "guard")? {
                    let gv = &ge.value;
                    match ge.key.as_str() {
                        "injection" => {
                            tenant.guard.injection =
                                match cx.str(gv, "guard.injection")?.as_str() {
                                    "off" => InjectionAction::Off,
                                    "log" => InjectionAction::Log,
                                    "flag" => InjectionAction::Flag,
                                    "block" => InjectionAction::Block,
                                    o => return Err(cx.err(
                                        gv.pos,
                                        format!(
                                            "guard.injection {o:?} must be off, log, flag or block"
                                        ),
                                    )),
                                }
                        }
                        "threshold" => {
                            let f = cx.float(gv, "guard.threshold")?;
                            if !(0.0..=1.0).contains(&f) {
                                return Err(
                                    cx.err(gv.pos, "guard.threshold must be between 0 and 1")
                                );
                            }
                            #[allow(clippy::cast_possible_truncation)]
                            {
                                tenant.guard.threshold = f as f32;
                            }
                        }
                        "output" => {
                            tenant.guard.output = match cx.str(gv, "guard.output")?.as_str() {
                                "off" => OutputAction::Off,
                                "redact" => OutputAction::Redact,
                                o => {
                                    return Err(cx.err(
                                        gv.pos,
                                        format!("guard.output {o:?} must be off or redact"),
                                    ));
                                }
                            }
                        }
                        "canaries" => {
                            for (i, c) in cx.strings(gv, "guard.canaries")?.into_iter().enumerate()
                            {
                                let pos = gv.items().get(i).map_or(gv.pos, |n| n.pos);
                                palisade_guard::Canary::from_token(&c)
                                    .map_err(|e| cx.err(pos, format!("guard.canaries: {e}")))?;
                                tenant.guard.canaries.push(c);
                            }
                        }
                        _ => {
                            return Err(cx.unknown(
                                ge,
                                "guard",
                                &["injection", "threshold", "output", "canaries"],
                            ));
                        }
                    }
                }
            }
            _ => return Err(cx.unknown(e, "a tenant", K)),
        }
    }
    if tenant.id.is_empty() {
        return Err(cx.err(t.pos, "a tenant needs an `id`"));
    }
    Ok(tenant)
}

fn parse_jwt(cx: &Cx<'_>, v: &Node) -> Result<JwtConfig, ConfigError> {
    let mut jwt = JwtConfig {
        jwks: PathBuf::new(),
        issuer: None,
        audience: None,
        tenant_claim: "tenant".into(),
    };
    for e in cx.map(v, "jwt")? {
        let n = &e.value;
        match e.key.as_str() {
            "jwks" => jwt.jwks = cx.path(n, "jwt.jwks")?,
            "issuer" => jwt.issuer = Some(cx.str(n, "jwt.issuer")?),
            "audience" => jwt.audience = Some(cx.str(n, "jwt.audience")?),
            "tenantClaim" => jwt.tenant_claim = cx.str(n, "jwt.tenantClaim")?,
            _ => return Err(cx.unknown(e, "jwt", &["jwks", "issuer", "audience", "tenantClaim"])),
        }
    }
    if jwt.jwks.as_os_str().is_empty() {
        return Err(cx.err(v.pos, "jwt needs `jwks` (a JWKS file)"));
    }
    Ok(jwt)
}

fn parse_store(cx: &Cx<'_>, v: &Node, cfg: &mut GatewayConfig) -> Result<(), ConfigError> {
    let (mut kind, mut url, mut prefix) = (None, None, "palisade:".to_owned());
    for e in cx.map(v, "store")? {
        let n = &e.value;
        match e.key.as_str() {
            "kind" => kind = Some((cx.str(n, "store.kind")?, n.pos)),
            "url" => url = Some(cx.str(n, "store.url")?),
            "prefix" => prefix = cx.str(n, "store.prefix")?,
            "failOpen" => cfg.fail_open = cx.bool(n, "store.failOpen")?,
            _ => return Err(cx.unknown(e, "store", &["kind", "url", "prefix", "failOpen"])),
        }
    }
    cfg.store = match kind {
        None => StoreConfig::Memory,
        Some((k, _)) if k == "memory" => StoreConfig::Memory,
        Some((k, pos)) if k == "redis" => {
            let url = url.ok_or_else(|| cx.err(pos, "store kind redis needs `url`"))?;
            if !(url.starts_with("redis://")
                || url.starts_with("rediss://")
                || url.starts_with("unix://"))
            {
                return Err(cx.err(pos, "store.url must start with redis://"));
            }
            StoreConfig::Redis { url, prefix }
        }
        Some((k, pos)) => {
            return Err(cx.err(pos, format!("store.kind {k:?} must be memory or redis")));
        }
    };
    Ok(())
}

/// The sinks' spool when `audit.spool` is not set: `palisade-gateway-spool`
/// in the temporary folder (`$TMPDIR`, else `/tmp`). Temporary folders may be
/// emptied on reboot, losing what was not delivered yet: production
/// configurations set `audit.spool` to a persistent volume.
pub fn default_spool() -> PathBuf {
    std::env::temp_dir().join("palisade-gateway-spool")
}

fn parse_audit(cx: &Cx<'_>, v: &Node, cfg: &mut GatewayConfig) -> Result<(), ConfigError> {
    const K: &[&str] = &["path", "logPrompts", "sinks", "spool", "sinkQueue"];
    for e in cx.map(v, "audit")? {
        let n = &e.value;
        match e.key.as_str() {
            "path" => {
                let s = cx.str(n, "audit.path")?;
                cfg.audit = match s.as_str() {
                    "off" => AuditTarget::Off,
                    "-" | "stderr" => AuditTarget::Stderr,
                    _ => AuditTarget::File(cx.path(n, "audit.path")?),
                };
            }
            "logPrompts" => cfg.audit_prompts = cx.bool(n, "audit.logPrompts")?,
            "sinks" => {
                let items = match &n.value {
                    Value::Scalar(_) => std::slice::from_ref(n),
                    _ => cx.seq(n, "audit.sinks")?,
                };
                cfg.audit_sinks.clear();
                for (i, item) in items.iter().enumerate() {
                    let what = format!("audit.sinks[{i}]");
                    let addr = sink_address(cx, &cx.str(item, &what)?);
                    palisade_audit::sink::check(&addr, &|k| cx.env.var(k))
                        .map_err(|e| cx.err(item.pos, format!("{what}: {e}")))?;
                    if cfg.audit_sinks.contains(&addr) {
                        return Err(cx.err(item.pos, format!("{what}: {addr:?} is listed twice")));
                    }
                    cfg.audit_sinks.push(addr);
                }
            }
            "spool" => cfg.audit_spool = cx.path(n, "audit.spool")?,
            "sinkQueue" => {
                let q = cx.uint(n, "audit.sinkQueue")?;
                if q == 0 || q > 1 << 24 {
                    return Err(cx.err(n.pos, "audit.sinkQueue must be between 1 and 16777216"));
                }
                cfg.audit_sink_queue = usize::try_from(q).unwrap_or(1 << 24);
            }
            _ => return Err(cx.unknown(e, "audit", K)),
        }
    }
    Ok(())
}

/// A sink address with a relative `file:` or `tlog:` path resolved against
/// the configuration's folder, like every other path in it.
fn sink_address(cx: &Cx<'_>, addr: &str) -> String {
    for scheme in ["file:", "tlog:"] {
        if let Some(rest) = addr.strip_prefix(scheme) {
            let (path, query) = rest
                .split_once('?')
                .map_or((rest, None), |(p, q)| (p, Some(q)));
            if path.is_empty() || Path::new(path).is_absolute() {
                return addr.to_owned();
            }
            let full = cx.base.join(path);
            return match query {
                Some(q) => format!("{scheme}{}?{q}", full.display()),
                None => format!("{scheme}{}", full.display()),
            };
        }
    }
    addr.to_owned()
}

fn parse_anomaly(cx: &Cx<'_>, v: &Node) -> Result<AnomalyConfig, ConfigError> {
    let mut a = AnomalyConfig::default();
    for e in cx.map(v, "anomaly")? {
        let n = &e.value;
        match e.key.as_str() {
            "interval" => a.interval = cx.duration(n, "anomaly.interval")?,
            "alpha" => {
                a.alpha = cx.float(n, "anomaly.alpha")?;
                if !(a.alpha > 0.0 && a.alpha <= 1.0) {
                    return Err(cx.err(n.pos, "anomaly.alpha must be in (0, 1]"));
                }
            }
            "threshold" => a.threshold = cx.float(n, "anomaly.threshold")?,
            "warmup" => a.warmup = u32::try_from(cx.uint(n, "anomaly.warmup")?).unwrap_or(u32::MAX),
            _ => {
                return Err(cx.unknown(
                    e,
                    "anomaly",
                    &["interval", "alpha", "threshold", "warmup"],
                ));
            }
        }
    }
    if a.interval.is_zero() {
        return Err(cx.err(v.pos, "anomaly.interval must be positive"));
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct MapEnv(HashMap<&'static str, &'static str>);
    impl Env for MapEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|s| (*s).to_owned())
        }
    }

    fn parse(text: &str) -> Result<GatewayConfig, ConfigError> {
        let env = MapEnv(HashMap::from([("KEY", "sk-demo-1234")]));
        GatewayConfig::parse("gw.yaml", text, Path::new("/etc/gw"), &env)
    }

    #[test]
    fn full_config_validates() {
        let c = parse(
            "listen: 0.0.0.0:9000\nupstreams:\n  - name: a\n    url: http://127.0.0.1:8000/\n    health: {path: /health, interval: 1s}\n\
             routes:\n  - {prefix: /v2/, upstream: a}\n\
             tenants:\n  - id: demo\n    apiKeys: [{env: KEY}]\n    budgets: [{window: day, tokens: 100}, {window: hour, kind: rolling, tokens: 50}]\n    requests: 10/minute\n    tokens: {rate: 1000, per: minute, burst: 2000}\n    maxConcurrent: 2\n    guard: {injection: flag, threshold: 0.7}\n",
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.upstreams[0].url, "http://127.0.0.1:8000");
        let t = c.tenant("demo").unwrap();
        assert_eq!(t.key_hashes, vec![hash_key("sk-demo-1234")]);
        assert_eq!(t.budgets.len(), 2);
        assert_eq!(t.budgets[1].kind, WindowKind::Rolling);
        assert_eq!(t.requests.unwrap().rate, 10);
        assert_eq!(t.tokens.unwrap().burst, 2000);
        assert_eq!(t.guard.injection, InjectionAction::Flag);
    }

    #[test]
    fn mistakes_name_their_line() {
        let e = parse("upstreams:\n  - name: a\n    url: ftp://x\n").unwrap_err();
        assert_eq!((e.line, e.col), (3, 10), "{e}");
        let e = parse("upstreams:\n  - {name: a, url: 'http://x'}\ntenants:\n  - id: t\n    budgets: [{window: week, tokens: 1}]\n").unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        assert!(e.message.contains("week"), "{e}");
        let e = parse("upstreams:\n  - {name: a, url: 'http://x'}\ntenants:\n  - id: t\n    apiKeys: [{env: MISSING}]\n").unwrap_err();
        assert!(e.message.contains("MISSING"), "{e}");
        let e = parse(
            "upstreams:\n  - {name: a, url: 'http://x'}\nroutes:\n  - {prefix: /v2, upstream: b}\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        let e = parse("upstreams:\n  - {name: a, url: 'http://x'}\nlistn: x\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(parse("").is_err());
        assert!(
            parse("tenants: []\n")
                .unwrap_err()
                .message
                .contains("upstream")
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for text in [
            "[",
            "{a: [}",
            "- - - :",
            "listen: [1, 2]",
            "\u{0}\u{1}",
            "upstreams: 3",
        ] {
            assert!(parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn sha256_keys_and_model_globs() {
        let h = hex::encode(hash_key("abc"));
        let c = parse(&format!(
            "upstreams:\n  - {{name: a, url: 'http://x', models: ['llama-*', gpt-4o]}}\ntenants:\n  - id: t\n    apiKeys: [{{sha256: {h}}}]\n"
        ))
        .unwrap();
        assert_eq!(c.tenants[0].key_hashes[0], hash_key("abc"));
        assert!(c.upstreams[0].models[0].matches("llama-3-8b"));
        assert!(!c.upstreams[0].models[0].matches("mistral"));
        assert!(ModelPattern("*".into()).matches(""));
        assert!(ModelPattern("a*b*c".into()).matches("aXXbYc"));
        assert!(!ModelPattern("a*b*c".into()).matches("aXXbY"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("s"), None);
        assert_eq!(parse_duration("99999999999999999999d"), None);
    }
}
