//! Upstream inference servers: one HTTP client per upstream (HTTP/1.1 and
//! HTTP/2, TLS through rustls with the ring provider), active health checks,
//! and selection with failover by priority and round-robin.

use crate::config::{GatewayConfig, UpstreamConfig};
use axum::body::Body;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

/// The HTTP client type used for upstreams.
pub type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Body>;

/// An upstream could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpstreamError {
    /// The CA file could not be read.
    #[error("upstream {name}: cannot read CA file {path}: {message}")]
    CaFile {
        /// Upstream name.
        name: String,
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// TLS could not be configured.
    #[error("upstream {name}: TLS setup failed: {message}")]
    Tls {
        /// Upstream name.
        name: String,
        /// Why.
        message: String,
    },
}

/// One upstream with its clients and health.
#[derive(Debug)]
pub struct Upstream {
    /// Its configuration.
    pub cfg: UpstreamConfig,
    /// One client (and so one connection pool) per serving thread: a
    /// connection is driven by the thread that opened it, and only that
    /// thread's requests use it, so no request wakes another thread.
    clients: Vec<HttpClient>,
    healthy: AtomicBool,
    failures: AtomicU32,
}

impl Upstream {
    /// The client of the serving thread this runs on
    /// ([`crate::server::worker_index`]).
    pub fn client(&self) -> &HttpClient {
        &self.clients[crate::server::worker_index() % self.clients.len()]
    }

    /// Whether the upstream is considered healthy.
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Records a successful exchange.
    pub fn mark_ok(&self) {
        self.failures.store(0, Ordering::Relaxed);
        self.healthy.store(true, Ordering::Relaxed);
    }

    /// Records a failure; after enough of them the upstream is taken out.
    pub fn mark_failed(&self) {
        let limit = self.cfg.health.as_ref().map_or(1, |h| h.unhealthy_after);
        let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if n >= limit {
            self.healthy.store(false, Ordering::Relaxed);
        }
    }

    /// The full URL for a path and query.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.cfg.url)
    }
}

/// The rustls client configuration (ring provider) for an upstream.
pub fn client_tls(cfg: &UpstreamConfig) -> Result<rustls::ClientConfig, UpstreamError> {
    let mut roots = rustls::RootCertStore::empty();
    match &cfg.ca_file {
        Some(p) => {
            let certs: Result<Vec<CertificateDer<'static>>, _> = CertificateDer::pem_file_iter(p)
                .map_err(|e| UpstreamError::CaFile {
                    name: cfg.name.clone(),
                    path: p.display().to_string(),
                    message: e.to_string(),
                })?
                .collect();
            let certs = certs.map_err(|e| UpstreamError::CaFile {
                name: cfg.name.clone(),
                path: p.display().to_string(),
                message: e.to_string(),
            })?;
            if certs.is_empty() {
                return Err(UpstreamError::CaFile {
                    name: cfg.name.clone(),
                    path: p.display().to_string(),
                    message: "no certificate in the file".into(),
                });
            }
            for c in certs {
                roots.add(c).map_err(|e| UpstreamError::Tls {
                    name: cfg.name.clone(),
                    message: e.to_string(),
                })?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| UpstreamError::Tls {
            name: cfg.name.clone(),
            message: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn build_client(
    cfg: &UpstreamConfig,
    connect_timeout: Duration,
) -> Result<HttpClient, UpstreamError> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(connect_timeout));
    http.set_nodelay(true);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(client_tls(cfg)?)
        .https_or_http()
        .enable_all_versions()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(1024)
        .build(https))
}

/// All upstreams of a configuration.
#[derive(Debug)]
pub struct Pool {
    /// The upstreams, in configuration order.
    pub upstreams: Vec<Arc<Upstream>>,
    next: AtomicUsize,
}

impl Pool {
    /// Builds clients for every upstream (no connection is made yet).
    pub fn new(cfg: &GatewayConfig) -> Result<Pool, UpstreamError> {
        let mut upstreams = Vec::new();
        for u in &cfg.upstreams {
            let clients = (0..cfg.worker_count())
                .map(|_| build_client(u, cfg.connect_timeout))
                .collect::<Result<_, _>>()?;
            upstreams.push(Arc::new(Upstream {
                cfg: u.clone(),
                clients,
                healthy: AtomicBool::new(true),
                failures: AtomicU32::new(0),
            }));
        }
        Ok(Pool {
            upstreams,
            next: AtomicUsize::new(0),
        })
    }

    /// The upstream named `name`.
    pub fn by_name(&self, name: &str) -> Option<&Arc<Upstream>> {
        self.upstreams.iter().find(|u| u.cfg.name == name)
    }

    /// Whether any upstream serves `model`.
    pub fn serves(&self, model: &str) -> bool {
        self.upstreams
            .iter()
            .any(|u| u.cfg.models.iter().any(|m| m.matches(model)))
    }

    /// The upstreams to try for `model`, in order: healthy ones first by
    /// priority (round-robin among equals), then the unhealthy ones as a
    /// last resort.
    pub fn candidates(&self, model: &str) -> Vec<Arc<Upstream>> {
        let mut c: Vec<&Arc<Upstream>> = self
            .upstreams
            .iter()
            .filter(|u| u.cfg.models.iter().any(|m| m.matches(model)))
            .collect();
        if c.len() > 1 {
            let rot = self.next.fetch_add(1, Ordering::Relaxed) % c.len();
            c.rotate_left(rot);
            c.sort_by_key(|u| (!u.is_healthy(), u.cfg.priority));
        }
        c.into_iter().cloned().collect()
    }

    /// Starts the health-check loops; they stop when the handles are dropped.
    pub fn start_health_checks(&self) -> Vec<HealthTask> {
        let mut out = Vec::new();
        for u in &self.upstreams {
            let Some(h) = u.cfg.health.clone() else {
                continue;
            };
            let u = Arc::clone(u);
            let handle = tokio::spawn(async move {
                let mut tick = tokio::time::interval(h.interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let ok = probe(&u, &h.path, h.timeout).await;
                    if ok {
                        if !u.is_healthy() {
                            tracing::info!(upstream = %u.cfg.name, "upstream healthy again");
                        }
                        u.mark_ok();
                    } else {
                        let was = u.is_healthy();
                        u.mark_failed();
                        if was && !u.is_healthy() {
                            tracing::warn!(upstream = %u.cfg.name, "upstream failed its health checks; taken out");
                        }
                    }
                }
            });
            out.push(HealthTask(handle));
        }
        out
    }
}

/// A running health-check loop, aborted on drop.
#[derive(Debug)]
pub struct HealthTask(tokio::task::JoinHandle<()>);

impl Drop for HealthTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn probe(u: &Upstream, path: &str, timeout: Duration) -> bool {
    let Ok(req) = http::Request::get(u.url(path)).body(Body::empty()) else {
        return false;
    };
    match tokio::time::timeout(timeout, u.client().request(req)).await {
        Ok(Ok(resp)) => resp.status().is_success(),
        _ => false,
    }
}
