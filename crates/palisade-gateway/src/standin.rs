//! A small OpenAI-compatible inference server for demos, tests and the
//! benchmark: real HTTP (hyper through axum), real server-sent events with a
//! delay between chunks, `usage` when asked, `max_tokens` obeyed. It does
//! not run a model: the answer is a fixed text of one-token words, or, when
//! the last user message contains `echo:`, the text after it, cut into
//! three-character chunks (so tests can place a secret across chunks).

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use http_body::Frame;
use serde_json::{Value, json};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;

/// Stand-in settings.
#[derive(Debug, Clone)]
pub struct StandInConfig {
    /// Delay between streamed chunks.
    pub chunk_delay: Duration,
    /// Words in an answer when `max_tokens` does not say less.
    pub answer_tokens: u64,
    /// Model IDs listed by `/v1/models`.
    pub models: Vec<String>,
}

impl Default for StandInConfig {
    fn default() -> Self {
        StandInConfig {
            chunk_delay: Duration::from_millis(20),
            answer_tokens: 16,
            models: vec!["demo-model".into()],
        }
    }
}

/// Observable state of a stand-in.
#[derive(Debug, Default)]
pub struct StandInState {
    /// When false, `/health` answers 503 and completions answer 503.
    pub down: AtomicBool,
    /// Requests served.
    pub requests: AtomicU64,
    /// Completion tokens produced.
    pub completion_tokens: AtomicU64,
    /// The last request body received (to check what the gateway forwarded).
    pub last_body: std::sync::Mutex<Option<Value>>,
    /// Streamed content chunks sent so far.
    pub chunks_sent: AtomicU64,
    /// When set, a stream stops after its first content chunk until notified
    /// (lets a test prove chunks are passed on before the answer is complete).
    pub gate: std::sync::Mutex<Option<Arc<tokio::sync::Notify>>>,
    /// With `gate`: the stream stops after this many more content chunks
    /// than the first (0: after the first).
    pub gate_after: AtomicU64,
    /// TCP connections accepted.
    pub connections: AtomicU64,
}

#[derive(Clone)]
struct S {
    cfg: Arc<StandInConfig>,
    st: Arc<StandInState>,
}

const WORDS: &[&str] = &[
    " The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", ".",
];

/// The stand-in's router.
pub fn router(cfg: StandInConfig, st: Arc<StandInState>) -> Router {
    let s = S {
        cfg: Arc::new(cfg),
        st,
    };
    Router::new()
        .route("/health", get(health))
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat))
        .route("/v1/completions", post(chat))
        .route("/v1/responses", post(responses))
        .route("/v1/embeddings", post(embeddings))
        .route("/v2/health/ready", get(health))
        .with_state(s)
}

async fn health(State(s): State<S>) -> StatusCode {
    if s.st.down.load(Ordering::Relaxed) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
}

async fn models(State(s): State<S>) -> Response {
    let data: Vec<Value> = s
        .cfg
        .models
        .iter()
        .map(|m| json!({"id": m, "object": "model", "created": 0, "owned_by": "stand-in"}))
        .collect();
    json_response(StatusCode::OK, &json!({"object": "list", "data": data}))
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut r = Response::new(Body::from(v.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn last_user_text(body: &Value) -> String {
    if let Some(p) = body.get("prompt").and_then(Value::as_str) {
        return p.to_owned();
    }
    if let Some(i) = body.get("input").and_then(Value::as_str) {
        return i.to_owned();
    }
    let mut last = String::new();
    for m in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if m.get("role").and_then(Value::as_str) == Some("user") {
            last = match m.get("content") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(parts)) => parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => String::new(),
            };
        }
    }
    last
}

