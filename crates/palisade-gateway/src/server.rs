//! Sockets: TCP or TLS (rustls, ring provider; ALPN h2 and http/1.1),
//! HTTP/1.1 and HTTP/2 on one port, graceful shutdown that lets in-flight
//! streams finish, and configuration reload that swaps the runtime without
//! touching open connections.

use crate::audit::{AuditSink, JsonLinesSink, NullSink, SiemAuditSink};
use crate::config::{AuditTarget, Env, GatewayConfig, StoreConfig, TlsConfig};
use crate::hooks::ProxyHooks;
use crate::proxy::{AppState, BuildError, Runtime, Shared, app};
use crate::store::{MemoryStore, RedisStore, Store};
use arc_swap::ArcSwap;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The gateway could not start or reload.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Configuration.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Runtime setup.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// TLS files.
    #[error("TLS: {0}")]
    Tls(String),
    /// Store setup.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Files and sockets.
    #[error("{0}")]
    Io(String),
}

/// Loads a rustls server configuration from PEM files.
pub fn server_tls(t: &TlsConfig) -> Result<rustls::ServerConfig, ServerError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&t.cert)
        .map_err(|e| ServerError::Tls(format!("{}: {e}", t.cert.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| ServerError::Tls(format!("{}: {e}", t.cert.display())))?;
    if certs.is_empty() {
        return Err(ServerError::Tls(format!(
            "{}: no certificate",
            t.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&t.key)
        .map_err(|e| ServerError::Tls(format!("{}: {e}", t.key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

/// Builds the store named by the configuration.
pub fn build_store(cfg: &GatewayConfig) -> Result<Arc<dyn Store>, ServerError> {
    Ok(match &cfg.store {
        StoreConfig::Memory => Arc::new(MemoryStore::new()),
        StoreConfig::Redis { url, prefix } => {
            Arc::new(RedisStore::new(url, prefix, Duration::from_millis(500))?)
        }
    })
}

/// Builds the audit sink named by the configuration: the local one
/// (`audit.path`), and the SIEM sinks (`audit.sinks`) behind it.
pub fn build_audit(cfg: &GatewayConfig) -> Result<Arc<dyn AuditSink>, ServerError> {
    let local = build_local_audit(cfg)?;
    if cfg.audit_sinks.is_empty() {
        return Ok(local);
    }
    let siem = SiemAuditSink::start(
        local,
        &cfg.audit_sinks,
        &cfg.audit_spool,
        cfg.audit_sink_queue,
        cfg.audit_prompts,
    )
    .map_err(|e| ServerError::Io(e.to_string()))?;
    Ok(Arc::new(siem))
}

fn build_local_audit(cfg: &GatewayConfig) -> Result<Arc<dyn AuditSink>, ServerError> {
    Ok(match &cfg.audit {
        AuditTarget::Off => Arc::new(NullSink),
        AuditTarget::Stderr => Arc::new(JsonLinesSink::stderr()),
        AuditTarget::File(p) => {
            Arc::new(JsonLinesSink::file(p).map_err(|e| {
                ServerError::Io(format!("cannot open audit log {}: {e}", p.display()))
            })?)
        }
    })
}

/// Everything needed to run: state, listener address and TLS.
#[derive(Debug)]
pub struct Gateway {
    /// The handlers' state.
    pub state: AppState,
    /// TLS, swappable on reload.
    pub tls: Option<Arc<ArcSwap<rustls::ServerConfig>>>,
}

impl Gateway {
    /// Builds a gateway from a validated configuration and the content-filter hooks.
    pub fn new(
        cfg: GatewayConfig,
        hooks: Vec<Arc<dyn ProxyHooks>>,
    ) -> Result<Gateway, ServerError> {
        let tls = match &cfg.tls {
            Some(t) => Some(Arc::new(ArcSwap::from_pointee(server_tls(t)?))),
            None => None,
        };
        let store = build_store(&cfg)?;
        let audit = build_audit(&cfg)?;
        let anomaly = crate::anomaly::AnomalyTracker::new(cfg.anomaly);
        let runtime = Runtime::new(cfg)?;
        let shared = Shared::new(store, audit, hooks, anomaly);
        shared.audit.attach(&shared.metrics);
        Ok(Gateway {
            state: AppState::new(runtime, shared),
            tls,
        })
    }

    /// Re-reads the configuration and swaps it in; on any error the running
    /// configuration stays. The listen address, store and audit target are
    /// fixed for the process's life.
    pub fn reload(&self, path: &Path, env: &dyn Env) -> Result<(), ServerError> {
        let cfg = GatewayConfig::load(path, env)?;
        let old = self.state.runtime();
        if cfg.listen != old.cfg.listen
            || cfg.store != old.cfg.store
            || cfg.audit != old.cfg.audit
            || cfg.audit_sinks != old.cfg.audit_sinks
            || cfg.audit_spool != old.cfg.audit_spool
        {
            tracing::warn!("listen, store and audit changes take effect on restart only");
        }
        if let (Some(t), Some(slot)) = (&cfg.tls, &self.tls) {
            slot.store(Arc::new(server_tls(t)?));
        }
        let rt = Runtime::new(cfg)?;
        rt.start_health_checks();
        self.state.reload(rt);
        Ok(())
    }

    /// Serves on `listener` until `shutdown` completes, then stops accepting
    /// and waits up to the drain timeout for open requests and streams.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), ServerError> {
        self.accept_until(listener, shutdown).await;
        self.finish();
        Ok(())
    }

    /// Opens the listeners of [`Gateway::serve_workers`]: `workers` sockets
    /// listening on `addr` with `SO_REUSEPORT`, so that the kernel spreads
    /// new connections over the serving threads. Port 0 is resolved once,
    /// and every socket takes the same port. Connections queue from the
    /// moment this returns.
    pub fn bind_workers(addr: SocketAddr, workers: usize) -> Result<Listeners, ServerError> {
        use socket2::{Domain, Socket, Type};
        let open = |a: SocketAddr| -> std::io::Result<std::net::TcpListener> {
            let s = Socket::new(Domain::for_address(a), Type::STREAM, None)?;
            s.set_reuse_address(true)?;
            #[cfg(unix)]
            s.set_reuse_port(true)?;
            s.set_nonblocking(true)?;
            s.bind(&a.into())?;
            s.listen(4096)?;
            Ok(s.into())
        };
        let err = |e: std::io::Error| ServerError::Io(format!("cannot listen on {addr}: {e}"));
        let first = open(addr).map_err(err)?;
        let local = first.local_addr().map_err(err)?;
        let mut sockets = vec![first];
        // Without SO_REUSEPORT only one socket can take the port.
        let n = if cfg!(unix) { workers.max(1) } else { 1 };
        for _ in 1..n {
            sockets.push(open(local).map_err(err)?);
        }
        Ok(Listeners {
            addr: local,
            sockets,
        })
    }

    /// Serves with one thread per listener, each running its own
    /// single-threaded tokio runtime: a connection, its requests and its
    /// upstream connections stay on the thread that accepted it, so serving
    /// a request wakes no other thread. `control` runs on the first thread
    /// beside its listener (signal handlers, reloads); when it returns, every
    /// thread stops accepting and drains its open requests and streams (up
    /// to the drain timeout), and the audit sinks are flushed.
    pub fn serve_workers<F, Fut>(
        self: &Arc<Self>,
        listeners: Listeners,
        control: F,
    ) -> Result<(), ServerError>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stop_tx = Arc::new(stop_tx);
        let n = listeners.sockets.len();
        // Runtimes first: if one cannot start, no thread has started.
        let runtimes = (0..n)
            .map(|_| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| ServerError::Io(format!("cannot start a runtime: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let drained = Arc::new(Drained::new(n));
        let mut control = Some(control);
        let mut threads = Vec::with_capacity(n);
        let mut spawn_error = None;
        for (i, (socket, rt)) in listeners.sockets.into_iter().zip(runtimes).enumerate() {
            let gw = Arc::clone(self);
            let stop_all = Arc::clone(&stop_tx);
            let mut stop = stop_rx.clone();
            let drained_here = Arc::clone(&drained);
            let control = control.take();
            let spawned = std::thread::Builder::new()
                .name(format!("palisade-gw-{i}"))
                .spawn(move || -> Result<(), ServerError> {
                    WORKER.with(|w| w.set(i));
                    rt.block_on(async move {
                        let result = match TcpListener::from_std(socket) {
                            Ok(listener) => {
                                let control = async {
                                    if let Some(control) = control {
                                        gw.state.runtime().start_health_checks();
                                        control().await;
                                        let _ = stop_all.send(true);
                                    }
                                };
                                let serve = gw.accept_until(listener, async move {
                                    let _ = stop.wait_for(|s| *s).await;
                                });
                                tokio::join!(control, serve);
                                Ok(())
                            }
                            Err(e) => {
                                // One thread short: stop them all.
                                let _ = stop_all.send(true);
                                Err(ServerError::Io(format!("cannot listen: {e}")))
                            }
                        };
                        // Every runtime stays up until all have drained: a
                        // connection one of them drives (Redis) may serve
                        // the others' last requests.
                        drained_here.done(1);
                        drained_here.wait().await;
                        if i == 0 {
                            gw.finish();
                        }
                        result
                    })
                });
            match spawned {
                Ok(t) => threads.push(t),
                Err(e) => {
                    let _ = stop_tx.send(true);
                    drained.done(n - i);
                    spawn_error = Some(ServerError::Io(format!(
                        "cannot start a serving thread: {e}"
                    )));
                    break;
                }
            }
        }
        let mut result = spawn_error.map_or(Ok(()), Err);
        for t in threads {
            match t.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => result = Err(e),
                Err(_) => result = Err(ServerError::Io("a serving thread panicked".into())),
            }
        }
        result
    }

    /// Accepts connections on `listener` until `shutdown` completes, then
    /// waits up to the drain timeout for the ones it accepted.
    async fn accept_until(&self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let router = app(self.state.clone());
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(Duration::from_secs(30));
        builder
            .http2()
            .timer(hyper_util::rt::TokioTimer::new())
            .max_concurrent_streams(1024);
        let builder = Arc::new(builder);
        tokio::pin!(shutdown);
        loop {
            let (stream, _peer) = tokio::select! {
                r = listener.accept() => match r {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let svc = TowerToHyperService::new(router.clone());
            let builder = Arc::clone(&builder);
            match &self.tls {
                None => {
                    let conn = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), svc)
                        .into_owned();
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
                Some(tls) => {
                    let acceptor = tokio_rustls::TlsAcceptor::from(tls.load_full());
                    let watcher = graceful.watcher();
                    tokio::spawn(async move {
                        let Ok(Ok(tls_stream)) =
                            tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                                .await
                        else {
                            return;
                        };
                        let conn = builder
                            .serve_connection_with_upgrades(TokioIo::new(tls_stream), svc)
                            .into_owned();
                        let _ = watcher.watch(conn).await;
                    });
                }
            }
        }
        drop(listener);
        self.state
            .shared()
            .draining
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let drain = self.state.runtime().cfg.drain_timeout;
        if tokio::time::timeout(drain, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("drain timeout: closing the connections still open");
        }
    }

    /// After the last connection: stops health checks and flushes the audit.
    fn finish(&self) {
        self.state.runtime().stop_health_checks();
        // What the SIEM sinks have queued goes to their spools.
        self.state.shared().audit.close();
    }
}

/// The listening sockets of [`Gateway::serve_workers`], one per thread.
#[derive(Debug)]
pub struct Listeners {
    /// The address they listen on (port 0 resolved).
    pub addr: SocketAddr,
    sockets: Vec<std::net::TcpListener>,
}

/// Serving threads still draining; each waits until none is left.
#[derive(Debug)]
struct Drained {
    left: std::sync::atomic::AtomicUsize,
    all: tokio::sync::Notify,
}

impl Drained {
    fn new(n: usize) -> Drained {
        Drained {
            left: std::sync::atomic::AtomicUsize::new(n),
            all: tokio::sync::Notify::new(),
        }
    }

    /// `k` threads are done (or will never start).
    fn done(&self, k: usize) {
        use std::sync::atomic::Ordering::SeqCst;
        if self.left.fetch_sub(k, SeqCst) == k {
            self.all.notify_waiters();
        }
    }

    async fn wait(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        loop {
            let all = self.all.notified();
            tokio::pin!(all);
            all.as_mut().enable();
            if self.left.load(SeqCst) == 0 {
                return;
            }
            all.await;
        }
    }
}

thread_local! {
    static WORKER: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The index of the serving thread this runs on among
/// [`Gateway::serve_workers`]'s threads; 0 on any other thread.
pub fn worker_index() -> usize {
    WORKER.with(std::cell::Cell::get)
}

#[cfg(test)]
mod tests {
    use super::Drained;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn drained_waits_for_every_thread() {
        let d = Arc::new(Drained::new(3));
        let waiter = {
            let d = Arc::clone(&d);
            tokio::spawn(async move {
                d.done(1);
                d.wait().await;
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "returned with two threads left");
        d.done(1);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "returned with one thread left");
        // The last thread never started: counted as done.
        d.done(1);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("still waiting with none left")
            .unwrap();
        // Once none is left, waiting returns at once.
        tokio::time::timeout(Duration::from_secs(5), d.wait())
            .await
            .unwrap();
    }
}
