//! Syslog (RFC 5424) over TCP with octet-counting framing (RFC 6587 §3.4.1)
//! or over TLS (RFC 5425, the same framing), with CEF messages.

use super::{Delivery, SiemSink, SinkError, SinkRecord, cef};
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// Facility 13, "log audit".
const FACILITY: u8 = 13;

enum Conn {
    Tcp(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Tcp(s) => s,
            Conn::Tls(s) => s.get_ref(),
        }
    }

    /// Whether the peer is still there: syslog receivers never write, so
    /// readable data or end-of-stream means it closed (or is closing) the
    /// connection, and what we would write next could be lost.
    fn alive(&self) -> bool {
        let s = self.tcp();
        if s.set_nonblocking(true).is_err() {
            return false;
        }
        let mut b = [0u8; 1];
        let r = s.peek(&mut b);
        let _ = s.set_nonblocking(false);
        matches!(r, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }

    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Conn::Tcp(s) => s.write_all(b).and_then(|()| s.flush()),
            Conn::Tls(s) => s.write_all(b).and_then(|()| s.flush()),
        }
    }
}

/// A syslog destination.
pub struct SyslogSink {
    addr: String,
    tls: Option<(
        Arc<rustls::ClientConfig>,
        rustls::pki_types::ServerName<'static>,
    )>,
    conn: Option<Conn>,
    hostname: String,
}

impl std::fmt::Debug for SyslogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or_else(|| "-".to_owned())
}

impl SyslogSink {
    /// Plain TCP to `host:port`.
    pub fn tcp(addr: &str) -> Result<SyslogSink, SinkError> {
        if !addr.contains(':') {
            return Err(SinkError::Config(format!(
                "syslog address {addr:?} needs a port"
            )));
        }
        Ok(SyslogSink {
            addr: addr.to_owned(),
            tls: None,
            conn: None,
            hostname: hostname(),
        })
    }

    /// TLS to `host:port`, trusting `ca` (else the Web PKI roots); the
    /// server name is `sni` or the host.
    pub fn tls(
        addr: &str,
        ca: Option<&std::path::Path>,
        sni: Option<&str>,
    ) -> Result<SyslogSink, SinkError> {
        let mut s = SyslogSink::tcp(addr)?;
        let host = sni.unwrap_or_else(|| {
            addr.rsplit_once(':')
                .map_or(addr, |(h, _)| h.trim_matches(['[', ']']))
        });
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| SinkError::Config(format!("server name {host:?}: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| SinkError::Config(e.to_string()))?
            .with_root_certificates(super::roots(ca)?)
            .with_no_client_auth();
        s.tls = Some((Arc::new(cfg), name));
        Ok(s)
    }

    fn connect(&mut self) -> Result<&mut Conn, SinkError> {
        if self.conn.as_ref().is_some_and(Conn::alive) {
            return self
                .conn
                .as_mut()
                .ok_or_else(|| SinkError::Transport("no connection".into()));
        }
        self.conn = None;
        let t = |e: std::io::Error| SinkError::Transport(format!("{}: {e}", self.addr));
        // Try every address the name resolves to (`localhost` is often ::1
        // first while the listener is on 127.0.0.1), as `TcpStream::connect` does.
        let mut last = None;
        let mut tcp = None;
        for sa in self.addr.to_socket_addrs().map_err(t)? {
            match TcpStream::connect_timeout(&sa, Duration::from_secs(5)) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let tcp = match (tcp, last) {
            (Some(s), _) => s,
            (None, Some(e)) => return Err(t(e)),
            (None, None) => return Err(SinkError::Transport(format!("{}: no address", self.addr))),
        };
        tcp.set_write_timeout(Some(Duration::from_secs(10)))
            .map_err(t)?;
        // The TLS handshake reads: a peer that accepts and never answers
        // must fail the batch (and be retried), not hang the forwarder.
        tcp.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(t)?;
        let _ = tcp.set_nodelay(true);
        let conn = match &self.tls {
            None => Conn::Tcp(tcp),
            Some((cfg, name)) => {
                let c = rustls::ClientConnection::new(cfg.clone(), name.clone())
                    .map_err(|e| SinkError::Transport(e.to_string()))?;
                let mut s = rustls::StreamOwned::new(c, tcp);
                // Finish the handshake now so a bad certificate is an error here.
                while s.conn.is_handshaking() {
                    s.conn
                        .complete_io(&mut s.sock)
                        .map_err(|e| SinkError::Transport(format!("{}: TLS: {e}", self.addr)))?;
                }
                Conn::Tls(Box::new(s))
            }
        };
        Ok(self.conn.insert(conn))
    }

    /// One RFC 5424 message: `<PRI>1 TIMESTAMP HOST palisade PID MSGID [SD] CEF...`.
    pub fn message(&self, d: &Delivery<'_>) -> String {
        let (sev, msgid) = match d.record {
            SinkRecord::Finding(f) => {
                let s = f.get("severity").and_then(|v| v.as_str()).unwrap_or("");
                let code = match s {
                    "critical" => 2,
                    "high" => 3,
                    "medium" => 4,
                    "low" => 5,
                    _ => 6,
                };
                (
                    code,
                    f.get("rule")
                        .and_then(|v| v.as_str())
                        .unwrap_or("finding")
                        .to_owned(),
                )
            }
            SinkRecord::AuditEvent(_) => (6, "k8s-audit".to_owned()),
            SinkRecord::GatewayRequest(r) => {
                let deny = r.get("decision").and_then(|v| v.as_str()) == Some("deny");
                (if deny { 5 } else { 6 }, "gateway".to_owned())
            }
        };
        let msgid: String = msgid
            .chars()
            .filter(char::is_ascii_graphic)
            .take(32)
            .collect();
        let sd_id =
            d.id.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace(']', "\\]");
        format!(
            "<{}>1 {} {} palisade {} {} [palisade@32473 deliveryId=\"{sd_id}\"] {}",
            FACILITY * 8 + sev,
            palisade_core::clock::now_rfc3339_micros(),
            self.hostname,
            std::process::id(),
            if msgid.is_empty() {
                "-".to_owned()
            } else {
                msgid
            },
            cef::line(d.record, d.id)
        )
    }
}

impl SiemSink for SyslogSink {
    fn describe(&self) -> String {
        format!(
            "syslog+{}://{}",
            if self.tls.is_some() { "tls" } else { "tcp" },
            self.addr
        )
    }

    fn send(&mut self, batch: &[Delivery<'_>]) -> Result<(), SinkError> {
        let mut buf = Vec::new();
        for d in batch {
            let m = self.message(d);
            buf.extend_from_slice(format!("{} ", m.len()).as_bytes());
            buf.extend_from_slice(m.as_bytes());
        }
        let addr = self.addr.clone();
        let conn = self.connect()?;
        if let Err(e) = conn.write_all(&buf) {
            self.conn = None;
            return Err(SinkError::Transport(format!("{addr}: {e}")));
        }
        // TCP syslog has no acknowledgements: a receiver that dies after
        // accepting bytes into its socket buffer loses them (RELP would not);
        // one that closed the connection is noticed before the next batch.
        Ok(())
    }
}
