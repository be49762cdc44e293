//! PLS-KA-016: model-registry or Hugging Face credentials were read.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct ModelCredentialsRead;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-016",
        title: "Model registry or Hugging Face credentials read",
        severity: Severity::High,
        category: "audit-ai",
        rationale: "Hugging Face tokens, model-registry (MLflow, W&B) and model-storage credentials (KServe's `storage-config`, S3 keys of model buckets) let the reader pull private weights or push poisoned ones.",
        remediation: "Confirm the read; scope the credential to read-only on the models the workload serves, rotate it, and restrict who can get these Secrets.",
        references: References {
            owasp_llm: &["LLM03"],
            mitre: &["T1552.007", "AML.T0010"],
            ..References::NONE
        },
    },
    falco: &[],
};

const MARKS: [&str; 11] = [
    "hf-token",
    "hf_token",
    "hf-secret",
    "huggingface",
    "hugging-face",
    "mlflow",
    "model-registry",
    "wandb",
    "storage-config",
    "model-storage",
    "s3-model",
];

/// Secret names that hold model-supply-chain credentials.
pub(crate) fn is_model_credential(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "hf" || n.starts_with("hf-") || MARKS.iter().any(|m| n.contains(m))
}

impl Rule for ModelCredentialsRead {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, _: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if ev.resource() != "secrets"
            || ev.verb != "get"
            || !ev.complete()
            || !ev.succeeded()
            || cx.is_expected_secret_reader()
        {
            return;
        }
        let name = ev.name();
        if is_model_credential(name) {
            out.push(Hit::new(
                "objectRef.name",
                format!("read model-supply-chain credential Secret {}", cx.object()),
            ));
        }
    }
}
