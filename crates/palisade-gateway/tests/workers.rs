//! The gateway's serving threads (`Gateway::serve_workers`): several
//! single-threaded runtimes, each with its own SO_REUSEPORT listener and
//! upstream connections, that share budgets and audit and drain together.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{KEY, chat, config, post, sse_text, stand_in};
use palisade_gateway::server::Gateway;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

const WORKERS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_share_the_port_and_budgets_and_drain_together() {
    let up = stand_in(30, 10).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let yaml = format!(
        "listen: 127.0.0.1:0\nworkers: {WORKERS}\naudit: {{path: '{}'}}\nupstreams:\n  - name: primary\n    url: http://{}\n    models: [demo-model]\ntenants:\n  - id: demo\n    apiKeys: [{{env: TEST_KEY}}]\n    maxTokens: 64\n    budgets: [{{window: day, tokens: 1000000}}]\n",
        audit.display(),
        up.addr
    );
    let cfg = config(&yaml);
    assert_eq!(cfg.worker_count(), WORKERS);
    let gw = Arc::new(Gateway::new(cfg, vec![]).unwrap());
    let listeners = Gateway::bind_workers(cfg_addr(), WORKERS).unwrap();
    let addr = listeners.addr;
    assert_ne!(addr.port(), 0, "port 0 is resolved once for every socket");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let g = Arc::clone(&gw);
    let served = std::thread::spawn(move || {
        g.serve_workers(listeners, move || async move {
            let _ = stop_rx.await;
        })
    });

    // Every request on a new connection: the kernel spreads them over the
    // listeners (60 connections over 3 sockets).
    let n = 60;
    for i in 0..n {
        let r = post(
            addr,
            "/v1/chat/completions",
            Some(KEY),
            &chat(&format!("question {i}"), false, 4),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(up.state.requests.load(Ordering::Relaxed), n);
    // Each thread keeps its own upstream connection (sequential requests
    // reuse it): more than one thread served, and none opened more.
    let conns = up.state.connections.load(Ordering::Relaxed);
    assert!(
        (2..=WORKERS as u64).contains(&conns),
        "{conns} upstream connections for {WORKERS} serving threads"
    );
    // One budget across threads: the spend of every request is there.
    let b = gw.state.runtime().cfg.tenants[0].budgets[0];
    let store = Arc::clone(&gw.state.shared().store);
    let mut spent = 0;
    for _ in 0..100 {
        spent = store
            .spent("demo", &b, palisade_gateway::store::now_us())
            .await
            .unwrap();
        if spent >= n * 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(spent >= n * 4, "budget spent {spent} for {n} requests");

    // Shut down while a stream is open: it finishes, then serve_workers returns.
    let stream = tokio::spawn(async move {
        post(
            addr,
            "/v1/chat/completions",
            Some(KEY),
            &chat("hi", true, 10),
        )
        .await
    });
    up.first_chunk_sent().await;
    stop_tx.send(()).unwrap();
    let r = stream.await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        sse_text(&r.body),
        " The quick brown fox jumps over the lazy dog."
    );
    tokio::task::spawn_blocking(move || served.join().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still listening"
    );
    // Every decision of every thread is in the audit log once they are done.
    let lines = std::fs::read_to_string(&audit).unwrap().lines().count();
    assert_eq!(lines, usize::try_from(n).unwrap() + 1);
}

#[test]
fn a_port_in_use_is_an_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = Gateway::bind_workers(taken.local_addr().unwrap(), 2).unwrap_err();
    assert!(err.to_string().contains("cannot listen on"), "{err}");
}

#[test]
fn workers_are_bounded_in_the_configuration() {
    let up: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
    let base = format!("upstreams:\n  - {{name: a, url: 'http://{up}'}}\n");
    let e = palisade_gateway::config::GatewayConfig::parse(
        "t.yaml",
        &format!("workers: 100000\n{base}"),
        std::path::Path::new("."),
        &common::TestEnv,
    )
    .unwrap_err();
    assert!(e.to_string().contains("workers must be between 0"), "{e}");
    let c = config(&format!("workers: 0\n{base}"));
    assert!(c.worker_count() >= 1);
}

fn cfg_addr() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}