/// The answer's pieces, each counted as one token.
fn answer(body: &Value, cfg: &StandInConfig, max: u64) -> Vec<String> {
    let text = last_user_text(body);
    if let Some((_, echo)) = text.split_once("echo:") {
        let chars: Vec<char> = echo.trim_start().chars().collect();
        return chars
            .chunks(3)
            .map(|c| c.iter().collect::<String>())
            .take(usize::try_from(max).unwrap_or(usize::MAX))
            .collect();
    }
    (0..cfg.answer_tokens.min(max))
        .map(|i| WORDS[(i as usize) % WORDS.len()].to_owned())
        .collect()
}

fn prompt_tokens(body: &Value) -> u64 {
    let t = last_user_text(body);
    let n = t.split_whitespace().count() as u64;
    n + 8
}

async fn read_json(s: &S, body: Body) -> Result<Value, Response> {
    let b = http_body_util::BodyExt::collect(http_body_util::Limited::new(body, 8 << 20))
        .await
        .map_err(|_| json_response(StatusCode::BAD_REQUEST, &json!({"error": {"message": "unreadable body", "type": "invalid_request_error", "param": null, "code": null}})))?
        .to_bytes();
    let v: Value = serde_json::from_slice(&b).map_err(|e| {
        json_response(StatusCode::BAD_REQUEST, &json!({"error": {"message": format!("invalid JSON: {e}"), "type": "invalid_request_error", "param": null, "code": null}}))
    })?;
    s.st.requests.fetch_add(1, Ordering::Relaxed);
    *s.st
        .last_body
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(v.clone());
    Ok(v)
}

fn unavailable() -> Response {
    json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &json!({"error": {"message": "stand-in is down", "type": "server_error", "param": null, "code": null}}),
    )
}

