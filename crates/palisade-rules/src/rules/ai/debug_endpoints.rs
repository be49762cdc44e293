//! PLS-AI-012: Debug or admin endpoints enabled on a model server.
//!
//! What it does: flags server settings that add unauthenticated control
//! routes: vLLM `VLLM_SERVER_DEV_MODE=1` (`/sleep`, `/wake_up`,
//! `/reset_prefix_cache`, `/collective_rpc`, `/server_info`) and
//! `VLLM_TORCH_PROFILER_DIR` (`/start_profile`, `/stop_profile`); Triton
//! `--model-control-mode=explicit` without `--http-restricted-api` /
//! `--grpc-restricted-protocol` for `model-repository` (anyone can load and
//! unload models); llama.cpp `--props` (changes global properties through
//! `POST /props`); Ollama `OLLAMA_DEBUG`.
//!
//! Why it matters: these routes are not covered by API keys and let a
//! caller stop the server, read its configuration, load other models or
//! fill the disk with profiler traces.
//!
//! Example: `env: [{name: VLLM_SERVER_DEV_MODE, value: "1"}]`.
//!
//! Fix: remove them from production servers.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;
use palisade_k8s::ai::{Cli, Engine, engine_of};

pub(crate) struct DebugEndpoints;

static META: RuleMeta = RuleMeta {
    id: "PLS-AI-012",
    title: "Debug or admin endpoints enabled on a model server",
    severity: Severity::Medium,
    category: "ai-serving",
    rationale: "Development switches add control routes to the same HTTP port as inference, without authentication (vLLM checks `--api-key` only under `/v1`): vLLM's dev mode exposes `/sleep`, `/reset_prefix_cache` and `/collective_rpc`, its profiler `/start_profile`; Triton's explicit model control lets any client load and unload models from the repository; llama.cpp `--props` lets clients change server properties. A caller can take the model offline, read internal state or load a model of their choice.",
    remediation: "Remove `VLLM_SERVER_DEV_MODE` and `VLLM_TORCH_PROFILER_DIR` from production; run Triton with `--model-control-mode=none` or restrict the repository API (`--http-restricted-api=model-repository:<header>=<secret>` and `--grpc-restricted-protocol`); drop llama.cpp `--props`; unset `OLLAMA_DEBUG`.",
    references: References {
        owasp_llm: &["LLM10"],
        mitre: &["AML.T0029", "AML.T0049"],
        links: &[
            "https://docs.vllm.ai/en/latest/usage/security.html",
            "https://docs.nvidia.com/deeplearning/triton-inference-server/user-guide/docs/customization_guide/inference_protocols.html#limit-endpoint-access-beta",
            "https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md",
        ],
        ..References::NONE
    },
};

impl Rule for DebugEndpoints {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for c in &w.containers {
            let Some(engine) = engine_of(c) else { continue };
            let cli = Cli::of(c);
            let mut hit = |path, what: String| {
                out.report_container(
                    w.object,
                    c.name,
                    path,
                    format!("{} in container {:?}: {what}", engine.name(), c.name),
                );
            };
            match engine {
                Engine::Vllm | Engine::LlmD => {
                    if let Some((Some(v), p)) = cli.env("VLLM_SERVER_DEV_MODE") {
                        if v.trim() == "1" || v.trim().eq_ignore_ascii_case("true") {
                            hit(p, "VLLM_SERVER_DEV_MODE adds unauthenticated /sleep, /reset_prefix_cache and /collective_rpc routes".into());
                        }
                    }
                    if let Some((v, p)) = cli.env("VLLM_TORCH_PROFILER_DIR") {
                        if v.is_none_or(|s| !s.trim().is_empty()) {
                            hit(p, "VLLM_TORCH_PROFILER_DIR adds unauthenticated /start_profile and /stop_profile routes".into());
                        }
                    }
                }
                Engine::Triton => {
                    if let Some((mode, p)) = cli.flag(&["--model-control-mode"]) {
                        let restricted = cli
                            .flag(&["--http-restricted-api"])
                            .is_some_and(|(v, _)| v.contains("model-repository"));
                        if mode == "explicit" && !restricted {
                            hit(p, "--model-control-mode=explicit lets any client load and unload models through the repository API (no --http-restricted-api for model-repository)".into());
                        }
                    }
                }
                Engine::LlamaCpp => {
                    if let Some(p) = cli.bool_flag(&["--props"]) {
                        hit(
                            p,
                            "--props lets any client change server properties through POST /props"
                                .into(),
                        );
                    }
                }
                Engine::Ollama => {
                    if let Some((Some(v), p)) = cli.env("OLLAMA_DEBUG") {
                        if !matches!(v.trim(), "" | "0" | "false") {
                            hit(p, "OLLAMA_DEBUG logs prompts and internal state".into());
                        }
                    }
                }
                _ => {}
            }
        }
    }
}
