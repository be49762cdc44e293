//! The OpenAI request surface the gateway understands: which route, which
//! model, whether it streams, how many tokens it may produce, and the text
//! the filters and the tokenizer look at. Bodies are kept as JSON values so
//! fields the gateway does not know pass through untouched.

use crate::error::ApiError;
use serde_json::{Map, Value};

/// The OpenAI routes the gateway parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /v1/chat/completions`.
    ChatCompletions,
    /// `POST /v1/completions`.
    Completions,
    /// `POST /v1/embeddings`.
    Embeddings,
    /// `POST /v1/responses`.
    Responses,
}

impl Endpoint {
    /// The route's path.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "/v1/chat/completions",
            Endpoint::Completions => "/v1/completions",
            Endpoint::Embeddings => "/v1/embeddings",
            Endpoint::Responses => "/v1/responses",
        }
    }

    /// The short name used in metrics.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "chat",
            Endpoint::Completions => "completions",
            Endpoint::Embeddings => "embeddings",
            Endpoint::Responses => "responses",
        }
    }

    /// The endpoint for a path.
    pub fn from_path(p: &str) -> Option<Endpoint> {
        match p {
            "/v1/chat/completions" => Some(Endpoint::ChatCompletions),
            "/v1/completions" => Some(Endpoint::Completions),
            "/v1/embeddings" => Some(Endpoint::Embeddings),
            "/v1/responses" => Some(Endpoint::Responses),
            _ => None,
        }
    }
}

/// Where a piece of prompt text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// System or developer instructions.
    System,
    /// The user.
    User,
    /// A tool result or retrieved content.
    Tool,
    /// Earlier assistant turns.
    Assistant,
}

/// A parsed, validated request.
#[derive(Debug, Clone)]
pub struct ParsedRequest {
    /// The route.
    pub endpoint: Endpoint,
    /// The body as received (an object).
    pub body: Map<String, Value>,
    /// `model`.
    pub model: String,
    /// Whether the client asked for a stream.
    pub stream: bool,
    /// Whether the client itself asked for `stream_options.include_usage`.
    pub client_wants_usage: bool,
    /// The completion token limit the client asked for.
    pub max_tokens: Option<u64>,
    /// Number of choices (`n`).
    pub n: u64,
    /// Prompt text by source, in order.
    pub texts: Vec<(Source, String)>,
    /// Prompt items that are already tokens (completions/embeddings with integer arrays).
    pub pretokenized: u64,
    /// Number of messages (for per-message token overhead).
    pub messages: u64,
}

fn str_field<'a>(
    body: &'a Map<String, Value>,
    key: &str,
    required: bool,
) -> Result<Option<&'a str>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) if !required => Ok(None),
        None | Some(Value::Null) => Err(ApiError::bad_request(
            format!("you must provide a {key} parameter"),
            Some(key),
        )),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::bad_request(
            format!("{key} must be a string"),
            Some(key),
        )),
    }
}

fn uint_field(body: &Map<String, Value>, key: &str) -> Result<Option<u64>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| {
            ApiError::bad_request(format!("{key} must be a non-negative integer"), Some(key))
        }),
        Some(_) => Err(ApiError::bad_request(
            format!("{key} must be an integer"),
            Some(key),
        )),
    }
}

/// Collects the text of an OpenAI `content` value: a string, or an array of
/// parts with `text` (`text`, `input_text`, `output_text`) fields.
fn content_text(v: &Value, out: &mut String, param: &str) -> Result<(), ApiError> {
    match v {
        Value::Null => Ok(()),
        Value::String(s) => {
            out.push_str(s);
            Ok(())
        }
        Value::Array(parts) => {
            for p in parts {
                match p {
                    Value::String(s) => out.push_str(s),
                    Value::Object(o) => {
                        if let Some(Value::String(t)) = o.get("text") {
                            if !out.is_empty() {
                                out.push('\n');
                            }
                            out.push_str(t);
                        }
                    }
                    _ => {
                        return Err(ApiError::bad_request(
                            format!("{param} parts must be objects"),
                            Some(param),
                        ));
                    }
                }
            }
            Ok(())
        }
        _ => Err(ApiError::bad_request(
            format!("{param} must be a string or an array of parts"),
            Some(param),
        )),
    }
}

fn role_source(role: &str) -> Option<Source> {
    match role {
        "system" | "developer" => Some(Source::System),
        "user" => Some(Source::User),
        "tool" | "function" => Some(Source::Tool),
        "assistant" => Some(Source::Assistant),
        _ => None,
    }
}

