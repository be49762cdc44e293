//! Traefik ForwardAuth: `/authz` answers whether Traefik may forward a
//! request. Traefik sends the client's headers plus `X-Forwarded-Method`,
//! `X-Forwarded-Uri`, `X-Forwarded-Host` and `X-Forwarded-For`, and with
//! `forwardBody: true` the body. The gateway authenticates, checks the
//! model, runs the request filters and the limits, and answers 200 with
//! `X-Tenant-Id` (for `authResponseHeaders`) or the denial with its status,
//! body and `Retry-After`, which Traefik returns to the client.
//!
//! In this mode the gateway never sees the answer: output filtering is
//! impossible, and each request is charged its whole reservation (prompt
//! estimate plus the capped `max_tokens`) because the real usage is unknown.
//! Concurrency caps are not enforced (there is no end-of-request signal).
//! Exact settlement and output filtering need the inline proxy mode.

use crate::audit::Decision;
use crate::hooks::RequestCtx;
use crate::openai::Endpoint;
use crate::proxy::{
    AppState, Outcome, authenticate, check_request, completion_cap, read_body, reserve,
};
use crate::store::Limits;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use http::HeaderValue;
use std::sync::Arc;

/// The ForwardAuth handler.
pub async fn authz(State(state): State<AppState>, req: Request) -> Response {
    let rt = state.runtime();
    let mut o = Outcome::new(&state, Arc::clone(&rt), "authz");
    let (parts, body) = req.into_parts();
    let h = &parts.headers;
    let fwd = |n: &str| {
        h.get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let method = fwd("x-forwarded-method");
    let uri = fwd("x-forwarded-uri");
    let path = uri.split('?').next().unwrap_or_default().to_owned();
    let tenant = match authenticate(&rt, h, &mut o) {
        Ok(t) => t,
        Err(e) => return o.deny(&e),
    };
    let bytes = match read_body(body, h, rt.cfg.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return o.deny(&e),
    };
    let base = rt
        .cfg
        .tenant(&tenant.id)
        .map(Limits::from)
        .unwrap_or_default();
    // No end-of-request signal reaches /authz: no concurrency cap here.
    let limits = Limits {
        max_concurrent: None,
        ..base
    };
    let mut tokens = 0;
    let endpoint = Endpoint::from_path(&path).filter(|_| method.eq_ignore_ascii_case("POST"));
    if let (Some(ep), false) = (endpoint, bytes.is_empty()) {
        let mut ctx = RequestCtx::default();
        let parsed = match check_request(&state, &rt, &tenant, ep, &bytes, &mut ctx, &mut o) {
            Ok(p) => p,
            Err(e) => return o.deny(&e),
        };
        let prompt = crate::tokens::estimate_prompt(&parsed);
        tokens = prompt.saturating_add(completion_cap(&parsed, &tenant).saturating_mul(parsed.n));
        o.prompt_estimate = tokens;
    } else if endpoint.is_some() {
        o.rules.push(crate::error::rules::FORWARD_AUTH_NO_BODY);
    }
    if let Err(e) = reserve(&state, &rt, &tenant, tokens, &mut o, Some(&limits)).await {
        return o.deny(&e);
    }
    // Charged at reservation: the answer is never seen here.
    o.status = 200;
    let reserved = o.reserved_tokens;
    let res = o.reservation.as_ref().map(|r| crate::openai::Usage {
        prompt: r.tokens,
        completion: 0,
    });
    o.finish(
        Decision::Allow,
        res.or(Some(crate::openai::Usage::default())),
        0,
        0,
        None,
    );
    let mut r = Response::new(Body::empty());
    if let Ok(v) = HeaderValue::from_str(&tenant.id) {
        r.headers_mut().insert("x-tenant-id", v);
    }
    r.headers_mut()
        .insert("x-palisade-reserved-tokens", HeaderValue::from(reserved));
    r
}
