//! PLS-AI-001: Inference endpoint exposed without authentication.
//!
//! What it does: for every model server (vLLM, llm-d, SGLang, TGI, Triton,
//! NIM, Ollama, llama.cpp, KServe, Seldon...), follows every path from
//! outside the cluster to its pods (public LoadBalancer and NodePort
//! Services, Ingress, Traefik IngressRoute, Gateway API routes, OpenShift
//! Routes, KServe's own ingress) and reports each path with nothing that
//! authenticates: no Traefik forwardAuth/basicAuth/digestAuth Middleware (a
//! `chain` is followed), no ingress-nginx `auth-url`/`auth-type`, no Envoy
//! Gateway SecurityPolicy or Kuadrant AuthPolicy on the route or its
//! Gateway, no KServe authentication, no source-range restriction, and no
//! authentication in the pod itself (`--api-key`/`VLLM_API_KEY`, an
//! oauth2-proxy or kube-rbac-proxy sidecar).
//!
//! Why it matters: model servers answer anyone who can reach them. An open
//! endpoint is free GPU time for strangers (denial of wallet), and lets
//! them extract the model's behaviour or reach the server's admin routes.
//!
//! Example: a Traefik IngressRoute on `websecure` to a vLLM Service with
//! no middlewares.
//!
//! Fix: put a forwardAuth Middleware (e.g. to the Palisade gateway) or
//! another authenticating layer on the route.

use super::model::{is_serving, report_exposure, server_auth};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};

pub(crate) struct ExposedNoAuth;

static META: RuleMeta = RuleMeta {
    id: "PLS-AI-001",
    title: "Inference endpoint exposed without authentication",
    severity: Severity::Critical,
    category: "ai-serving",
    rationale: "vLLM, SGLang, TGI, Triton, NIM, Ollama, llama.cpp and the KServe model servers serve every request that reaches them; most have no authentication at all, and vLLM's `--api-key` covers only the `/v1` routes. A path from outside the cluster with nothing that authenticates in front lets anyone run prompts on your GPUs (cost harvesting, denial of wallet), probe and extract the model, and call the servers' unauthenticated admin routes.",
    remediation: "Authenticate on the path: a Traefik `forwardAuth` Middleware (for example to the Palisade gateway) or `basicAuth` in the route's `middlewares`, ingress-nginx `auth-url`, an Envoy Gateway `SecurityPolicy` or Kuadrant `AuthPolicy` on the HTTPRoute, or KServe's `security.opendatahub.io/enable-auth: \"true\"`. Do not publish model servers with `type: LoadBalancer` or `NodePort`; keep them `ClusterIP` behind an authenticating gateway, and give OpenAI-compatible servers an `--api-key` from a Secret as a second layer.",
    references: References {
        owasp_llm: &["LLM10", "LLM02"],
        mitre: &["AML.T0040", "AML.T0034", "AML.T0049"],
        links: &[
            "https://docs.vllm.ai/en/latest/usage/security.html",
            "https://doc.traefik.io/traefik/middlewares/http/forwardauth/",
            "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#external-authentication",
            "https://genai.owasp.org/llmrisk/llm102025-unbounded-consumption/",
        ],
        ..References::NONE
    },
};

impl Rule for ExposedNoAuth {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let ai = cx.ai();
        for (u, unit) in ai.units.iter().enumerate() {
            if !is_serving(unit) {
                continue;
            }
            if let Some(_auth) = server_auth(ai.workload(cx, u), unit) {
                continue;
            }
            for e in &ai.exposures[u] {
                if e.auth.is_some() || e.source_limit.is_some() {
                    continue;
                }
                report_exposure(
                    out,
                    unit,
                    e,
                    format!(
                        "{} reaches {} with no authentication on the path or in the pod: anyone who can reach it can use the model",
                        e.describe,
                        unit.describe()
                    ),
                );
            }
        }
    }
}
