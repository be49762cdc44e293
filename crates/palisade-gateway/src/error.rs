//! Denials and errors as OpenAI-style JSON:
//! `{"error": {"message", "type", "param", "code"}}`, with the rule ID that
//! decided and, for limits, `Retry-After`.

use axum::body::Body;
use http::{HeaderValue, Response, StatusCode};
use serde::Serialize;

/// Decision rule IDs (`PLS-GW-*`), one per reason a request is refused or marked.
pub mod rules {
    /// No or unknown credentials.
    pub const UNAUTHENTICATED: &str = "PLS-GW-001";
    /// The tenant may not call this model.
    pub const MODEL_NOT_ALLOWED: &str = "PLS-GW-002";
    /// A token budget would be exceeded.
    pub const BUDGET: &str = "PLS-GW-003";
    /// Request rate limit.
    pub const REQUEST_RATE: &str = "PLS-GW-004";
    /// Token rate limit.
    pub const TOKEN_RATE: &str = "PLS-GW-005";
    /// Concurrency cap.
    pub const CONCURRENCY: &str = "PLS-GW-006";
    /// Prompt injection detected.
    pub const INJECTION: &str = "PLS-GW-007";
    /// Secrets or PII redacted from output.
    pub const OUTPUT_REDACTED: &str = "PLS-GW-008";
    /// Token-rate anomaly.
    pub const ANOMALY: &str = "PLS-GW-009";
    /// Budget store unreachable (fail closed).
    pub const STORE_UNAVAILABLE: &str = "PLS-GW-010";
    /// Malformed or oversized request.
    pub const BAD_REQUEST: &str = "PLS-GW-011";
    /// No healthy upstream, or the upstream failed.
    pub const UPSTREAM: &str = "PLS-GW-012";
    /// ForwardAuth without the body (`forwardBody: false`): no model, token or content checks.
    pub const FORWARD_AUTH_NO_BODY: &str = "PLS-GW-013";
}

/// A refusal: status, OpenAI error fields, the deciding rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Human-readable message. Never contains a credential or prompt text.
    pub message: String,
    /// OpenAI error type, e.g. `invalid_request_error`.
    pub kind: &'static str,
    /// The offending parameter, if any.
    pub param: Option<String>,
    /// Machine-readable code, e.g. `rate_limit_exceeded`.
    pub code: &'static str,
    /// Seconds after which a retry may succeed.
    pub retry_after: Option<u64>,
    /// The deciding rule.
    pub rule: &'static str,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: &'a str,
    rule: &'a str,
}

impl ApiError {
    /// A 400 for a malformed request.
    pub fn bad_request(message: impl Into<String>, param: Option<&str>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            kind: "invalid_request_error",
            param: param.map(str::to_owned),
            code: "invalid_request",
            retry_after: None,
            rule: rules::BAD_REQUEST,
        }
    }

    /// A 401.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            message: message.into(),
            kind: "authentication_error",
            param: None,
            code: "invalid_api_key",
            retry_after: None,
            rule: rules::UNAUTHENTICATED,
        }
    }

    /// A 403 for a model the tenant may not use.
    pub fn model_not_allowed(model: &str) -> Self {
        ApiError {
            status: StatusCode::FORBIDDEN,
            message: format!("this key may not use model {model:?}"),
            kind: "permission_error",
            param: Some("model".into()),
            code: "model_not_allowed",
            retry_after: None,
            rule: rules::MODEL_NOT_ALLOWED,
        }
    }

    /// A 429 for a limit.
    pub fn limited(rule: &'static str, message: String, retry_after: u64) -> Self {
        let (kind, code) = if rule == rules::BUDGET {
            ("insufficient_quota", "token_budget_exceeded")
        } else if rule == rules::CONCURRENCY {
            ("rate_limit_error", "concurrency_limit_exceeded")
        } else {
            ("rate_limit_error", "rate_limit_exceeded")
        };
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            message,
            kind,
            param: None,
            code,
            retry_after: Some(retry_after.max(1)),
            rule,
        }
    }

    /// A 503 when the budget store cannot be reached and the gateway fails closed.
    pub fn store_unavailable() -> Self {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "the budget store is unreachable; requests are refused until it returns"
                .into(),
            kind: "server_error",
            param: None,
            code: "budget_store_unavailable",
            retry_after: Some(1),
            rule: rules::STORE_UNAVAILABLE,
        }
    }

    /// A 502/503/504 for upstream trouble.
    pub fn upstream(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            kind: "server_error",
            param: None,
            code: "upstream_error",
            retry_after: None,
            rule: rules::UPSTREAM,
        }
    }

    /// A 400 for a prompt refused by the injection detector.
    pub fn injection(score: f32, hits: &[String]) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: format!(
                "the request was refused: prompt injection suspected (score {score:.2}; {})",
                if hits.is_empty() {
                    "no rule named".to_owned()
                } else {
                    hits.join(", ")
                }
            ),
            kind: "invalid_request_error",
            param: Some("messages".into()),
            code: "prompt_injection",
            retry_after: None,
            rule: rules::INJECTION,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        serde_json::to_string(&Envelope {
            error: Inner {
                message: &self.message,
                kind: self.kind,
                param: self.param.as_deref(),
                code: self.code,
                rule: self.rule,
            },
        })
        .unwrap_or_else(|_| String::from("{\"error\":{\"message\":\"error\"}}"))
    }

    /// The HTTP response.
    pub fn response(&self) -> Response<Body> {
        let mut r = Response::new(Body::from(self.body()));
        *r.status_mut() = self.status;
        let h = r.headers_mut();
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(s) = self.retry_after {
            h.insert(http::header::RETRY_AFTER, HeaderValue::from(s));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            h.insert(
                http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer"),
            );
        }
        h.insert("x-palisade-rule", HeaderValue::from_static(self.rule));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_openai_shaped() {
        let e = ApiError::limited(rules::BUDGET, "daily budget".into(), 30);
        let v: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
        assert_eq!(v["error"]["type"], "insufficient_quota");
        assert_eq!(v["error"]["code"], "token_budget_exceeded");
        assert!(v["error"]["param"].is_null());
        assert_eq!(v["error"]["message"], "daily budget");
        let r = e.response();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "30");
    }
}
