//! PLS-AI-006: Model server runs code from the model repository.
//!
//! What it does: flags containers started with `--trust-remote-code` (vLLM,
//! SGLang, TGI, the KServe Hugging Face server's `--trust_remote_code`) or
//! with `TRUST_REMOTE_CODE=true` (TGI), whatever the image.
//!
//! Why it matters: the flag makes Transformers import and run the Python
//! files shipped in the model repository (`modeling_*.py`). Whoever can
//! change the repository, or the revision the server resolves, runs code
//! in the pod, with its GPU, credentials and network.
//!
//! Example: `args: [--model, some-org/new-model, --trust-remote-code]`.
//!
//! Fix: remove the flag; if a model needs custom code, vendor and review
//! it, pin `--revision` to a commit and verify the files.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;
use palisade_k8s::ai::Cli;

pub(crate) struct TrustRemoteCode;

static META: RuleMeta = RuleMeta {
    id: "PLS-AI-006",
    title: "Model server runs code from the model repository",
    severity: Severity::High,
    category: "ai-supply-chain",
    rationale: "`--trust-remote-code` tells Hugging Face Transformers to download and execute the Python modules that come with the model (`auto_map` in `config.json`). That code runs inside the serving pod with its GPU, its Hugging Face and cloud credentials and its network access. Anyone who can push to the model repository, or change which revision the server resolves, gets code execution in the cluster.",
    remediation: "Remove `--trust-remote-code` (and `TRUST_REMOTE_CODE=true`). Models supported natively by vLLM, SGLang and TGI do not need it. If a model really needs custom code, review the code, pin `--revision` to a commit hash, and verify the model files before serving (an init container running `palisade model verify`).",
    references: References {
        owasp_llm: &["LLM03"],
        mitre: &["AML.T0010.003", "AML.T0011.000"],
        links: &[
            "https://huggingface.co/docs/transformers/en/models#custom-models",
            "https://docs.vllm.ai/en/latest/usage/security.html",
        ],
        ..References::NONE
    },
};

impl Rule for TrustRemoteCode {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for c in &w.containers {
            let cli = Cli::of(c);
            if let Some(p) = cli.bool_flag(&["--trust-remote-code", "--trust_remote_code"]) {
                out.report_container(
                    w.object,
                    c.name,
                    p,
                    format!(
                        "container {:?} passes --trust-remote-code: Python code from the model repository runs in the pod",
                        c.name
                    ),
                );
            } else if let Some((Some(v), p)) = cli.env("TRUST_REMOTE_CODE") {
                if v.trim().eq_ignore_ascii_case("true") || v.trim() == "1" {
                    out.report_container(
                        w.object,
                        c.name,
                        p,
                        format!(
                            "container {:?} sets TRUST_REMOTE_CODE={v}: Python code from the model repository runs in the pod",
                            c.name
                        ),
                    );
                }
            }
        }
    }
}
