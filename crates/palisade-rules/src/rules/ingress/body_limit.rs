//! PLS-ING-004: Traefik route to a model server without a request-size
//! limit.
//!
//! What it does: for IngressRoutes that route to model servers, reports
//! each route whose Middlewares (chains followed) include no `buffering`
//! Middleware with `maxRequestBodyBytes`. Traefik itself sets no limit on
//! request bodies.
//!
//! Why it matters: prompts are request bodies; without a limit one request
//! can carry a context far larger than the model accepts, tying up the
//! tokenizer and memory of the server, and multimodal endpoints accept
//! images and audio of any size.
//!
//! Example: a route to vLLM with only a forwardAuth Middleware.
//!
//! Fix: a `buffering` Middleware with `maxRequestBodyBytes` in the chain.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use crate::rules::ai::model::{Via, is_serving, report_exposure};
use palisade_core::{References, RuleMeta, Severity};

pub(crate) struct BodyLimit;

static META: RuleMeta = RuleMeta {
    id: "PLS-ING-004",
    title: "Traefik route to a model server without a request-size limit",
    severity: Severity::Low,
    category: "ingress",
    rationale: "Traefik forwards request bodies of any size unless a `buffering` Middleware sets `maxRequestBodyBytes` (ingress-nginx defaults to 1 MiB). For model servers the body is the prompt: oversized prompts and multimodal payloads consume tokenizer time and server memory before the context-length check rejects them, an easy way to degrade the service for everyone (Unbounded Consumption).",
    remediation: "Add a Middleware `spec.buffering.maxRequestBodyBytes` sized for the largest legitimate request (e.g. 1-10 MiB for chat, more for vision) to the route, ideally in one `chain` Middleware together with authentication and rate limiting that every route to a model server uses.",
    references: References {
        owasp_llm: &["LLM10"],
        mitre: &["AML.T0029"],
        links: &["https://doc.traefik.io/traefik/middlewares/http/buffering/#maxrequestbodybytes"],
        ..References::NONE
    },
};

impl Rule for BodyLimit {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let ai = cx.ai();
        for (u, unit) in ai.units.iter().enumerate() {
            if !is_serving(unit) {
                continue;
            }
            for e in &ai.exposures[u] {
                if e.via != Via::IngressRoute || e.body_limit.is_some() {
                    continue;
                }
                report_exposure(
                    out,
                    unit,
                    e,
                    format!(
                        "{} reaches {} with no buffering maxRequestBodyBytes Middleware: prompts of any size are forwarded",
                        e.describe,
                        unit.describe()
                    ),
                );
            }
        }
    }
}