async fn chat(State(s): State<S>, req: axum::extract::Request) -> Response {
    if s.st.down.load(Ordering::Relaxed) {
        return unavailable();
    }
    let chat = req.uri().path() == "/v1/chat/completions";
    let body = match read_json(&s, req.into_body()).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("demo-model")
        .to_owned();
    let max = body
        .get("max_completion_tokens")
        .or_else(|| body.get("max_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX);
    let pieces = answer(&body, &s.cfg, max);
    let usage = json!({"prompt_tokens": prompt_tokens(&body), "completion_tokens": pieces.len(), "total_tokens": prompt_tokens(&body) + pieces.len() as u64});
    s.st.completion_tokens
        .fetch_add(pieces.len() as u64, Ordering::Relaxed);
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let id = "cmpl-standin";
    if !stream {
        let text: String = pieces.concat();
        let choice = if chat {
            json!({"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"})
        } else {
            json!({"index": 0, "text": text, "finish_reason": "stop"})
        };
        let obj = if chat {
            "chat.completion"
        } else {
            "text_completion"
        };
        return json_response(
            StatusCode::OK,
            &json!({"id": id, "object": obj, "created": 0, "model": model, "choices": [choice], "usage": usage}),
        );
    }
    let include_usage = body
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let delay = s.cfg.chunk_delay;
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    let gate =
        s.st.gate
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
    let st = Arc::clone(&s.st);
    tokio::spawn(async move {
        let obj = if chat {
            "chat.completion.chunk"
        } else {
            "text_completion"
        };
        let mk = |choice: Value, usage: Option<&Value>| {
            let mut v =
                json!({"id": id, "object": obj, "created": 0, "model": model, "choices": [choice]});
            if include_usage {
                v["usage"] = usage.cloned().unwrap_or(Value::Null);
            }
            Bytes::from(format!("data: {v}\n\n"))
        };
        if chat && tx.send(mk(json!({"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}), None)).await.is_err() {
            return;
        }
        for p in &pieces {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let c = if chat {
                json!({"index": 0, "delta": {"content": p}, "finish_reason": null})
            } else {
                json!({"index": 0, "text": p, "finish_reason": null})
            };
            if tx.send(mk(c, None)).await.is_err() {
                return;
            }
            if st.chunks_sent.fetch_add(1, Ordering::Relaxed)
                == st.gate_after.load(Ordering::Relaxed)
                && let Some(g) = &gate
            {
                g.notified().await;
            }
        }
        let fin = if chat {
            json!({"index": 0, "delta": {}, "finish_reason": "stop"})
        } else {
            json!({"index": 0, "text": "", "finish_reason": "stop"})
        };
        if tx.send(mk(fin, None)).await.is_err() {
            return;
        }
        if include_usage {
            let v = json!({"id": id, "object": obj, "created": 0, "model": model, "choices": [], "usage": usage});
            if tx
                .send(Bytes::from(format!("data: {v}\n\n")))
                .await
                .is_err()
            {
                return;
            }
        }
        let _ = tx.send(Bytes::from_static(b"data: [DONE]\n\n")).await;
    });
    sse_response(rx)
}

fn sse_response(rx: mpsc::Receiver<Bytes>) -> Response {
    let mut r = Response::new(Body::new(ChannelBody(rx)));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    r.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    r
}

async fn responses(State(s): State<S>, req: axum::extract::Request) -> Response {
    if s.st.down.load(Ordering::Relaxed) {
        return unavailable();
    }
    let body = match read_json(&s, req.into_body()).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("demo-model")
        .to_owned();
    let max = body
        .get("max_output_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX);
    let pieces = answer(&body, &s.cfg, max);
    let text: String = pieces.concat();
    let usage = json!({"input_tokens": prompt_tokens(&body), "output_tokens": pieces.len(), "total_tokens": prompt_tokens(&body) + pieces.len() as u64});
    s.st.completion_tokens
        .fetch_add(pieces.len() as u64, Ordering::Relaxed);
    let full = json!({"id": "resp-standin", "object": "response", "model": model, "status": "completed",
        "output": [{"type": "message", "id": "msg-1", "role": "assistant", "content": [{"type": "output_text", "text": text, "annotations": []}]}],
        "usage": usage});
    if !body.get("stream").and_then(Value::as_bool).unwrap_or(false) {
        return json_response(StatusCode::OK, &full);
    }
    let delay = s.cfg.chunk_delay;
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    tokio::spawn(async move {
        let ev = |name: &str, v: Value| Bytes::from(format!("event: {name}\ndata: {v}\n\n"));
        if tx.send(ev("response.created", json!({"type": "response.created", "response": {"id": "resp-standin", "status": "in_progress"}}))).await.is_err() {
            return;
        }
        for p in &pieces {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let v = json!({"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": p});
            if tx.send(ev("response.output_text.delta", v)).await.is_err() {
                return;
            }
        }
        let done = json!({"type": "response.output_text.done", "output_index": 0, "content_index": 0, "text": text});
        if tx
            .send(ev("response.output_text.done", done))
            .await
            .is_err()
        {
            return;
        }
        let _ = tx
            .send(ev(
                "response.completed",
                json!({"type": "response.completed", "response": full}),
            ))
            .await;
    });
    sse_response(rx)
}

async fn embeddings(State(s): State<S>, req: axum::extract::Request) -> Response {
    let body = match read_json(&s, req.into_body()).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let n = match body.get("input") {
        Some(Value::Array(a)) => a.len(),
        _ => 1,
    };
    let data: Vec<Value> = (0..n)
        .map(|i| json!({"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3, 0.4]}))
        .collect();
    let pt = prompt_tokens(&body);
    json_response(
        StatusCode::OK,
        &json!({"object": "list", "data": data, "model": body.get("model"), "usage": {"prompt_tokens": pt, "total_tokens": pt}}),
    )
}

/// A body fed by a channel.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

/// Serves the stand-in on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    cfg: StandInConfig,
    st: Arc<StandInState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let counter = Arc::clone(&st);
    let listener = listener.tap_io(move |_| {
        counter.connections.fetch_add(1, Ordering::Relaxed);
    });
    axum::serve(listener, router(cfg, st))
        .with_graceful_shutdown(shutdown)
        .await
}
