//! PLS-AI-008: Ollama API reachable without an authenticating proxy.
//!
//! What it does: reports Ollama containers whose API can be reached (a
//! Service selects the pod, a path from outside leads to it, or the pod
//! uses the host network or a host port) while it listens on every
//! interface (`OLLAMA_HOST` unset, which the official image defaults to
//! `0.0.0.0:11434`, or set to `0.0.0.0`) and no authenticating proxy sits
//! in the pod.
//!
//! Why it matters: Ollama has no authentication. Whoever reaches port 11434
//! can run prompts, pull models from anywhere (`/api/pull`), push and
//! delete them, and exploit the API's history of path-traversal and
//! file-disclosure bugs (CVE-2024-37032 "Probllama", CVE-2024-39720,
//! CVE-2024-39722).
//!
//! Example: `ollama/ollama` behind a ClusterIP Service with no sidecar.
//!
//! Fix: bind Ollama to `127.0.0.1` and put an authenticating proxy
//! (oauth2-proxy, kube-rbac-proxy, the Palisade gateway) in the pod.

use super::model::server_auth;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::ai::{Cli, Engine};

pub(crate) struct Ollama;

static META: RuleMeta = RuleMeta {
    id: "PLS-AI-008",
    title: "Ollama API reachable without an authenticating proxy",
    severity: Severity::High,
    category: "ai-serving",
    rationale: "Ollama's HTTP API has no authentication at all, and the official image listens on `0.0.0.0:11434`. Anyone who reaches the port can generate with every model, pull arbitrary models onto the node's disk, copy and delete models, and exploit the API's known vulnerabilities: path traversal to remote code execution through `/api/pull` (CVE-2024-37032, \"Probllama\"), file existence disclosure and model theft (CVE-2024-39720, CVE-2024-39722). Internet scans find tens of thousands of exposed Ollama servers.",
    remediation: "Set `OLLAMA_HOST=127.0.0.1:11434` and put an authenticating reverse proxy in the same pod (oauth2-proxy, kube-rbac-proxy or the Palisade gateway) as the only port the Service targets; restrict ingress to the pod with a NetworkPolicy; keep Ollama at a patched version.",
    references: References {
        owasp_llm: &["LLM10", "LLM03"],
        mitre: &["AML.T0040", "AML.T0049"],
        links: &[
            "https://github.com/ollama/ollama/blob/main/docs/faq.md#how-do-i-configure-ollama-server",
            "https://nvd.nist.gov/vuln/detail/CVE-2024-37032",
            "https://nvd.nist.gov/vuln/detail/CVE-2024-39720",
        ],
        ..References::NONE
    },
};

impl Rule for Ollama {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let ai = cx.ai();
        for (u, unit) in ai.units.iter().enumerate() {
            if unit.ai.engine != Some(Engine::Ollama) {
                continue;
            }
            let wl = ai.workload(cx, u);
            if server_auth(wl, unit).is_some() {
                continue;
            }
            let Some(i) = unit.ai.server else { continue };
            let c = &wl.containers[i];
            let cli = Cli::of(c);
            let (host, path) = match cli.env("OLLAMA_HOST") {
                Some((v, p)) => (v.unwrap_or("0.0.0.0"), p),
                None => ("0.0.0.0 (image default)", c.path.clone()),
            };
            let h = host.trim().trim_start_matches("http://");
            if h.starts_with("127.") || h.starts_with("localhost") || h.starts_with("[::1]") {
                continue;
            }
            let host_net = wl.flag("hostNetwork")
                || c.node
                    .list("ports")
                    .iter()
                    .any(|p| p.get("hostPort").is_some());
            let reach: Vec<String> = ai.exposures[u]
                .iter()
                .map(|e| e.describe.clone())
                .chain(
                    ai.services[u]
                        .iter()
                        .map(|s| format!("Service {:?}", s.name)),
                )
                .chain(host_net.then(|| "the node's network".to_owned()))
                .collect();
            if reach.is_empty() {
                continue;
            }
            out.report_container(
                wl.object,
                c.name,
                path,
                format!(
                    "Ollama in container {:?} listens on {host} without authentication and is reachable through {}: anyone who reaches it can run, pull and delete models",
                    c.name,
                    reach.join(", ")
                ),
            );
        }
    }
}
