//! PLS-AI-002: Inference endpoint exposed without a rate limit.
//!
//! What it does: reports each path from outside the cluster to a model
//! server (see PLS-AI-001) with no rate or concurrency limit in front: no
//! Traefik `rateLimit`/`inFlightReq` Middleware, no ingress-nginx
//! `limit-rps`/`limit-rpm`/`limit-connections`, no Envoy Gateway
//! BackendTrafficPolicy `rateLimit` or Kuadrant RateLimitPolicy /
//! TokenRateLimitPolicy, and no Palisade gateway sidecar. Paths restricted
//! to known source ranges are skipped.
//!
//! Why it matters: one LLM request can hold a GPU for seconds; without a
//! limit a single client (authenticated or not) can exhaust capacity and
//! run up the bill.
//!
//! Example: an Ingress to TGI without `limit-rps`.
//!
//! Fix: add a rate-limit Middleware or annotation, per client where
//! possible.

use super::model::{is_serving, report_exposure};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};

pub(crate) struct ExposedNoRateLimit;

static META: RuleMeta = RuleMeta {
    id: "PLS-AI-002",
    title: "Inference endpoint exposed without a rate limit",
    severity: Severity::Medium,
    category: "ai-serving",
    rationale: "A single LLM request can occupy a GPU for seconds and generate thousands of tokens. Without a rate or concurrency limit in front of the server, one client (even an authenticated one with a leaked key) can exhaust the capacity of every replica, starve other users and, with autoscaling, multiply the GPU bill: OWASP's Unbounded Consumption.",
    remediation: "Limit requests on the path: a Traefik `rateLimit` (and `inFlightReq`) Middleware on the route, ingress-nginx `nginx.ingress.kubernetes.io/limit-rps` / `limit-connections`, an Envoy Gateway `BackendTrafficPolicy` with `rateLimit` or a Kuadrant `TokenRateLimitPolicy` on the HTTPRoute, or the Palisade gateway's per-key token budgets. A LoadBalancer or NodePort Service cannot limit anything: put the server behind a gateway.",
    references: References {
        owasp_llm: &["LLM10"],
        mitre: &["AML.T0029", "AML.T0034"],
        links: &[
            "https://doc.traefik.io/traefik/middlewares/http/ratelimit/",
            "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#rate-limiting",
            "https://genai.owasp.org/llmrisk/llm102025-unbounded-consumption/",
        ],
        ..References::NONE
    },
};

impl Rule for ExposedNoRateLimit {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let ai = cx.ai();
        for (u, unit) in ai.units.iter().enumerate() {
            if !is_serving(unit) {
                continue;
            }
            let w = ai.workload(cx, u);
            let gateway_sidecar = w.containers.iter().any(|c| {
                palisade_k8s::ai::image_repository(c.image().unwrap_or(""))
                    .rsplit('/')
                    .next()
                    .is_some_and(|l| l == "palisade")
            });
            if gateway_sidecar {
                continue;
            }
            for e in &ai.exposures[u] {
                if e.rate_limit.is_some() || e.source_limit.is_some() {
                    continue;
                }
                let why = if e.via.is_l4() {
                    "no rate limit (a layer-4 Service cannot limit requests)"
                } else {
                    "no rate or concurrency limit on the path"
                };
                report_exposure(
                    out,
                    unit,
                    e,
                    format!(
                        "{} reaches {} with {why}: one client can exhaust its GPUs",
                        e.describe,
                        unit.describe()
                    ),
                );
            }
        }
    }
}
