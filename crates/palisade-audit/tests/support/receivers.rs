//! Real local receivers for SIEM sink tests: an RFC 6587 octet-counting
//! syslog TCP listener and an HTTP receiver (hyper), both stoppable and
//! restartable on the same port. Shared by `palisade-audit`'s sink tests and
//! the gateway's (`#[path]`-included there), so both test against the same
//! receivers.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads RFC 6587 octet-counted frames.
pub fn frames(r: &mut impl BufRead, out: &Mutex<Vec<String>>) {
    loop {
        let mut len = Vec::new();
        if r.read_until(b' ', &mut len).unwrap_or(0) == 0 {
            return;
        }
        let Ok(n) = std::str::from_utf8(&len[..len.len() - 1])
            .unwrap_or("x")
            .parse::<usize>()
        else {
            return;
        };
        let mut msg = vec![0u8; n];
        if r.read_exact(&mut msg).is_err() {
            return;
        }
        out.lock().unwrap().push(String::from_utf8(msg).unwrap());
    }
}

/// A TCP syslog receiver that can be stopped (listener and connections closed).
pub struct SyslogReceiver {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SyslogReceiver {
    pub fn start(port: u16, got: Arc<Mutex<Vec<String>>>) -> SyslogReceiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut conns: Vec<TcpStream> = Vec::new();
            let mut readers = Vec::new();
            while !s.load(std::sync::atomic::Ordering::SeqCst) {
                if let Ok((c, _)) = listener.accept() {
                    c.set_nonblocking(false).unwrap();
                    conns.push(c.try_clone().unwrap());
                    let got = got.clone();
                    readers.push(std::thread::spawn(move || {
                        frames(&mut BufReader::new(c), &got);
                    }));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            for c in conns {
                let _ = c.shutdown(std::net::Shutdown::Both);
            }
            for r in readers {
                let _ = r.join();
            }
        });
        SyslogReceiver {
            stop,
            thread: Some(thread),
        }
    }
    pub fn stop(mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn delivery_id(msg: &str) -> u64 {
    let at = msg.find("deliveryId=\"").unwrap() + 12;
    let id = &msg[at..at + msg[at..].find('"').unwrap()];
    id.rsplit(':').next().unwrap().parse().unwrap()
}

/// Deduplicates by key, keeping first arrival, and checks the order.
pub fn assert_complete_in_order(ids: &[u64], n: u64) {
    let mut seen = std::collections::HashSet::new();
    let firsts: Vec<u64> = ids.iter().copied().filter(|i| seen.insert(*i)).collect();
    assert_eq!(
        firsts,
        (0..n).collect::<Vec<_>>(),
        "lost or reordered: {ids:?}"
    );
}

/// An HTTP receiver (hyper on its own runtime) that records requests; it can be stopped.
pub struct HttpReceiver {
    rt: tokio::runtime::Runtime,
    task: tokio::task::JoinHandle<()>,
}

pub type Seen = Arc<Mutex<Vec<(hyper::HeaderMap, Vec<u8>)>>>;

impl HttpReceiver {
    pub fn start(port: u16, seen: Seen) -> HttpReceiver {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
            .unwrap();
        let task = rt.spawn(async move {
            loop {
                let Ok((s, _)) = listener.accept().await else {
                    return;
                };
                let seen = seen.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let seen = seen.clone();
                            async move {
                                let headers = req.headers().clone();
                                let body = http_body_util::BodyExt::collect(req.into_body())
                                    .await
                                    .unwrap()
                                    .to_bytes()
                                    .to_vec();
                                seen.lock().unwrap().push((headers, body));
                                Ok::<_, std::convert::Infallible>(hyper::Response::new(
                                    http_body_util::Full::new(hyper::body::Bytes::from_static(
                                        b"{\"text\":\"Success\",\"code\":0}",
                                    )),
                                ))
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(s), svc)
                        .await;
                });
            }
        });
        HttpReceiver { rt, task }
    }
    pub fn stop(self) {
        self.task.abort();
        self.rt.shutdown_timeout(Duration::from_secs(2));
    }
}
