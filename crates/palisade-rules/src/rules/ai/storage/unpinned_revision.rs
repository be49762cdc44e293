//! PLS-STO-007: Model pulled from a hub without a pinned revision.
//!
//! What it does: for vLLM, llm-d, SGLang, TGI and the KServe Hugging Face
//! server, finds the model argument (`vllm serve <id>`, `--model`,
//! `--model-path`, `--model-id`/`MODEL_ID`, `--model_id`) and, when it is a
//! Hugging Face Hub ID (`org/name`, not a path or URI), reports it unless
//! `--revision` (`REVISION`, `--model_revision`) pins a full 40-character
//! commit hash.
//!
//! Why it matters: without a commit the server downloads whatever the
//! repository's `main` branch holds at start: a change upstream (or a
//! compromised account) changes your model silently.
//!
//! Example: `--model meta-llama/Meta-Llama-3-8B-Instruct` and no
//! `--revision`.
//!
//! Fix: `--revision <commit sha>`.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;
use palisade_k8s::ai::{Cli, Engine, engine_of};

pub(crate) struct UnpinnedRevision;

static META: RuleMeta = RuleMeta {
    id: "PLS-STO-007",
    title: "Model pulled from a hub without a pinned revision",
    severity: Severity::Low,
    category: "ai-supply-chain",
    rationale: "A Hugging Face Hub model ID without a revision resolves to the tip of the repository's default branch every time a replica starts. The model you tested is not necessarily the one that serves: a new commit upstream, a force-push or a compromised publisher account changes weights, tokenizer, chat template or custom code in production without any change on your side, the model-level equivalent of a `latest` image tag.",
    remediation: "Pin the revision to a commit hash: `--revision <40-hex sha>` (vLLM, SGLang, TGI `--revision`/`REVISION`, the KServe Hugging Face server `--model_revision`), or mirror the model into your own storage or an OCI modelcar and verify its signature before serving.",
    references: References {
        owasp_llm: &["LLM03"],
        mitre: &["AML.T0010.003"],
        links: &[
            "https://huggingface.co/docs/hub/models-downloading",
            "https://docs.vllm.ai/en/latest/cli/serve.html",
        ],
        ..References::NONE
    },
};

/// Whether `s` looks like a Hub repository ID (`org/name`).
fn is_hub_id(s: &str) -> bool {
    let Some((org, name)) = s.split_once('/') else {
        return false;
    };
    let ok = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !p.starts_with('.')
    };
    !s.contains("://") && !s.starts_with('/') && !s.starts_with('$') && ok(org) && ok(name)
}

fn is_commit(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Rule for UnpinnedRevision {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for c in &w.containers {
            let Some(engine) = engine_of(c) else { continue };
            let cli = Cli::of(c);
            let (model, path) = match engine {
                Engine::Vllm | Engine::LlmD => {
                    let words = cli.words();
                    let positional = words
                        .windows(2)
                        .find(|p| p[0] == "serve")
                        .map(|p| p[1].clone())
                        .filter(|m| !m.starts_with('-'));
                    match (cli.flag(&["--model"]), positional) {
                        (Some(f), _) => f,
                        (None, Some(m)) => (m, c.path.key("args")),
                        (None, None) => continue,
                    }
                }
                Engine::Sglang => match cli.flag(&["--model-path", "--model"]) {
                    Some(f) => f,
                    None => continue,
                },
                Engine::Tgi => match cli.flag(&["--model-id"]) {
                    Some(f) => f,
                    None => match cli.env("MODEL_ID") {
                        Some((Some(v), p)) => (v.to_owned(), p),
                        _ => continue,
                    },
                },
                Engine::KServeRuntime => match cli.flag(&["--model_id"]) {
                    Some(f) => f,
                    None => continue,
                },
                _ => continue,
            };
            if !is_hub_id(&model) {
                continue;
            }
            let rev = cli
                .flag(&["--revision", "--model_revision"])
                .map(|(v, _)| v)
                .or_else(|| cli.env("REVISION").and_then(|(v, _)| v.map(str::to_owned)));
            if rev.as_deref().is_some_and(is_commit) {
                continue;
            }
            let why = match rev {
                Some(r) => format!("revision {r:?} is a branch or tag, not a commit"),
                None => "no --revision".to_owned(),
            };
            out.report_container(
                w.object,
                c.name,
                path,
                format!(
                    "{} in container {:?} loads Hub model {model:?} with {why}: whatever the repository holds at start is served",
                    engine.name(),
                    c.name
                ),
            );
        }
    }
}
