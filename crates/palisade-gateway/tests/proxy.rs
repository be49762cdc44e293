//! The proxy end to end: real sockets, a real streaming stand-in upstream.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use axum::body::Body;
use bytes::Bytes;
use common::*;
use http_body_util::BodyExt;
use palisade_gateway::config::TenantConfig;
use palisade_gateway::error::ApiError;
use palisade_gateway::hooks::{ProxyHooks, RequestCtx, TextFilter};
use palisade_gateway::openai::ParsedRequest;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// Pipeline-contract hooks: refuse prompts containing a marker, and redact a
/// word from answers even when it is split across chunks. Stand-ins for the
/// palisade-guard detectors, which plug into the same hook points.
struct MarkerHooks;

struct WordFilter {
    held: String,
    n: usize,
}

const WORD: &str = "sk-SECRET";

impl TextFilter for WordFilter {
    fn push(&mut self, t: &str) -> String {
        self.held.push_str(t);
        let replaced = self.held.replace(WORD, "[REDACTED]");
        if replaced != self.held {
            self.n += 1;
        }
        let keep = (1..WORD.len())
            .rev()
            .find(|k| replaced.ends_with(&WORD[..*k]))
            .unwrap_or(0);
        let cut = replaced.len() - keep;
        replaced[cut..].clone_into(&mut self.held);
        replaced[..cut].to_owned()
    }
    fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
    fn redactions(&self) -> usize {
        self.n
    }
}

impl ProxyHooks for MarkerHooks {
    fn request_filter(
        &self,
        ctx: &mut RequestCtx,
        _t: &TenantConfig,
        req: &ParsedRequest,
    ) -> Result<(), ApiError> {
        if req.prompt_text().contains("BLOCK-ME") {
            ctx.rules.push("PLS-GW-007");
            return Err(ApiError::injection(0.99, &["test-marker".into()]));
        }
        Ok(())
    }
    fn response_text_filter(&self, _t: &TenantConfig) -> Option<Box<dyn TextFilter>> {
        Some(Box::new(WordFilter {
            held: String::new(),
            n: 0,
        }))
    }
}

fn hooks() -> Vec<Arc<dyn ProxyHooks>> {
    vec![Arc::new(MarkerHooks)]
}