/// Parses a prompt that is a string, an array of strings, an array of
/// tokens or an array of token arrays (completions, embeddings).
fn prompt_like(
    v: &Value,
    param: &str,
    texts: &mut Vec<(Source, String)>,
    tokens: &mut u64,
) -> Result<(), ApiError> {
    let bad = || {
        ApiError::bad_request(
            format!("{param} must be a string, an array of strings or an array of tokens"),
            Some(param),
        )
    };
    match v {
        Value::String(s) => texts.push((Source::User, s.clone())),
        Value::Array(items) => {
            for i in items {
                match i {
                    Value::String(s) => texts.push((Source::User, s.clone())),
                    Value::Number(n) if n.is_u64() => *tokens += 1,
                    Value::Array(toks) if toks.iter().all(|t| t.as_u64().is_some()) => {
                        *tokens += toks.len() as u64;
                    }
                    _ => return Err(bad()),
                }
            }
        }
        _ => return Err(bad()),
    }
    Ok(())
}

impl ParsedRequest {
    /// Parses and validates a body for `endpoint`.
    pub fn parse(endpoint: Endpoint, bytes: &[u8]) -> Result<ParsedRequest, ApiError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            ApiError::bad_request(
                format!("we could not parse the JSON body of your request: {e}"),
                None,
            )
        })?;
        let Value::Object(body) = value else {
            return Err(ApiError::bad_request(
                "the request body must be a JSON object",
                None,
            ));
        };
        let model = str_field(&body, "model", true)?
            .unwrap_or_default()
            .to_owned();
        if model.is_empty() || model.len() > 256 {
            return Err(ApiError::bad_request(
                "model must be 1 to 256 characters",
                Some("model"),
            ));
        }
        let stream = match body.get("stream") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(ApiError::bad_request(
                    "stream must be a boolean",
                    Some("stream"),
                ));
            }
        };
        if stream && endpoint == Endpoint::Embeddings {
            return Err(ApiError::bad_request(
                "embeddings do not stream",
                Some("stream"),
            ));
        }
        let client_wants_usage = body
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let max_tokens = match endpoint {
            Endpoint::ChatCompletions => match uint_field(&body, "max_completion_tokens")? {
                Some(m) => Some(m),
                None => uint_field(&body, "max_tokens")?,
            },
            Endpoint::Completions => uint_field(&body, "max_tokens")?,
            Endpoint::Responses => uint_field(&body, "max_output_tokens")?,
            Endpoint::Embeddings => None,
        };
        let n = uint_field(&body, "n")?.unwrap_or(1);
        if n == 0 || n > 128 {
            return Err(ApiError::bad_request(
                "n must be between 1 and 128",
                Some("n"),
            ));
        }
        let mut texts = Vec::new();
        let mut pretokenized = 0;
        let mut messages = 0;
        match endpoint {
            Endpoint::ChatCompletions => {
                let Some(Value::Array(msgs)) = body.get("messages") else {
                    return Err(ApiError::bad_request(
                        "messages must be a non-empty array",
                        Some("messages"),
                    ));
                };
                if msgs.is_empty() {
                    return Err(ApiError::bad_request(
                        "messages must be a non-empty array",
                        Some("messages"),
                    ));
                }
                for (i, m) in msgs.iter().enumerate() {
                    let param = format!("messages[{i}]");
                    let Value::Object(m) = m else {
                        return Err(ApiError::bad_request(
                            format!("{param} must be an object"),
                            Some(&param),
                        ));
                    };
                    let role = match m.get("role") {
                        Some(Value::String(r)) => r.as_str(),
                        _ => {
                            return Err(ApiError::bad_request(
                                format!("{param}.role must be a string"),
                                Some(&format!("{param}.role")),
                            ));
                        }
                    };
                    let source = role_source(role).ok_or_else(|| {
                        ApiError::bad_request(
                            format!("{param}.role {role:?} must be system, developer, user, assistant or tool"),
                            Some(&format!("{param}.role")),
                        )
                    })?;
                    let mut text = String::new();
                    if let Some(c) = m.get("content") {
                        content_text(c, &mut text, &format!("{param}.content"))?;
                    }
                    // Tool calls carry arguments the model wrote; count them as tokens.
                    if let Some(Value::Array(calls)) = m.get("tool_calls") {
                        for c in calls {
                            if let Some(Value::String(a)) = c.pointer("/function/arguments") {
                                text.push('\n');
                                text.push_str(a);
                            }
                        }
                    }
                    texts.push((source, text));
                    messages += 1;
                }
            }
            Endpoint::Completions => {
                let p = body.get("prompt").ok_or_else(|| {
                    ApiError::bad_request("you must provide a prompt parameter", Some("prompt"))
                })?;
                prompt_like(p, "prompt", &mut texts, &mut pretokenized)?;
            }
            Endpoint::Embeddings => {
                let p = body.get("input").ok_or_else(|| {
                    ApiError::bad_request("you must provide an input parameter", Some("input"))
                })?;
                prompt_like(p, "input", &mut texts, &mut pretokenized)?;
            }
            Endpoint::Responses => {
                if let Some(i) = str_field(&body, "instructions", false)? {
                    texts.push((Source::System, i.to_owned()));
                }
                match body.get("input") {
                    Some(Value::String(s)) => texts.push((Source::User, s.clone())),
                    Some(Value::Array(items)) => {
                        for (i, item) in items.iter().enumerate() {
                            let param = format!("input[{i}]");
                            let Value::Object(o) = item else {
                                return Err(ApiError::bad_request(
                                    format!("{param} must be an object"),
                                    Some(&param),
                                ));
                            };
                            let source = match (
                                o.get("type").and_then(Value::as_str),
                                o.get("role").and_then(Value::as_str),
                            ) {
                                (Some("function_call_output"), _) => Source::Tool,
                                (_, Some(r)) => role_source(r).unwrap_or(Source::User),
                                _ => Source::User,
                            };
                            let mut text = String::new();
                            if let Some(c) = o.get("content") {
                                content_text(c, &mut text, &format!("{param}.content"))?;
                            }
                            if let Some(Value::String(out)) = o.get("output") {
                                text.push_str(out);
                            }
                            texts.push((source, text));
                            messages += 1;
                        }
                    }
                    _ => {
                        return Err(ApiError::bad_request(
                            "input must be a string or an array of items",
                            Some("input"),
                        ));
                    }
                }
            }
        }
        Ok(ParsedRequest {
            endpoint,
            body,
            model,
            stream,
            client_wants_usage,
            max_tokens,
            n,
            texts,
            pretokenized,
            messages,
        })
    }

    /// The body to send upstream: `max_tokens` set to `completion_cap`, and for
    /// streams `stream_options.include_usage` forced so the answer can be
    /// settled exactly.
    pub fn upstream_body(&self, completion_cap: u64) -> Map<String, Value> {
        self.rewrite(self.body.clone(), completion_cap)
    }

    /// [`ParsedRequest::upstream_body`] without copying: moves the body out
    /// (`self.body` is left empty).
    pub fn take_upstream_body(&mut self, completion_cap: u64) -> Map<String, Value> {
        let b = std::mem::take(&mut self.body);
        self.rewrite(b, completion_cap)
    }

    fn rewrite(&self, mut b: Map<String, Value>, completion_cap: u64) -> Map<String, Value> {
        match self.endpoint {
            Endpoint::ChatCompletions => {
                if b.contains_key("max_completion_tokens") {
                    b.insert("max_completion_tokens".into(), completion_cap.into());
                } else {
                    b.insert("max_tokens".into(), completion_cap.into());
                }
            }
            Endpoint::Completions => {
                b.insert("max_tokens".into(), completion_cap.into());
            }
            Endpoint::Responses => {
                b.insert("max_output_tokens".into(), completion_cap.into());
            }
            Endpoint::Embeddings => {}
        }
        if self.stream
            && matches!(
                self.endpoint,
                Endpoint::ChatCompletions | Endpoint::Completions
            )
        {
            let opts = b
                .entry("stream_options")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(o) = opts {
                o.insert("include_usage".into(), Value::Bool(true));
            } else {
                let mut o = Map::new();
                o.insert("include_usage".into(), Value::Bool(true));
                *opts = Value::Object(o);
            }
        }
        b
    }

    /// All prompt text joined, for the audit log when prompts are logged.
    pub fn prompt_text(&self) -> String {
        let mut s = String::new();
        for (_, t) in &self.texts {
            if !s.is_empty() {
                s.push('\n');
            }
            s.push_str(t);
        }
        s
    }
}

