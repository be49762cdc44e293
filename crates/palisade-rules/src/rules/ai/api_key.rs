//! PLS-AI-007: OpenAI-compatible server reachable without an API key.
//!
//! What it does: reports vLLM, llm-d, SGLang, TGI and llama.cpp servers
//! that a Service selects, and so any pod in the cluster can call, when
//! the server has no API key of its own (`--api-key`, `VLLM_API_KEY`,
//! `LLAMA_API_KEY`, `--api-key-file`) and no authenticating sidecar.
//! Servers already reported by PLS-AI-001 (public and unauthenticated)
//! are skipped.
//!
//! Why it matters: authentication at the edge does not cover the Service;
//! a compromised pod, a notebook or a port-forward reaches the server
//! directly and uses it without a key.
//!
//! Example: vLLM behind an Ingress with `auth-url`, started without
//! `--api-key`.
//!
//! Fix: pass `--api-key` from a Secret (`VLLM_API_KEY` for vLLM).

use super::model::{is_serving, server_auth};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};

pub(crate) struct ApiKey;

static META: RuleMeta = RuleMeta {
    id: "PLS-AI-007",
    title: "OpenAI-compatible server reachable without an API key",
    severity: Severity::Medium,
    category: "ai-serving",
    rationale: "Authentication at the ingress protects one path. The server's Service is reachable from every pod in the cluster (unless NetworkPolicy says otherwise) and through `kubectl port-forward`, so a compromised workload, a notebook or a curious user can call the model directly and bypass the gateway's authentication, quotas and audit. vLLM, SGLang, TGI and llama.cpp can require a bearer key themselves.",
    remediation: "Start the server with an API key from a Secret: `VLLM_API_KEY` (`env.valueFrom.secretKeyRef`) or `--api-key $(KEY)` for vLLM, `--api-key` for SGLang and TGI, `LLAMA_API_KEY` or `--api-key-file` for llama.cpp; and restrict ingress to the server with a NetworkPolicy that admits only the gateway.",
    references: References {
        owasp_llm: &["LLM10"],
        mitre: &["AML.T0040"],
        links: &[
            "https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html",
            "https://docs.vllm.ai/en/latest/usage/security.html",
        ],
        ..References::NONE
    },
};

impl Rule for ApiKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let ai = cx.ai();
        for (u, unit) in ai.units.iter().enumerate() {
            if !is_serving(unit)
                || !unit
                    .ai
                    .engine
                    .is_some_and(palisade_k8s::ai::Engine::takes_api_key)
            {
                continue;
            }
            let w = ai.workload(cx, u);
            if server_auth(w, unit).is_some() || ai.services[u].is_empty() {
                continue;
            }
            // PLS-AI-001 already reports a public path without any auth.
            if ai.exposures[u]
                .iter()
                .any(|e| e.auth.is_none() && e.source_limit.is_none())
            {
                continue;
            }
            let Some(i) = unit.ai.server else { continue };
            let c = &w.containers[i];
            let svcs: Vec<String> = ai.services[u]
                .iter()
                .map(|s| format!("{:?}", s.name))
                .collect();
            out.report_container(
                w.object,
                c.name,
                c.path.key("args"),
                format!(
                    "{} in container {:?} has no --api-key and is reachable in the cluster through Service {}: any pod can use it without a key",
                    unit.ai.engine.map_or("server", |e| e.name()),
                    c.name,
                    svcs.join(", ")
                ),
            );
        }
    }
}