#[tokio::test]
async fn router_answers_without_sockets() {
    let cfg = config(&base_yaml(
        "127.0.0.1:9".parse().unwrap(),
        "    models: [demo-model]\n",
    ));
    let gw = palisade_gateway::server::Gateway::new(cfg, vec![]).unwrap();
    let app = palisade_gateway::app(gw.state.clone());
    let r = app
        .clone()
        .oneshot(http::Request::get("/healthz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // No key: 401 with an OpenAI-style body.
    let r = app
        .clone()
        .oneshot(
            http::Request::post("/v1/chat/completions")
                .body(Body::from(chat("hi", false, 5).to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v: serde_json::Value =
        serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(v["error"]["type"], "authentication_error");
    assert!(v["error"].get("param").is_some() && v["error"].get("code").is_some());
    // Bad JSON: 400.
    let req = |body: &'static str| {
        http::Request::post("/v1/chat/completions")
            .header("authorization", format!("Bearer {KEY}"))
            .body(Body::from(body))
            .unwrap()
    };
    let r = app.clone().oneshot(req("{\"model\":")).await.unwrap();
    assert_eq!(r.status(), 400);
    // A model the tenant may not use: 403.
    let r = app
        .clone()
        .oneshot(req(
            r#"{"model":"other","messages":[{"role":"user","content":"x"}]}"#,
        ))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Too large: 413.
    let big = format!(
        r#"{{"model":"demo-model","messages":[{{"role":"user","content":"{}"}}]}}"#,
        "a".repeat(2 << 20)
    );
    let r = app
        .clone()
        .oneshot(
            http::Request::post("/v1/chat/completions")
                .header("authorization", format!("Bearer {KEY}"))
                .body(Body::from(big))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // Metrics count the denials by rule.
    let r = app
        .oneshot(http::Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let text =
        String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(
        text.contains("palisade_gateway_denials_total{tenant=\"-\",rule=\"PLS-GW-001\"} 1"),
        "{text}"
    );
    assert!(text.contains("rule=\"PLS-GW-011\""), "{text}");
}

#[tokio::test]
async fn non_streamed_chat_is_proxied_capped_and_settled() {
    let up = stand_in(0, 200).await;
    let gw = gateway(config(&base_yaml(up.addr, "")), hooks()).await;
    let r = post(
        gw.addr,
        "/v1/chat/completions",
        Some(KEY),
        &chat("hello there", false, 10_000),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    // maxTokens: 64 caps the client's 10000; the stand-in obeys it.
    assert_eq!(v["usage"]["completion_tokens"], 64);
    let sent = up.state.last_body.lock().unwrap().clone().unwrap();
    assert_eq!(sent["max_tokens"], 64);
    assert!(r.headers.contains_key("x-request-id"));
    // The tenant's key never reaches the upstream: the stand-in saw no authorization.
    let metrics = send(gw.addr, "GET", "/metrics", None, Bytes::new())
        .await
        .body;
    assert!(metrics.contains("palisade_gateway_tokens_total{tenant=\"demo\",model=\"demo-model\",kind=\"completion\"} 64"), "{metrics}");
    // The cached series are the families' own: one request each.
    assert!(metrics.contains("palisade_gateway_requests_total{tenant=\"demo\",model=\"demo-model\",endpoint=\"chat\",status=\"200\"} 1"), "{metrics}");
    assert!(
        metrics.contains("palisade_gateway_request_duration_seconds_count{endpoint=\"chat\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_gateway_response_latency_seconds_count{endpoint=\"chat\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "palisade_gateway_reserved_tokens_total{tenant=\"demo\",model=\"demo-model\"} "
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn stream_chunks_pass_before_the_answer_is_complete() {
    let up = stand_in(0, 8).await;
    let gate = Arc::new(tokio::sync::Notify::new());
    *up.state.gate.lock().unwrap() = Some(Arc::clone(&gate));
    let gw = gateway(config(&base_yaml(up.addr, "")), hooks()).await;
    let req = http::Request::post(format!("http://{}/v1/chat/completions", gw.addr))
        .header("authorization", format!("Bearer {KEY}"))
        .body(Body::from(chat("hi", true, 8).to_string()))
        .unwrap();
    let resp = client().request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.into_body();
    // The upstream holds the rest of the answer until we have seen the first
    // word: a gateway that buffered the answer would never deliver it.
    let mut seen = String::new();
    while !sse_text(&seen).contains("The") {
        let f = tokio::time::timeout(Duration::from_secs(30), body.frame())
            .await
            .expect("first chunk never arrived")
            .unwrap()
            .unwrap();
        if let Ok(d) = f.into_data() {
            seen.push_str(&String::from_utf8_lossy(&d));
        }
    }
    assert_eq!(
        up.state
            .chunks_sent
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    gate.notify_one();
    let tail = tokio::time::timeout(Duration::from_secs(30), body.collect())
        .await
        .unwrap()
        .unwrap()
        .to_bytes();
    seen.push_str(&String::from_utf8_lossy(&tail));
    assert_eq!(sse_text(&seen), " The quick brown fox jumps over the lazy");
    assert!(seen.ends_with("data: [DONE]\n\n"));
    // include_usage was forced upstream but the client did not ask: no usage chunk.
    assert!(!seen.contains("\"usage\":{"), "{seen}");
    let sent = up.state.last_body.lock().unwrap().clone().unwrap();
    assert_eq!(sent["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn secrets_split_across_sse_chunks_are_redacted() {
    let up = stand_in(1, 8).await;
    let gw = gateway(config(&base_yaml(up.addr, "")), hooks()).await;
    // The stand-in echoes in three-character chunks: "sk-" "SEC" "RET" ...
    let r = post(
        gw.addr,
        "/v1/chat/completions",
        Some(KEY),
        &chat("echo:sk-SECRET is here", true, 64),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(sse_text(&r.body), "[REDACTED] is here");
    assert!(!r.body.contains("SECRET"));
    let r = post(
        gw.addr,
        "/v1/chat/completions",
        Some(KEY),
        &chat("echo:sk-SECRET is here", false, 64),
    )
    .await;
    assert_eq!(
        r.json()["choices"][0]["message"]["content"],
        "[REDACTED] is here"
    );
    let r = post(
        gw.addr,
        "/v1/responses",
        Some(KEY),
        &json!({"model": "demo-model", "input": "echo:my sk-SECRET!", "stream": true}),
    )
    .await;
    assert!(!r.body.contains("SECRET"), "{}", r.body);
    assert!(r.body.contains("my [REDACTED]!"));
}

#[tokio::test]
async fn request_filter_refuses_before_anything_is_reserved() {
    let up = stand_in(0, 4).await;
    let gw = gateway(config(&base_yaml(up.addr, "")), hooks()).await;
    let r = post(
        gw.addr,
        "/v1/chat/completions",
        Some(KEY),
        &chat("please BLOCK-ME now", false, 4),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], "prompt_injection");
    assert_eq!(
        up.state.requests.load(std::sync::atomic::Ordering::Relaxed),
        0,
        "never forwarded"
    );
}

#[tokio::test]
async fn budget_denial_is_429_with_retry_after_naming_the_limit() {
    let up = stand_in(0, 4).await;
    let gw = gateway(
        config(&base_yaml(
            up.addr,
            "    budgets: [{window: day, tokens: 90}]\n",
        )),
        hooks(),
    )
    .await;
    // Each request reserves prompt (8) + 64; the stand-in answers 4 tokens (13 with the prompt).
    let r = post(
        gw.addr,
        "/v1/chat/completions",
        Some(KEY),
        &chat("hello", false, 64),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = post(
        gw.addr,
        "/v1/chat/completions",
        Some(KEY),
        &chat("hello", false, 64),
    )
    .await;
    assert_eq!(
        r.status, 200,
        "the first settled at its real usage (13), so a second fits: {}",
        r.body
    );
    // 26 spent: 26 + 72 > 90.
    let r = post(
        gw.addr,
        "/v1/chat/completions",
        Some(KEY),
        &chat("hello", false, 64),
    )
    .await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(
        r.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    let v = r.json();
    assert_eq!(v["error"]["code"], "token_budget_exceeded");
    assert!(v["error"]["message"].as_str().unwrap().contains("per day"));
}

#[tokio::test]
async fn hundred_concurrent_requests_never_overspend() {
    let up = stand_in(2, 40).await;
    let budget = 2000;
    let gw = gateway(
        config(&base_yaml(
            up.addr,
            &format!("    budgets: [{{window: day, tokens: {budget}}}]\n"),
        )),
        hooks(),
    )
    .await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let addr = gw.addr;
        tasks.push(tokio::spawn(async move {
            post(
                addr,
                "/v1/chat/completions",
                Some(KEY),
                &chat(&format!("request number {i}"), i % 2 == 0, 40),
            )
            .await
            .status
        }));
    }
    let mut ok = 0;
    let mut limited = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            429 => limited += 1,
            s => panic!("unexpected status {s}"),
        }
    }
    assert_eq!(ok + limited, 100);
    assert!(ok > 0 && limited > 0, "ok {ok}, limited {limited}");
    // Settlement runs in the background: wait until nothing is reserved.
    let rt = gw.gw.state.runtime();
    let b = rt.cfg.tenants[0].budgets[0];
    let store = Arc::clone(&gw.gw.state.shared().store);
    let mut spent = 0;
    for _ in 0..100 {
        spent = store
            .spent("demo", &b, palisade_gateway::store::now_us())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        if spent
            == store
                .spent("demo", &b, palisade_gateway::store::now_us())
                .await
                .unwrap()
            && spent > 0
        {
            break;
        }
    }
    let one_reservation = 12 + 40 + 8;
    assert!(
        spent <= budget + one_reservation,
        "spent {spent} of {budget}"
    );
    let produced = up
        .state
        .completion_tokens
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        produced,
        ok * 40,
        "each admitted request produced its 40 tokens"
    );
}

#[tokio::test]
async fn failover_to_the_next_upstream_and_health_checks() {
    let good = stand_in(0, 4).await;
    let bad = stand_in(0, 4).await;
    bad.state
        .down
        .store(true, std::sync::atomic::Ordering::Relaxed);
    // A closed port and a 503-answering stand-in come first; the good one last.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let yaml = format!(
        "audit: {{path: 'off'}}\nupstreams:\n  - {{name: closed, url: 'http://{closed}', priority: 0}}\n  - {{name: bad, url: 'http://{}', priority: 1, health: {{path: /health, interval: 100ms, unhealthyAfter: 1}}}}\n  - {{name: good, url: 'http://{}', priority: 2}}\ntenants:\n  - id: demo\n    apiKeys: [{{env: TEST_KEY}}]\n",
        bad.addr, good.addr
    );
    let gw = gateway(config(&yaml), vec![]).await;
    for _ in 0..3 {
        let r = post(
            gw.addr,
            "/v1/chat/completions",
            Some(KEY),
            &chat("hi", false, 4),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(
        good.state
            .requests
            .load(std::sync::atomic::Ordering::Relaxed),
        3
    );
    // The health check takes `bad` out; /metrics shows it.
    let rt = gw.gw.state.runtime();
    let bad_up = rt.pool.by_name("bad").unwrap();
    for _ in 0..200 {
        if !bad_up.is_healthy() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!bad_up.is_healthy());
    assert!(
        !rt.pool.by_name("closed").unwrap().is_healthy(),
        "connection errors mark an upstream down"
    );
    bad.state
        .down
        .store(false, std::sync::atomic::Ordering::Relaxed);
    for _ in 0..200 {
        if bad_up.is_healthy() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        bad_up.is_healthy(),
        "recovers when its health check passes again"
    );
}

#[tokio::test]
async fn passthrough_routes_and_models() {
    let up = stand_in(0, 4).await;
    let gw = gateway(config(&base_yaml(up.addr, "")), vec![]).await;
    let r = send(gw.addr, "GET", "/v2/health/ready", Some(KEY), Bytes::new()).await;
    assert_eq!(r.status, 200);
    let r = send(gw.addr, "GET", "/v2/health/ready", None, Bytes::new()).await;
    assert_eq!(r.status, 401);
    let r = send(gw.addr, "GET", "/nothing/here", Some(KEY), Bytes::new()).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "not_found");
    let r = send(gw.addr, "GET", "/v1/models", Some(KEY), Bytes::new()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["data"][0]["id"], "demo-model");
    let r = post(
        gw.addr,
        "/v1/embeddings",
        Some(KEY),
        &json!({"model": "demo-model", "input": ["a", "b"]}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["data"].as_array().unwrap().len(), 2);
    let r = post(
        gw.addr,
        "/v1/completions",
        Some(KEY),
        &json!({"model": "demo-model", "prompt": "x", "stream": true, "max_tokens": 3}),
    )
    .await;
    assert_eq!(sse_text(&r.body), " The quick brown");
}

#[tokio::test]
async fn graceful_shutdown_lets_open_streams_finish() {
    let up = stand_in(30, 10).await;
    let gw = gateway(config(&base_yaml(up.addr, "")), vec![]).await;
    let addr = gw.addr;
    let stream = tokio::spawn(async move {
        post(
            addr,
            "/v1/chat/completions",
            Some(KEY),
            &chat("hi", true, 10),
        )
        .await
    });
    // Wait until the stream is running, then shut down.
    up.first_chunk_sent().await;
    gw.shutdown().await;
    let r = stream.await.unwrap();
    assert_eq!(r.status, 200);
    assert!(
        r.body.ends_with("data: [DONE]\n\n"),
        "stream cut: {}",
        r.body
    );
    assert_eq!(
        sse_text(&r.body),
        " The quick brown fox jumps over the lazy dog."
    );
    // The listener is closed.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn reload_swaps_keys_without_dropping_streams() {
    let up = stand_in(20, 10).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gw.yaml");
    std::fs::write(&path, base_yaml(up.addr, "")).unwrap();
    let cfg = palisade_gateway::config::GatewayConfig::load(&path, &TestEnv).unwrap();
    let gw = gateway(cfg, vec![]).await;
    let addr = gw.addr;
    let stream = tokio::spawn(async move {
        post(
            addr,
            "/v1/chat/completions",
            Some(KEY),
            &chat("hi", true, 10),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The new configuration uses another key.
    std::fs::write(
        &path,
        base_yaml(up.addr, "").replace("TEST_KEY", "TEST_KEY_B"),
    )
    .unwrap();
    gw.gw.reload(&path, &TestEnv).unwrap();
    let r = post(
        gw.addr,
        "/v1/chat/completions",
        Some(KEY),
        &chat("hi", false, 2),
    )
    .await;
    assert_eq!(r.status, 401, "old key refused after reload");
    let r = post(
        gw.addr,
        "/v1/chat/completions",
        Some("sk-test-other"),
        &chat("hi", false, 2),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = stream.await.unwrap();
    assert!(
        r.body.ends_with("data: [DONE]\n\n"),
        "the open stream finished"
    );
    // A broken file keeps the running configuration.
    std::fs::write(&path, "upstreams: [").unwrap();
    assert!(gw.gw.reload(&path, &TestEnv).is_err());
    let r = post(
        gw.addr,
        "/v1/chat/completions",
        Some("sk-test-other"),
        &chat("hi", false, 2),
    )
    .await;
    assert_eq!(r.status, 200);
}

/// An upstream that answers every chat completion with `answer`, byte for byte.
async fn fixed_upstream(answer: &'static str) -> std::net::SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move || async move {
            ([(http::header::CONTENT_TYPE, "application/json")], answer)
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    addr
}

#[tokio::test]
async fn unchanged_answers_keep_the_upstream_bytes_and_redacted_ones_are_re_encoded() {
    // Field order and spacing no serializer of ours would produce.
    const CLEAN: &str = r#"{"usage": {"total_tokens": 5, "prompt_tokens": 3, "completion_tokens": 2}, "id": "x",  "choices": [{"message": {"content": "fine", "role": "assistant"}, "index": 0, "finish_reason": "stop"}], "object": "chat.completion", "model": "demo-model"}"#;
    const LEAKY: &str = r#"{"usage": {"total_tokens": 5, "prompt_tokens": 3, "completion_tokens": 2}, "id": "y",  "choices": [{"message": {"content": "key sk-SECRET here", "role": "assistant"}, "index": 0, "finish_reason": "stop"}], "object": "chat.completion", "model": "demo-model"}"#;
    for (answer, redacted) in [(CLEAN, false), (LEAKY, true)] {
        let up = fixed_upstream(answer).await;
        let gw = gateway(config(&base_yaml(up, "")), hooks()).await;
        let r = post(
            gw.addr,
            "/v1/chat/completions",
            Some(KEY),
            &chat("hi", false, 16),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        if redacted {
            assert_ne!(r.body, answer);
            assert_eq!(
                r.json()["choices"][0]["message"]["content"],
                "key [REDACTED] here"
            );
            assert!(!r.body.contains(WORD), "{}", r.body);
        } else {
            assert_eq!(r.body, answer);
        }
    }
}

/// A request body sent in several chunks, without `Content-Length`.
struct Chunks(std::collections::VecDeque<Bytes>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.pop_front().map(|b| Ok(http_body::Frame::data(b))))
    }
}

/// A chunked body (no length to check up front) is read to its end, in
/// full, and the size limit holds across chunks.
#[tokio::test]
async fn chunked_request_bodies_are_read_whole_and_limited() {
    let up = stand_in(0, 8).await;
    let gw = gateway(config(&base_yaml(up.addr, "")), hooks()).await;
    let addr = gw.addr;
    let send_chunks = move |parts: Vec<String>| async move {
        let req = http::Request::post(format!("http://{addr}/v1/chat/completions"))
            .header("authorization", format!("Bearer {KEY}"))
            .body(Body::new(Chunks(
                parts.into_iter().map(Bytes::from).collect(),
            )))
            .unwrap();
        let resp = client().request(req).await.unwrap();
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    };
    let text = chat("a question sent in pieces", false, 8).to_string();
    let (a, b) = text.split_at(text.len() / 3);
    let (b, c) = b.split_at(b.len() / 2);
    let (status, body) = send_chunks(vec![a.into(), String::new(), b.into(), c.into()]).await;
    assert_eq!(status, 200, "{body}");
    // The upstream got the whole question, re-encoded from the joined chunks.
    let sent = up.state.last_body.lock().unwrap().clone().unwrap();
    assert_eq!(
        sent["messages"][0]["content"], "a question sent in pieces",
        "{sent}"
    );
    // Over the 1 MiB limit in 64 KiB chunks: 413, with no length to check up front.
    let big = chat(&"a".repeat(2 << 20), false, 8).to_string();
    let parts: Vec<String> = big
        .as_bytes()
        .chunks(64 << 10)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let (status, body) = send_chunks(parts).await;
    assert_eq!(status, 413, "{body}");
}