/// Token usage as reported by an upstream (chat/completions use
/// `prompt_tokens`/`completion_tokens`, responses use `input_tokens`/`output_tokens`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt: u64,
    /// Completion tokens.
    pub completion: u64,
}

impl Usage {
    /// Reads a `usage` object.
    #[allow(clippy::many_single_char_names)]
    pub fn from_json(v: &Value) -> Option<Usage> {
        let o = v.as_object()?;
        let get = |a: &str, b: &str| {
            o.get(a)
                .and_then(Value::as_u64)
                .or_else(|| o.get(b).and_then(Value::as_u64))
        };
        let prompt = get("prompt_tokens", "input_tokens");
        let completion = get("completion_tokens", "output_tokens");
        let total = o.get("total_tokens").and_then(Value::as_u64);
        match (prompt, completion, total) {
            (None, None, None) => None,
            (p, c, t) => {
                let p = p.unwrap_or(0);
                let c = c.unwrap_or_else(|| t.unwrap_or(0).saturating_sub(p));
                Some(Usage {
                    prompt: p,
                    completion: c,
                })
            }
        }
    }

    /// Prompt plus completion.
    pub fn total(self) -> u64 {
        self.prompt.saturating_add(self.completion)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_request_parses_and_caps() {
        let r = ParsedRequest::parse(
            Endpoint::ChatCompletions,
            br#"{"model":"m","stream":true,"max_tokens":9000,"messages":[{"role":"system","content":"be nice"},{"role":"user","content":[{"type":"text","text":"hi"}]}],"extra":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(r.model, "m");
        assert!(r.stream);
        assert_eq!(r.max_tokens, Some(9000));
        assert_eq!(r.texts[1], (Source::User, "hi".into()));
        let up = r.upstream_body(256);
        assert_eq!(up["max_tokens"], 256);
        assert_eq!(up["stream_options"]["include_usage"], true);
        assert_eq!(up["extra"]["x"], 1);
        let mut r = r;
        assert_eq!(r.take_upstream_body(256), up);
        assert!(r.body.is_empty());
    }

    #[test]
    fn bad_bodies_are_openai_errors_naming_the_param() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (b"{", None),
            (b"[]", None),
            (br#"{"messages":[]}"#, Some("model")),
            (br#"{"model":"m"}"#, Some("messages")),
            (
                br#"{"model":"m","messages":[{"role":"x","content":"a"}]}"#,
                Some("messages[0].role"),
            ),
            (
                br#"{"model":"m","messages":[{"role":"user"}],"max_tokens":-1}"#,
                Some("max_tokens"),
            ),
            (
                br#"{"model":"m","messages":[{"role":"user","content":5}]}"#,
                Some("messages[0].content"),
            ),
            (
                br#"{"model":"m","messages":[{"role":"user"}],"stream":"yes"}"#,
                Some("stream"),
            ),
            (br#"{"model":7,"messages":[]}"#, Some("model")),
        ];
        for (body, param) in cases {
            let e = ParsedRequest::parse(Endpoint::ChatCompletions, body).unwrap_err();
            assert_eq!(e.status, 400);
            assert_eq!(
                e.param.as_deref(),
                *param,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn other_endpoints() {
        let c = ParsedRequest::parse(
            Endpoint::Completions,
            br#"{"model":"m","prompt":["a",[1,2,3]]}"#,
        )
        .unwrap();
        assert_eq!(c.pretokenized, 3);
        let e = ParsedRequest::parse(Endpoint::Embeddings, br#"{"model":"m","input":"hello"}"#)
            .unwrap();
        assert_eq!(e.texts.len(), 1);
        assert!(
            ParsedRequest::parse(
                Endpoint::Embeddings,
                br#"{"model":"m","input":"x","stream":true}"#
            )
            .is_err()
        );
        let r = ParsedRequest::parse(
            Endpoint::Responses,
            br#"{"model":"m","instructions":"sys","input":[{"role":"user","content":[{"type":"input_text","text":"q"}]},{"type":"function_call_output","output":"tool says"}],"max_output_tokens":5}"#,
        )
        .unwrap();
        assert_eq!(r.texts[0].0, Source::System);
        assert_eq!(r.texts[2], (Source::Tool, "tool says".into()));
        assert_eq!(r.upstream_body(3)["max_output_tokens"], 3);
    }

    #[test]
    fn usage_both_spellings() {
        let u = Usage::from_json(
            &serde_json::json!({"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}),
        )
        .unwrap();
        assert_eq!(u.total(), 7);
        let u = Usage::from_json(&serde_json::json!({"input_tokens":3,"output_tokens":1})).unwrap();
        assert_eq!(
            u,
            Usage {
                prompt: 3,
                completion: 1
            }
        );
        assert!(Usage::from_json(&serde_json::json!({})).is_none());
        assert!(Usage::from_json(&serde_json::json!(null)).is_none());
    }
}
