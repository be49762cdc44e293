//! The audit webhook receiver: the API server's webhook backend POSTs
//! EventList batches (`--audit-webhook-config-file`), as to Falco's k8saudit
//! plugin. Every event goes through the detection [`Engine`]; findings go to
//! a callback (a SIEM forwarder, standard output).
//!
//! `POST /k8s-audit` (or `/`): an EventList, an Event or JSON lines; answers
//! `200 {"events":N,"findings":M}`, or `400` when nothing in the body was an
//! audit event. `GET /healthz`, `GET /readyz`: `ok`. Bodies are capped.

use crate::detect::{AuditFinding, Engine};
use crate::k8s::read_events;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use std::sync::{Arc, Mutex};

/// Largest request body accepted (the API server's default batch is far smaller).
pub const MAX_BODY: usize = 64 << 20;

/// Where findings go.
pub type OnFinding = dyn Fn(AuditFinding) + Send + Sync;

/// Where raw events go (their JSON).
pub type OnEvent = dyn Fn(&str) + Send + Sync;

/// The receiver's state.
pub struct Receiver {
    engine: Mutex<Engine>,
    on_finding: Box<OnFinding>,
    on_event: Option<Box<OnEvent>>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

impl Receiver {
    /// A receiver running `engine` and handing findings to `on_finding`.
    pub fn new(engine: Engine, on_finding: Box<OnFinding>) -> Receiver {
        Receiver {
            engine: Mutex::new(engine),
            on_finding,
            on_event: None,
        }
    }

    /// Also hands every raw event (its JSON text) to `f` (for SIEM export of raw events).
    #[must_use]
    pub fn with_raw_events(mut self, f: Box<OnEvent>) -> Receiver {
        self.on_event = Some(f);
        self
    }

    /// Handles one POSTed body: (events, findings, diagnostics).
    pub fn handle_body(&self, body: &[u8]) -> (u64, usize, Vec<String>) {
        let mut found = Vec::new();
        let mut diags = Vec::new();
        let mut engine = self
            .engine
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let stats = read_events(
            body,
            &mut |src, ev| {
                engine.process("webhook", src, ev, &mut found);
                if let Some(f) = &self.on_event
                    && let Ok(text) = serde_json::to_string(&crate::detect::EventInfo::of(ev))
                {
                    f(&text);
                }
            },
            &mut |d| diags.push(format!("line {}: {}", d.line, d.message)),
        )
        .unwrap_or_default();
        drop(engine);
        let n = found.len();
        for f in found {
            (self.on_finding)(f);
        }
        (stats.events, n, diags)
    }

    /// Answers one HTTP request.
    pub async fn respond(
        self: Arc<Self>,
        req: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
        let reply = |code: StatusCode, body: String| {
            let mut r = Response::new(Full::new(Bytes::from(body)));
            *r.status_mut() = code;
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            Ok(r)
        };
        match (req.method(), req.uri().path()) {
            (&Method::GET, "/healthz" | "/readyz") => reply(StatusCode::OK, "ok".into()),
            (&Method::POST, "/" | "/k8s-audit") => {
                let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
                    Ok(b) => b.to_bytes(),
                    Err(e) => {
                        return reply(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            serde_json::json!({ "error": e.to_string() }).to_string(),
                        );
                    }
                };
                let this = self.clone();
                let (events, findings, diags) =
                    tokio::task::spawn_blocking(move || this.handle_body(&body))
                        .await
                        .unwrap_or((0, 0, vec!["handler failed".into()]));
                let doc =
                    serde_json::json!({ "events": events, "findings": findings, "errors": diags });
                if events == 0 && !diags.is_empty() {
                    reply(StatusCode::BAD_REQUEST, doc.to_string())
                } else {
                    reply(StatusCode::OK, doc.to_string())
                }
            }
            (_, "/" | "/k8s-audit") => reply(
                StatusCode::METHOD_NOT_ALLOWED,
                "{\"error\":\"POST an EventList\"}".into(),
            ),
            _ => reply(StatusCode::NOT_FOUND, "{\"error\":\"not found\"}".into()),
        }
    }
}

/// TLS for the listener.
pub mod tls {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::path::Path;
    use std::sync::Arc;

    /// Why TLS could not be set up.
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum TlsError {
        /// A PEM file could not be read.
        #[error("{path}: {message}")]
        Pem {
            /// The file.
            path: String,
            /// What is wrong.
            message: String,
        },
        /// rustls refused the configuration.
        #[error("TLS configuration: {0}")]
        Config(#[from] rustls::Error),
        /// The client CA could not be used.
        #[error("client CA: {0}")]
        ClientCa(String),
    }

    fn pem<T>(path: &Path, r: Result<T, rustls::pki_types::pem::Error>) -> Result<T, TlsError> {
        r.map_err(|e| TlsError::Pem {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Reads a certificate chain.
    pub fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
        let certs: Vec<_> = pem(path, CertificateDer::pem_file_iter(path))?
            .collect::<Result<_, _>>()
            .map_err(|e| TlsError::Pem {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
        if certs.is_empty() {
            return Err(TlsError::Pem {
                path: path.display().to_string(),
                message: "no certificate".into(),
            });
        }
        Ok(certs)
    }

    /// A server configuration (ring provider) from PEM files; with
    /// `client_ca`, clients must present a certificate it signed (mTLS, as
    /// the API server's webhook kubeconfig can).
    pub fn server_config(
        cert: &Path,
        key: &Path,
        client_ca: Option<&Path>,
    ) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = certs(cert)?;
        let key = pem(key, PrivateKeyDer::from_pem_file(key))?;
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let cfg = match client_ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for c in certs(ca)? {
                    roots
                        .add(c)
                        .map_err(|e| TlsError::ClientCa(e.to_string()))?;
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .map_err(|e| TlsError::ClientCa(e.to_string()))?;
                builder
                    .with_client_cert_verifier(verifier)
                    .with_single_cert(chain, key)?
            }
            None => builder.with_no_client_auth().with_single_cert(chain, key)?,
        };
        Ok(Arc::new(cfg))
    }
}

/// Serves `receiver` on `listener` (TLS when `tls` is given) until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    receiver: Arc<Receiver>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            () = &mut shutdown => return Ok(()),
            r = listener.accept() => r?,
        };
        let receiver = receiver.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| receiver.clone().respond(req));
            let builder = hyper::server::conn::http1::Builder::new();
            match acceptor {
                Some(a) => {
                    if let Ok(s) = a.accept(stream).await {
                        let _ = builder
                            .serve_connection(hyper_util::rt::TokioIo::new(s), svc)
                            .await;
                    }
                }
                None => {
                    let _ = builder
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                        .await;
                }
            }
        });
    }
}
