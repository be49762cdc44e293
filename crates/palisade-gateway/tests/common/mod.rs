//! Test support: a real stand-in upstream on a loopback port, a gateway on
//! another, and a small HTTP client.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::panic)]

use axum::body::Body;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use palisade_gateway::config::{Env, GatewayConfig};
use palisade_gateway::hooks::ProxyHooks;
use palisade_gateway::server::Gateway;
use palisade_gateway::standin::{StandInConfig, StandInState};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub const KEY: &str = "sk-test-0123456789abcdef";

pub struct TestEnv;
impl Env for TestEnv {
    fn var(&self, name: &str) -> Option<String> {
        match name {
            "TEST_KEY" => Some(KEY.to_owned()),
            "TEST_KEY_B" => Some("sk-test-other".to_owned()),
            _ => None,
        }
    }
}

pub struct StandIn {
    pub addr: SocketAddr,
    pub state: Arc<StandInState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub async fn stand_in(delay_ms: u64, tokens: u64) -> StandIn {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let state = Arc::new(StandInState::default());
    let (tx, rx) = tokio::sync::oneshot::channel();
    let cfg = StandInConfig {
        chunk_delay: Duration::from_millis(delay_ms),
        answer_tokens: tokens,
        ..StandInConfig::default()
    };
    let st = Arc::clone(&state);
    tokio::spawn(async move {
        let _ = palisade_gateway::standin::serve(l, cfg, st, async {
            let _ = rx.await;
        })
        .await;
    });
    StandIn {
        addr,
        state,
        stop: Some(tx),
    }
}

impl StandIn {
    /// Waits (up to 2.5 s) until a stream has sent its first chunk.
    pub async fn first_chunk_sent(&self) {
        for _ in 0..500 {
            if self
                .state
                .chunks_sent
                .load(std::sync::atomic::Ordering::Relaxed)
                > 0
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn config(yaml: &str) -> GatewayConfig {
    GatewayConfig::parse("test.yaml", yaml, Path::new("."), &TestEnv).unwrap()
}

pub struct Running {
    pub addr: SocketAddr,
    pub gw: Arc<Gateway>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub done: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(d) = self.done.take() {
            d.await.unwrap();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub async fn gateway(cfg: GatewayConfig, hooks: Vec<Arc<dyn ProxyHooks>>) -> Running {
    let gw = Arc::new(Gateway::new(cfg, hooks).unwrap());
    gw.state.runtime().start_health_checks();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let g = Arc::clone(&gw);
    let done = tokio::spawn(async move {
        g.serve(l, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Running {
        addr,
        gw,
        stop: Some(tx),
        done: Some(done),
    }
}

pub fn client() -> Client<HttpConnector, Body> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub async fn post(
    addr: SocketAddr,
    path: &str,
    key: Option<&str>,
    body: &serde_json::Value,
) -> Reply {
    send(addr, "POST", path, key, Bytes::from(body.to_string())).await
}

pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Bytes,
) -> Reply {
    let mut b = http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header("content-type", "application/json");
    if let Some(k) = key {
        b = b.header("authorization", format!("Bearer {k}"));
    }
    let resp = tokio::time::timeout(
        Duration::from_secs(60),
        client().request(b.body(Body::from(body)).unwrap()),
    )
    .await
    .expect("request timed out")
    .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = tokio::time::timeout(Duration::from_secs(60), resp.into_body().collect())
        .await
        .expect("body timed out")
        .unwrap()
        .to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

pub fn chat(content: &str, stream: bool, max_tokens: u64) -> serde_json::Value {
    serde_json::json!({"model": "demo-model", "stream": stream, "max_tokens": max_tokens, "messages": [{"role": "user", "content": content}]})
}

/// The concatenated delta contents of an SSE chat stream.
pub fn sse_text(body: &str) -> String {
    let mut s = String::new();
    for l in body.lines() {
        if let Some(d) = l.strip_prefix("data: ")
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(d)
        {
            for c in v["choices"].as_array().cloned().unwrap_or_default() {
                s.push_str(
                    c["delta"]["content"]
                        .as_str()
                        .or(c["text"].as_str())
                        .unwrap_or_default(),
                );
            }
        }
    }
    s
}

pub fn base_yaml(upstream: SocketAddr, tenant_extra: &str) -> String {
    format!(
        "listen: 127.0.0.1:0\naudit: {{path: 'off'}}\nupstreams:\n  - name: primary\n    url: http://{upstream}\n    models: [demo-model]\nroutes:\n  - {{prefix: /v2/, upstream: primary}}\ntenants:\n  - id: demo\n    apiKeys: [{{env: TEST_KEY}}]\n    maxTokens: 64\n{tenant_extra}"
    )
}
